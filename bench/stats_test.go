package bench

import (
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

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

// TestSampleAttribution checks how analyzeProfile attributes a sample: to a kind of work by its leaf
// function (category), and to the nearest frame from the leaf up that is not the Go runtime or the
// standard library (owner).
func TestSampleAttribution(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		stack           []string // leaf first
		category, owner string
	}{
		{[]string{"syscall.Syscall6", "internal/poll.(*FD).Write", "github.com/valkey-io/valkey-go.(*pipe)._backgroundWrite"},
			"syscalls (network I/O)", "valkey-go client (pipelining, RESP, its socket I/O)"},
		{[]string{"runtime.mallocgc", "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1.(*Task).ProtoReflect"},
			"GC and allocation", "protobuf encoding"},
		{[]string{"runtime.futex", "runtime.findRunnable", "runtime.schedule"}, "scheduler, channels and locks", "Go runtime (GC, scheduler)"},
		{[]string{"google.golang.org/protobuf/proto.Marshal"}, "protobuf encoding", "protobuf encoding"},
		{[]string{"google.golang.org/grpc.(*Server).Serve"}, "gRPC and HTTP/2", "gRPC and HTTP/2 (incl. their socket I/O)"},
		{[]string{"github.com/valkey-io/valkey-go.(*pipe).Do"}, "valkey-go (RESP)", "valkey-go client (pipelining, RESP, its socket I/O)"},
		{[]string{"github.com/chorus-hpc/chorus/agent.(*a).Run"}, "Chorus code", "Chorus agent"},
		{[]string{"crypto/sha256.block", "go.opentelemetry.io/otel/sdk/trace.(*recordingSpan).End"}, "other", "OpenTelemetry"},
		{[]string{"strings.Clone", "github.com/klauspost/compress/zstd.(*Encoder).EncodeAll"}, "maps, strings, copies", "github.com/klauspost/compress"},
	} {
		s := &profile.Sample{}
		for _, fn := range c.stack {
			s.Location = append(s.Location, &profile.Location{Line: []profile.Line{{Function: &profile.Function{Name: fn}}}})
		}
		if got := category(c.stack[0]); got != c.category {
			t.Errorf("category(%q) = %q, want %q", c.stack[0], got, c.category)
		}
		if got := owner(s); got != c.owner {
			t.Errorf("owner(%q) = %q, want %q", c.stack, got, c.owner)
		}
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
