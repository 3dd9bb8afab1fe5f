// Package stack runs Chorus in one process: a private valkey-server, the Valkey store, a local object
// store, a gateway and, on demand, an agent. It sits above both gateway and agent (the binary's
// benchmarks and the tests use it), so neither of them, nor any package below them, imports it.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/valkeyproc"
)

// Stack is an in-process Chorus: a private valkey-server, the Valkey store, a
// gateway and (per scenario) an agent whose partitions the caller chooses. The gateway and agent
// run under pprof labels component=gateway and component=agent, so a CPU profile of the bench
// process tells their costs apart.
type Stack struct {
	log *slog.Logger
	dir string
	vk  *valkeyproc.Proc
	vc  valkey.Client
	st  *valkeystore.Store // the gateway's
	// agentSt is the agents' store (a connection of their own).
	agentSt *valkeystore.Store
	objs    *local.Store
	gw      *gateway.Server
	gwRun   Component

	mu    sync.Mutex
	agent *agent.Agent
	agRun Component
}

// Component is one component's Run (a gateway's, an agent's) in a goroutine of its own.
type Component struct {
	cancel context.CancelFunc
	done   chan error
}

// Go runs run in a goroutine under the pprof label component=name (so a CPU profile of the process
// tells the components apart) until Stop.
func Go(ctx context.Context, name string, run func(context.Context) error) Component {
	rctx, cancel := context.WithCancel(ctx)
	c := Component{cancel: cancel, done: make(chan error, 1)}
	go pprof.Do(rctx, pprof.Labels("component", name), func(lctx context.Context) {
		c.done <- run(lctx)
	})
	return c
}

// Stop cancels the component's context and waits for its Run to return; a Run that ended by the
// cancellation is no error. The zero Component is stopped.
func (c Component) Stop() error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	err := <-c.done
	c.done <- err // a second Stop sees the same outcome
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Config configures a Stack.
type Config struct {
	// Dir holds Valkey's data and the object store; required.
	Dir string
	// AppendOnly turns Valkey's AOF on (appendfsync everysec), as `chorus dev` runs it. Default false.
	AppendOnly bool
	// Partitions are declared on the gateway so tasks can be submitted before an agent serves them.
	Partitions []string
	// Logger receives the components' logs. Default: a logger that keeps warnings and errors.
	Logger *slog.Logger
}

// Start starts Valkey, the store and a gateway on free loopback ports.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Dir == "" {
		return nil, errors.New("in-process stack: no data folder given")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s := &Stack{log: log, dir: cfg.Dir}
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	vk, err := valkeyproc.Start(vctx, valkeyproc.Config{Dir: filepath.Join(cfg.Dir, "valkey"), AppendOnly: cfg.AppendOnly})
	if err != nil {
		return nil, err
	}
	s.vk = vk
	if s.vc, err = valkey.NewClient(valkey.ClientOption{InitAddress: []string{vk.Addr()}}); err != nil {
		s.Close()
		return nil, fmt.Errorf("connecting to the bench Valkey: %w", err)
	}
	// The gateway and the agent each have a store of their own, as separate processes do: on one
	// connection, an agent's claims and outcomes would wait behind the gateway's submissions.
	opt := valkey.ClientOption{InitAddress: []string{vk.Addr()}}
	if s.st, err = valkeystore.Open(opt, valkeystore.Config{Logger: log}); err != nil {
		s.Close()
		return nil, err
	}
	if s.agentSt, err = valkeystore.Open(opt, valkeystore.Config{Logger: log}); err != nil {
		s.Close()
		return nil, err
	}
	if s.objs, err = local.New(local.Config{Dir: filepath.Join(cfg.Dir, "objects"), Logger: log}); err != nil {
		s.Close()
		return nil, err
	}
	gcfg := gateway.Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MaxQueueDepth: -1,
		DeclaredPartitions: cfg.Partitions, Logger: log}
	if s.gw, err = gateway.New(gcfg, s.st, s.objs); err != nil {
		s.Close()
		return nil, err
	}
	s.gwRun = Go(context.WithoutCancel(ctx), "gateway", s.gw.Run)
	return s, nil
}

// GRPCAddr is the gateway's gRPC address.
func (s *Stack) GRPCAddr() string { return s.gw.GRPCAddr() }

// ValkeyAddr is the private valkey-server's address.
func (s *Stack) ValkeyAddr() string { return s.vk.Addr() }

// Valkey is a client of the private valkey-server (for INFO).
func (s *Stack) Valkey() valkey.Client { return s.vc }

// StartAgent starts an agent serving parts (stopping the previous one) and waits until every worker
// process said Hello and has its output folders made, as a long-running agent has.
func (s *Stack) StartAgent(ctx context.Context, parts []agent.PartitionConfig) error {
	if err := s.StopAgent(); err != nil {
		return err
	}
	// The agent's default runtime folder is a new one under the temp folder, removed when it stops.
	a, err := agent.New(agent.Config{Partitions: parts, Logger: s.log}, s.agentSt, s.objs)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.agent, s.agRun = a, Go(context.WithoutCancel(ctx), "agent", a.Run)
	s.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := a.Stats()
		ok := len(st.Workers) > 0
		for _, w := range st.Workers {
			ok = ok && w.Connected && w.OutDirsReady
		}
		if ok {
			return nil
		}
		select {
		case err := <-s.agRun.done:
			s.agRun.done <- err
			return fmt.Errorf("the bench agent stopped before its workers connected: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("the bench agent's workers did not connect within 60s: check the worker commands (make build, make python-venv)")
		}
	}
}

// WorkerPIDs are the process ids of the current agent's workers.
func (s *Stack) WorkerPIDs() []int {
	s.mu.Lock()
	a := s.agent
	s.mu.Unlock()
	if a == nil {
		return nil
	}
	var pids []int
	for _, w := range a.Stats().Workers {
		if w.PID > 0 {
			pids = append(pids, w.PID)
		}
	}
	return pids
}

// StopAgent stops the current agent, if any.
func (s *Stack) StopAgent() error {
	s.mu.Lock()
	r := s.agRun
	s.agent, s.agRun = nil, Component{}
	s.mu.Unlock()
	return r.Stop()
}

// ValkeyPID asks the server for its process id.
func (s *Stack) ValkeyPID(ctx context.Context) (int, error) {
	v, err := s.ValkeyInfo(ctx, "server", "process_id")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}

// ValkeyInfo reads one field of the private server's INFO section (e.g. "memory", "used_memory").
func (s *Stack) ValkeyInfo(ctx context.Context, section, field string) (string, error) {
	info, err := s.vc.Do(ctx, s.vc.B().Info().Section(section).Build()).ToString()
	if err != nil {
		return "", fmt.Errorf("INFO %s: %w", section, err)
	}
	v, ok := infoField(info, field)
	if !ok {
		return "", fmt.Errorf("INFO %s has no %s", section, field)
	}
	return v, nil
}

// infoField returns a field of an INFO answer.
func infoField(info, name string) (string, bool) {
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// Close stops everything the stack started.
func (s *Stack) Close() {
	if err := s.StopAgent(); err != nil {
		s.log.Warn("stopping the bench agent", "error", err)
	}
	if err := s.gwRun.Stop(); err != nil {
		s.log.Warn("stopping the bench gateway", "error", err)
	}
	for _, st := range []*valkeystore.Store{s.st, s.agentSt} {
		if st != nil {
			st.Close()
		}
	}
	if s.vc != nil {
		s.vc.Close()
	}
	if s.vk != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.vk.Stop(ctx); err != nil {
			s.log.Warn("stopping the bench valkey-server", "error", err)
		}
	}
}
