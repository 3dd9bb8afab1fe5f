// Package stacktest runs Chorus inside a test: a valkey-server of the test's own, the Valkey store, a
// local object store in the test's temporary folder, a gateway on free loopback ports, and agents
// started when the test asks, every part stopped when the test ends. The conformance suite and the
// end-to-end tracing tests share it instead of wiring the stack each their own way.
package stacktest

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/modroot"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	"github.com/chorus-hpc/chorus/stack"
)

// Config configures a Stack. The zero Config is a working stack with no declared partition.
type Config struct {
	// Gateway configures the gateway. GRPCAddr and HTTPAddr default to free loopback ports.
	Gateway gateway.Config
	// Store configures the gateway's store, and the agents' unless StartAgent is given one of their
	// own. Client is the test's valkey-server; a Client set here is ignored.
	Store valkeystore.Config
}

// Stack is a running gateway over a test's own Valkey and object store.
type Stack struct {
	tb testing.TB
	vk *valkeytest.Server
	// Store is the gateway's store.
	Store *valkeystore.Store
	// Objects is the local object store; ObjectsDir its folder.
	Objects    *local.Store
	ObjectsDir string
	// Gateway is the running gateway.
	Gateway *gateway.Server
}

// Start starts Valkey, the store, the object store and the gateway; they stop when the test ends.
func Start(tb testing.TB, cfg Config) *Stack {
	tb.Helper()
	s := &Stack{tb: tb, vk: valkeytest.Start(tb), ObjectsDir: filepath.Join(tb.TempDir(), "objects")}
	s.Store = s.store(cfg.Store)
	objs, err := local.New(local.Config{Dir: s.ObjectsDir, Logger: cfg.Store.Logger})
	if err != nil {
		tb.Fatalf("starting the local object store: %v", err)
	}
	s.Objects = objs
	gcfg := cfg.Gateway
	if gcfg.GRPCAddr == "" {
		gcfg.GRPCAddr = "127.0.0.1:0"
	}
	if gcfg.HTTPAddr == "" {
		gcfg.HTTPAddr = "127.0.0.1:0"
	}
	if s.Gateway, err = gateway.New(gcfg, s.Store, s.Objects); err != nil {
		tb.Fatalf("gateway.New: %v", err)
	}
	s.run("gateway", s.Gateway.Run)
	return s
}

// store opens a store on the test's valkey-server, closed when the test ends.
func (s *Stack) store(cfg valkeystore.Config) *valkeystore.Store {
	s.tb.Helper()
	cfg.Client = s.vk.Client(s.tb)
	st, err := valkeystore.New(cfg)
	if err != nil {
		s.tb.Fatalf("valkeystore.New: %v", err)
	}
	s.tb.Cleanup(st.Close)
	return st
}

// run runs a component until the test ends (or Stop); an error other than the cancellation fails
// the test. Cleanups run last-in first-out, so a component stops before what it was started on.
func (s *Stack) run(name string, run func(context.Context) error) stack.Component {
	c := stack.Go(context.Background(), name, run)
	s.tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			s.tb.Errorf("%s.Run: %v", name, err)
		}
	})
	return c
}

// Agent is a running agent.
type Agent struct {
	*agent.Agent
	c stack.Component
}

// Stop stops the agent before the test ends (its workers drain and exit) and returns Run's error.
func (a *Agent) Stop() error { return a.c.Stop() }

// StartAgent starts an agent on the stack's store, or on a store of its own when store is not nil
// (to give the agent's store its own tracer provider, say), and stops it when the test ends.
func (s *Stack) StartAgent(cfg agent.Config, store *valkeystore.Config) *Agent {
	s.tb.Helper()
	st := s.Store
	if store != nil {
		st = s.store(*store)
	}
	a, err := agent.New(cfg, st, s.Objects)
	if err != nil {
		s.tb.Fatalf("agent.New: %v", err)
	}
	return &Agent{Agent: a, c: s.run("agent", a.Run)}
}

// Client dials the gateway's gRPC address; the client closes when the test ends.
func (s *Stack) Client(opts ...client.DialOption) *client.Client {
	s.tb.Helper()
	cl, err := client.Dial(context.Background(), s.Gateway.GRPCAddr(), opts...)
	if err != nil {
		s.tb.Fatalf("client.Dial: %v", err)
	}
	s.tb.Cleanup(func() { _ = cl.Close() })
	return cl
}

// SubmitN creates a session of partition "go" through cl and submits n tasks of method with payload
// into it, returning the session and the tasks' outputs.
func SubmitN(ctx context.Context, tb testing.TB, cl *client.Client, n int, method string, payload []byte) (*client.Session, []string) {
	tb.Helper()
	sess, err := cl.CreateSession(ctx, client.SessionOptions{Partition: "go"})
	if err != nil {
		tb.Fatal(err)
	}
	g := client.NewGraph()
	outs := make([]string, n)
	for i := range outs {
		outs[i] = g.Task(method, payload).Output()
	}
	if _, err := sess.Submit(ctx, g); err != nil {
		tb.Fatal(err)
	}
	return sess, outs
}

// RepoRoot is the module's root folder (tests run in their package's folder).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := modroot.Find()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// GoWorker builds the Go example worker (workers/go) into the test's temporary folder and returns
// its path (the build cache makes every build after the first a link).
func GoWorker(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "chorus-worker-go")
	cmd := exec.Command("go", "build", "-o", path, "./workers/go")
	cmd.Dir = RepoRoot(tb)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building the Go example worker: %v\n%s", err, out)
	}
	return path
}
