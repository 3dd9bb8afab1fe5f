package bench

import (
	"testing"
	"time"
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
