package bench

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
