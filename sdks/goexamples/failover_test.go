package goexamples_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// gatewayProc is a `chorus gateway` process on the examples' Valkey.
type gatewayProc struct {
	addr string
	cmd  *exec.Cmd
}

// startGateways builds the chorus binary and starts n gateway processes, killed at the end.
func startGateways(t *testing.T, n int) []*gatewayProc {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chorus")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/chorus-hpc/chorus/cmd/chorus").CombinedOutput(); err != nil {
		t.Fatalf("build chorus: %v\n%s", err, out)
	}
	var gws []*gatewayProc
	for range n {
		cmd := exec.Command(bin, "gateway", "--valkey-addr", valkeyAddr, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
			"--objstore-dir", t.TempDir(), "--partitions", "go", "--log-level", "error")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start a gateway: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGCONT); _ = cmd.Process.Kill(); _ = cmd.Wait() })
		sc := bufio.NewScanner(stderr)
		g := &gatewayProc{cmd: cmd}
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "gRPC on "); ok {
				g.addr, _, _ = strings.Cut(rest, ",")
				break
			}
		}
		if g.addr == "" {
			t.Fatalf("the gateway did not say its address: %v", sc.Err())
		}
		go func() {
			for sc.Scan() {
				os.Stderr.WriteString(sc.Text() + "\n")
			}
		}()
		gws = append(gws, g)
	}
	return gws
}

// A client that knows three gateways keeps working while two of them fail: one SIGKILLed and one
// frozen (SIGSTOP) while it waits on a result (its watch resumes from its cursor on the one left),
// and a new submission and wait succeed through the one left too.
func TestClientFailsOverBetweenGateways(t *testing.T) {
	gws := startGateways(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := client.Dial(ctx, gws[0].addr+","+gws[1].addr+","+gws[2].addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.CreateSession(ctx, client.SessionOptions{Partition: "go"})
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	g := client.NewGraph()
	slow := g.Task("sleep", []byte("3000"))
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	type answer struct {
		data []byte
		err  error
	}
	waited := make(chan answer, 1)
	go func() {
		d, err := sess.WaitAndDownload(ctx, slow.Output())
		waited <- answer{d, err}
	}()
	// Once the task runs, the watch is open on one of the gateways: take two of them away.
	w, err := sess.Watch(ctx, "", chorusv1.EventKind_EVENT_KIND_TASK_STATUS)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		if ev.GetTaskStatus().GetStatus() == chorusv1.TaskStatus_TASK_STATUS_RUNNING {
			break
		}
	}
	w.Close()
	if err := gws[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := gws[1].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	a := <-waited
	if a.err != nil || len(a.data) == 0 {
		t.Fatalf("WaitAndDownload across the gateways' failure: %d bytes, %v", len(a.data), a.err)
	}
	t.Logf("the wait ended %s after two of three gateways failed", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	g2 := client.NewGraph()
	h := g2.Task("sha256", []byte("hello"))
	if _, err := sess.Submit(ctx, g2); err != nil {
		t.Fatalf("Submit with one gateway dead and one frozen: %v", err)
	}
	out, err := sess.WaitAndDownload(ctx, h.Output())
	if err != nil || !strings.HasPrefix(string(out), "2cf24dba5fb0a30e") {
		t.Fatalf("WaitAndDownload with one gateway dead and one frozen: %q, %v", out, err)
	}
	t.Logf("submit and wait took %s with one gateway dead and one frozen", time.Since(start).Round(time.Millisecond))
}
