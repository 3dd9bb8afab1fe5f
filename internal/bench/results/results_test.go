package results

import (
	"math"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	d := Summarize(ds)
	want := Dist{N: 100, Min: 1, P50: 50, P90: 90, P99: 99, Max: 100, Mean: 50.5}
	if d != want {
		t.Fatalf("Summarize(1..100 ms) = %+v, want %+v", d, want)
	}
	if e := Summarize(nil); e.N != 0 {
		t.Fatalf("Summarize(nil) = %+v, want N=0", e)
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Fatal("quantile of nothing should be NaN")
	}
}
