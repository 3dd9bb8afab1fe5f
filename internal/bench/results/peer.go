package results

// Peer is what a peer benchmark (bench/peers/*) writes to <out>/peers/<system>.json.
type Peer struct {
	System  string `json:"system"`
	Version string `json:"version"`
	// Setup says how the peer ran: broker, workers, concurrency.
	Setup      string          `json:"setup"`
	Throughput *PeerThroughput `json:"throughput,omitempty"`
	Latency    []PeerLatency   `json:"latency,omitempty"`
	// Utilization runs sleep tasks on as many slots as Chorus's utilization scenario.
	Utilization []PeerUtilization `json:"utilization,omitempty"`
	// Error is set when the peer could not run.
	Error string `json:"error,omitempty"`
}

// PeerThroughput is a peer's zero-work throughput run.
type PeerThroughput struct {
	Tasks     int     `json:"tasks"`
	Clients   int     `json:"clients"`
	WallS     float64 `json:"wall_s"`
	TasksPerS float64 `json:"tasks_per_s"`
}

// PeerLatency is a peer's latency for one way of submitting (names as in the bench's LatencyMode).
type PeerLatency struct {
	Name     string `json:"name"`
	Batch    int    `json:"batch"`
	Tasks    int    `json:"tasks"`
	Submit   Dist   `json:"submit"`
	EndToEnd Dist   `json:"end_to_end"`
}

// PeerUtilization is a peer's utilization run: busy / (slots × span from the first start to the last
// end), busy and span measured inside the tasks.
type PeerUtilization struct {
	TaskMs      int     `json:"task_ms"`
	Tasks       int     `json:"tasks"`
	Slots       int     `json:"slots"`
	BusyS       float64 `json:"busy_s"`
	WallS       float64 `json:"wall_s"`
	Utilization float64 `json:"utilization"`
}

// Share splits total tasks over parts clients as evenly as possible (the first total%parts get one
// more), as Chorus's scenarios and the peers share out their submissions.
func Share(total, parts int) []int {
	out := make([]int, parts)
	for i := range out {
		out[i] = total / parts
		if i < total%parts {
			out[i]++
		}
	}
	return out
}
