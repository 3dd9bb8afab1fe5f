package bench

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// ProfileAnalysis summarizes a CPU profile of the bench process during a throughput run, per task.
type ProfileAnalysis struct {
	File  string `json:"file"`
	Tasks int    `json:"tasks"`
	// TotalUsPerTask is the profiled CPU time of the bench process divided by the tasks.
	TotalUsPerTask float64 `json:"total_us_per_task"`
	// Components is the CPU per task by pprof label component (gateway, agent; "client" is the
	// benchmark's own clients and samplers, "unlabelled" mostly the GC and runtime).
	Components []Cost `json:"components"`
	// Categories classify each sample by its leaf function: syscalls (network I/O), GC and
	// allocation, scheduler, protobuf, gRPC/HTTP2, valkey-go, Chorus code, other.
	Categories []Cost `json:"categories"`
	// Owners attribute each sample to the nearest non-standard-library frame from the leaf up (so a
	// socket write inside valkey-go counts for valkey-go); stacks of only runtime and standard
	// library frames are the Go runtime's (GC, scheduler).
	Owners []Cost `json:"owners"`
	// TopCumulative are the functions with the most CPU in their call trees (per task).
	TopCumulative []Cost `json:"top_cumulative"`
	// TopFlat are the functions with the most CPU of their own.
	TopFlat []Cost `json:"top_flat"`
}

// Cost is CPU time per task of something.
type Cost struct {
	Name      string  `json:"name"`
	UsPerTask float64 `json:"us_per_task"`
	Percent   float64 `json:"percent"`
}

// analyzeProfile reads a CPU profile and summarizes it per task.
func analyzeProfile(path string, tasks int) (ProfileAnalysis, error) {
	out := ProfileAnalysis{File: path, Tasks: tasks}
	f, err := os.Open(path)
	if err != nil {
		return out, fmt.Errorf("opening the CPU profile: %w", err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return out, fmt.Errorf("parsing the CPU profile %s: %w", path, err)
	}
	vi := len(p.SampleType) - 1 // cpu nanoseconds
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			vi = i
		}
	}
	var total int64
	comp, cat, cum, flat, own := map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, s := range p.Sample {
		v := s.Value[vi]
		total += v
		c := "unlabelled"
		if l := s.Label["component"]; len(l) > 0 {
			c = l[0]
		}
		comp[c] += v
		own[owner(s)] += v
		seen := map[string]bool{}
		for i, loc := range s.Location {
			for j, ln := range loc.Line {
				if ln.Function == nil {
					continue
				}
				name := ln.Function.Name
				if i == 0 && j == 0 {
					flat[name] += v
					cat[category(name)] += v
				}
				if !seen[name] {
					seen[name] = true
					cum[name] += v
				}
			}
		}
	}
	if total == 0 || tasks == 0 {
		return out, fmt.Errorf("the CPU profile %s has no samples", path)
	}
	conv := func(m map[string]int64, n int, skip func(string) bool) []Cost {
		var cs []Cost
		for k, v := range m {
			if skip != nil && skip(k) {
				continue
			}
			cs = append(cs, Cost{Name: k, UsPerTask: float64(v) / 1e3 / float64(tasks), Percent: 100 * float64(v) / float64(total)})
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].UsPerTask > cs[j].UsPerTask })
		if n > 0 && len(cs) > n {
			cs = cs[:n]
		}
		return cs
	}
	out.TotalUsPerTask = float64(total) / 1e3 / float64(tasks)
	out.Components = conv(comp, 0, nil)
	out.Categories = conv(cat, 0, nil)
	out.Owners = conv(own, 12, nil)
	out.TopFlat = conv(flat, 15, nil)
	out.TopCumulative = conv(cum, 25, func(name string) bool {
		// Frames every sample of a goroutine passes through say nothing about costs.
		return name == "runtime.goexit" || strings.HasPrefix(name, "runtime/pprof.Do") ||
			strings.HasSuffix(name, ".start.func1") || name == "runtime.main" || name == "runtime.mcall"
	})
	return out, nil
}

