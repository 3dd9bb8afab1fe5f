package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chorus-hpc/chorus/internal/bench/results"
)

// TestReportRatios writes scenario and peer results as the runs do and checks the report's ratios.
func TestReportRatios(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(writeJSON(filepath.Join(out, "throughput.json"), ThroughputResult{Scenario: ScenarioThroughput,
		Runs: []ThroughputRun{{Name: "go", Workers: "Go", Tasks: 1000, TasksPerS: 2000}}}))
	must(writeJSON(filepath.Join(out, "latency.json"), LatencyResult{Scenario: ScenarioLatency, Modes: []LatencyMode{
		{Name: "one at a time", Batch: 1, Tasks: 10, EndToEnd: sampledDist{Dist: results.Dist{N: 10, P50: 2}}},
		{Name: "batches of 100", Batch: 100, Tasks: 100, EndToEnd: sampledDist{Dist: results.Dist{N: 100, P50: 10}}},
	}}))
	must(os.MkdirAll(filepath.Join(out, "peers"), 0o755))
	must(writeJSON(filepath.Join(out, "peers", "slowq.json"), results.Peer{System: "slowq", Version: "1.0", Setup: "one worker",
		Throughput: &results.PeerThroughput{Tasks: 1000, TasksPerS: 500},
		Latency: []results.PeerLatency{{Name: "one at a time", Batch: 1, EndToEnd: results.Dist{N: 10, P50: 6}},
			{Name: "batches of 100", Batch: 100, EndToEnd: results.Dist{N: 100, P50: 5}}}}))
	must(writeJSON(filepath.Join(out, "peers", "broken.json"), results.Peer{System: "broken", Error: "could not start | at all"}))
	must(writeJSON(filepath.Join(out, "memory.error.json"), map[string]string{"scenario": "memory", "error": "valkey went away"}))
	must(WriteReport(out))
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	must(err)
	for _, want := range []string{
		"| slowq 1.0 | one worker | 500 | 4.00 | 6.00 | 3.00 | 5.00 | 0.50 |", // 2000/500, 6/2, 5/10
		"| broken  |  | failed: could not start / at all |",
		"- memory: valkey went away",
		"## 2. Throughput",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	var rep Report
	if ok, err := readJSON(filepath.Join(out, "report.json"), &rep); !ok || err != nil {
		t.Fatalf("report.json: %v %v", ok, err)
	}
	if len(rep.Peers) != 2 || rep.Errors["memory"] == "" || rep.goThroughput() != 2000 {
		t.Fatalf("report.json = %+v", rep)
	}
}
