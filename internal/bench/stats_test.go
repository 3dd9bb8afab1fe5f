package bench

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

func TestRateSeriesAndPeak(t *testing.T) {
	t.Parallel()
	// 100 tasks/s for 2 s, then 300 tasks/s for 1 s, sampled every 0.5 s.
	var cum []Point
	v := 0.0
	for i := 0; i <= 6; i++ {
		ts := float64(i) * 0.5
		cum = append(cum, Point{T: ts, V: v})
		if ts < 2 {
			v += 50
		} else {
			v += 150
		}
	}
	rates := rateSeries(cum)
	if len(rates) != 6 || rates[0].V != 100 || rates[5].V != 300 {
		t.Fatalf("rateSeries = %+v, want 100 then 300 tasks/s", rates)
	}
	if p := peakWindow(cum, time.Second); p != 300 {
		t.Fatalf("peakWindow = %v, want 300", p)
	}
	sm := smooth([]Point{{0, 0}, {1, 3}, {2, 6}}, 3)
	if sm[1].V != 3 || sm[0].V != 1.5 || sm[2].V != 4.5 {
		t.Fatalf("smooth = %+v", sm)
	}
}

func TestCategory(t *testing.T) {
	t.Parallel()
	for fn, want := range map[string]string{
		"syscall.Syscall6":                            "syscalls (network I/O)",
		"runtime.mallocgc":                            "GC and allocation",
		"runtime.futex":                               "scheduler, channels and locks",
		"google.golang.org/protobuf/proto.Marshal":    "protobuf encoding",
		"google.golang.org/grpc.(*Server).Serve":      "gRPC and HTTP/2",
		"github.com/valkey-io/valkey-go.(*pipe).Do":   "valkey-go (RESP)",
		"github.com/chorus-hpc/chorus/agent.(*a).Run": "Chorus code",
		"crypto/sha256.block":                         "other",
	} {
		if got := category(fn); got != want {
			t.Errorf("category(%q) = %q, want %q", fn, got, want)
		}
	}
}

func TestInfoField(t *testing.T) {
	t.Parallel()
	info := "# Memory\r\nused_memory:1234\r\nused_memory_human:1.2K\r\n"
	if v, ok := infoField(info, "used_memory"); !ok || v != "1234" {
		t.Fatalf("infoField = %q, %v", v, ok)
	}
	if _, ok := infoField(info, "nope"); ok {
		t.Fatal("infoField found a missing field")
	}
}

func TestProcCPU(t *testing.T) {
	t.Parallel()
	if _, err := procCPU(1 << 30); err == nil {
		t.Fatal("procCPU of a process that does not exist should fail")
	}
	d, err := procCPU(selfPID())
	if err != nil || d < 0 {
		t.Fatalf("procCPU(self) = %v, %v", d, err)
	}
}