// categories classify leaf functions by name prefix, the first match winning.
var categories = []struct {
	name     string
	prefixes []string
}{
	{"syscalls (network I/O)", []string{
		"syscall.", "internal/runtime/syscall", "internal/poll.",
	}},
	{"GC and allocation", []string{
		"runtime.gc", "runtime.scan", "runtime.mark", "runtime.malloc", "runtime.greyobject", "runtime.findObject",
		"runtime.(*mspan)", "runtime.(*mheap)", "runtime.(*gcWork)", "runtime.memclr", "runtime.(*mcache)",
		"runtime.heapBits", "runtime.wbBuf", "runtime.bulkBarrier", "runtime.typePointers", "runtime.sweep",
		"runtime.(*sweep",
	}},
	{"scheduler, channels and locks", []string{
		"runtime.futex", "runtime.epoll", "runtime.netpoll", "runtime.schedule", "runtime.findRunnable",
		"runtime.lock", "runtime.unlock", "runtime.usleep", "runtime.runqgrab", "runtime.stealWork",
		"runtime.nanotime", "runtime.procyield", "runtime.osyield", "runtime.ready", "runtime.chan",
		"runtime.selectgo", "runtime.gopark", "runtime.casgstatus",
	}},
	{"protobuf encoding", []string{
		"google.golang.org/protobuf",
	}},
	{"gRPC and HTTP/2", []string{
		"google.golang.org/grpc", "golang.org/x/net/http2",
	}},
	{"valkey-go (RESP)", []string{
		"github.com/valkey-io/valkey-go",
	}},
	{"Chorus code", []string{
		"github.com/chorus-hpc/chorus",
	}},
	{"encoding/json", []string{
		"encoding/json",
	}},
	{"maps, strings, copies", []string{
		"runtime.mem", "runtime.map", "internal/runtime/maps", "runtime.concat", "runtime.slicebyte",
		"runtime.growslice", "strings.", "bytes.", "strconv.",
	}},
}

// category classifies a leaf function.
func category(fn string) string {
	for _, c := range categories {
		for _, p := range c.prefixes {
			if strings.HasPrefix(fn, p) {
				return c.name
			}
		}
	}
	return "other"
}

// owner names the code responsible for a sample: the first frame from the leaf up that is not the
// Go runtime or the standard library.
func owner(s *profile.Sample) string {
	for _, loc := range s.Location {
		for _, ln := range loc.Line {
			if ln.Function == nil {
				continue
			}
			fn := ln.Function.Name
			first, _, slash := strings.Cut(fn, "/")
			if !slash || !strings.Contains(first, ".") {
				continue // standard library or runtime
			}
			switch {
			case strings.HasPrefix(fn, "github.com/valkey-io/valkey-go"):
				return "valkey-go client (pipelining, RESP, its socket I/O)"
			case strings.HasPrefix(fn, "google.golang.org/grpc"), strings.HasPrefix(fn, "golang.org/x/net/http2"):
				return "gRPC and HTTP/2 (incl. their socket I/O)"
			case strings.HasPrefix(fn, "google.golang.org/protobuf"), strings.HasPrefix(fn, "github.com/chorus-hpc/chorus/sdks/go/gen/"):
				return "protobuf encoding"
			case strings.HasPrefix(fn, "go.opentelemetry.io"):
				return "OpenTelemetry"
			case strings.HasPrefix(fn, "github.com/chorus-hpc/chorus/"):
				rest := strings.TrimPrefix(fn, "github.com/chorus-hpc/chorus/")
				pkg, _, _ := strings.Cut(rest, ".")
				return "Chorus " + pkg
			}
			parts := strings.Split(fn, "/")
			parts = parts[:min(3, len(parts))]
			last := len(parts) - 1
			parts[last], _, _ = strings.Cut(parts[last], ".")
			return strings.Join(parts, "/")
		}
	}
	return "Go runtime (GC, scheduler)"
}
