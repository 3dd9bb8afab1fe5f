// Package results is the schema of the benchmark result files that Chorus's bench harness
// (bench) and the peer programs (bench/peers/*) write and the report reads: latency
// distributions, a peer's result, and the JSON writer. It imports no Chorus component, so a peer
// program that measures another system links none of Chorus's stack.
package results

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"time"
)

// Dist summarizes a set of durations in milliseconds.
type Dist struct {
	N    int     `json:"n"`
	Min  float64 `json:"min_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// Millis converts durations to sorted milliseconds.
func Millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	sort.Float64s(out)
	return out
}

// quantile of sorted values (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// SummarizeSorted returns the distribution of sorted millisecond values (see Millis).
func SummarizeSorted(sorted []float64) Dist {
	d := Dist{N: len(sorted)}
	if len(sorted) == 0 {
		return d
	}
	sum := 0.0
	for _, v := range sorted {
		sum += v
	}
	d.Min, d.Max, d.Mean = sorted[0], sorted[len(sorted)-1], sum/float64(len(sorted))
	d.P50, d.P90, d.P99 = quantile(sorted, 0.5), quantile(sorted, 0.9), quantile(sorted, 0.99)
	return d
}

// Summarize returns the distribution of durations.
func Summarize(ds []time.Duration) Dist { return SummarizeSorted(Millis(ds)) }

// WriteJSON writes v as indented JSON.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
