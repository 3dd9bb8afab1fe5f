package goexamples_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	"github.com/chorus-hpc/chorus/stack"
)

// gatewayAddr is the gRPC address of the Chorus that TestMain starts for the examples: a private
// valkey-server, a gateway and an agent running the Go example worker in partition "go".
var gatewayAddr string

// valkeyAddr is the address of that valkey-server (failover tests start more gateways on it).
var valkeyAddr string

func Example() {
	ctx := context.Background()
	c, err := client.Dial(ctx, gatewayAddr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	sess, err := c.CreateSession(ctx, client.SessionOptions{Partition: "go"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A graph: two hashes, and a task that concatenates them (it runs once both are done).
	g := client.NewGraph()
	a := g.Task("sha256", []byte("hello"))
	b := g.Task("sha256", []byte("world"))
	both := g.Task("concat", nil, client.DependsOn(a.Output(), b.Output()))
	if _, err := sess.Submit(ctx, g); err != nil {
		fmt.Println(err)
		return
	}
	out, err := sess.WaitAndDownload(ctx, both.Output())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out[:16]), string(out[64:80]))
	// Output: 2cf24dba5fb0a30e 486ea46224d1bb4f
}

func ExampleSession_WaitAndDownload_failure() {
	ctx := context.Background()
	c, _ := client.Dial(ctx, gatewayAddr)
	defer c.Close()
	sess, _ := c.CreateSession(ctx, client.SessionOptions{Partition: "go"})
	g := client.NewGraph()
	t := g.Task("fail", []byte("out of coffee"), client.MaxRetries(0))
	sess.Submit(ctx, g)
	_, err := sess.WaitAndDownload(ctx, t.Output())
	fmt.Println(strings.Contains(err.Error(), "out of coffee"))
	// Output: true
}

func TestMain(m *testing.M) {
	os.Exit(runWithChorus(m))
}

// runWithChorus starts the stack the examples use, runs them, and stops it.
func runWithChorus(m *testing.M) int {
	dir, err := os.MkdirTemp("", "chorus-client-example-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	worker := filepath.Join(dir, "go-worker")
	if out, err := exec.Command("go", "build", "-o", worker, "github.com/chorus-hpc/chorus/workers/go").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the Go worker: %v\n%s", err, out)
		return 1
	}
	ctx := context.Background()
	s, err := stack.Start(ctx, stack.Config{Dir: dir, Partitions: []string{"go"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	if err := s.StartAgent(ctx, []agent.PartitionConfig{{Name: "go", Command: worker, Capacity: 4}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gatewayAddr, valkeyAddr = s.GRPCAddr(), s.ValkeyAddr()
	return m.Run()
}
