package bench

import (
	"math"
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

// ms converts durations to sorted milliseconds.
func ms(ds []time.Duration) []float64 {
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

// summarize returns the distribution of sorted millisecond values.
func summarize(sorted []float64) Dist {
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

// Point is one sample of a time series.
type Point struct {
	T float64 `json:"t_s"`
	V float64 `json:"v"`
}

// rateSeries turns cumulative counts sampled over time into a rate per second between samples.
func rateSeries(samples []Point) []Point {
	var out []Point
	for i := 1; i < len(samples); i++ {
		dt := samples[i].T - samples[i-1].T
		if dt <= 0 {
			continue
		}
		out = append(out, Point{T: samples[i].T, V: (samples[i].V - samples[i-1].V) / dt})
	}
	return out
}

// Summarize returns the distribution of durations (for the peers' results).
func Summarize(ds []time.Duration) Dist { return summarize(ms(ds)) }
