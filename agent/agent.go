// Package agent turns queued tasks into finished ones. An agent serves one or more partitions: it
// launches worker processes, leases tasks from the store in batches, keeps every worker busy (up to
// the capacity it announced plus one prefetched task whose data is already fetched), renews leases
// in the background, and reports outcomes, progress, created results and subtasks to the store.
// When Run's context ends it drains: it stops leasing, hands prefetched tasks back at once, lets
// running tasks finish within the drain deadline, hands back the rest and exits.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/store"
	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// Agent runs tasks of its partitions on worker processes. Create it with New, then call Run once.
type Agent struct {
	cfg   Config
	store store.Store
	objs  objstore.Store
	log   *slog.Logger
	parts []*partition
	tel   *agentTelemetry
	// commit records task steps in batches (commit.go).
	commit *committer

	runtimeDir    string
	removeRuntime bool
	socket        string
	lock          *os.File // exclusive lock on a configured runtime folder
	stall         *stallWatch
	// outWatch tells which output folders got entries (outwatch_linux.go); set while Run runs.
	outWatch *outWatch

	// bg is the context of store calls that must finish even while the agent drains.
	bg context.Context

	mu        sync.Mutex
	tokens    map[string]*incarnation // worker token → live process
	leases    map[string]*run         // lease token → task run, every lease the agent holds
	leaseGone chan struct{}           // signalled when a lease is dropped
	stopping  bool                    // draining: no new leases, no worker restarts
	ran       bool
}

// New checks cfg, fills in its defaults and returns an agent using st for state and objs for large
// data.
func New(cfg Config, st store.Store, objs objstore.Store) (*Agent, error) {
	if st == nil || objs == nil {
		return nil, errors.New("agent: a store and an object store are required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, store: st, objs: objs, log: cfg.Logger.With("agent_id", cfg.AgentID),
		tokens: map[string]*incarnation{}, leases: map[string]*run{}, leaseGone: make(chan struct{}, 1)}
	for _, pc := range cfg.Partitions {
		p := &partition{a: a, cfg: pc, wake: make(chan struct{}, 1), log: a.log.With("partition", pc.Name)}
		for i := range pc.Processes {
			p.procs = append(p.procs, &proc{p: p, id: fmt.Sprintf("%s-%d", pc.Name, i),
				log: p.log.With("worker", fmt.Sprintf("%s-%d", pc.Name, i)), outBusy: map[string]outDir{}})
		}
		a.parts = append(a.parts, p)
	}
	a.commit = newCommitter(a)
	if a.tel, err = newAgentTelemetry(a); err != nil {
		return nil, fmt.Errorf("agent: registering metrics: %w", err)
	}
	return a, nil
}

// ID returns the agent's id.
func (a *Agent) ID() string { return a.cfg.AgentID }

// Run serves the partitions until ctx ends, then drains (see the package doc) and returns. It
// returns an error when the agent cannot start (runtime folder, socket).
func (a *Agent) Run(ctx context.Context) error {
	defer func() { _ = a.tel.unregister() }()
	a.mu.Lock()
	if a.ran {
		a.mu.Unlock()
		return errors.New("agent: Run was already called; create a new Agent")
	}
	a.ran = true
	a.mu.Unlock()
	a.outWatch = newOutWatch()
	if err := a.prepareRuntime(); err != nil {
		a.outWatch.close()
		if a.lock != nil {
			_ = a.lock.Close()
		}
		return err
	}
	defer a.cleanupRuntime()
	lis, err := net.Listen("unix", a.socket)
	if err != nil {
		return fmt.Errorf("agent: listen on the worker socket %s: %w", a.socket, err)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(maxLine), grpc.MaxSendMsgSize(maxLine))
	workerv1.RegisterWorkerServiceServer(srv, &server{a: a})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	a.bg = context.WithoutCancel(ctx)
	bgCtx, stopBg := context.WithCancel(a.bg)
	var bgWG, claimWG, procWG sync.WaitGroup
	bgWG.Go(func() { a.commit.run(bgCtx) })
	a.stall = newStallWatch(stallThreshold(a.cfg), a.cfg.Clock.Now())
	bgWG.Go(func() { a.stallLoop(bgCtx) })
	bgWG.Go(func() { a.renewLoop(bgCtx) })
	bgWG.Go(func() { a.requeueLoop(bgCtx) })
	bgWG.Go(func() { a.heartbeatLoop(bgCtx) })
	bgWG.Go(func() { a.maintenanceLoop(bgCtx) })
	bgWG.Go(func() { a.deadAgentLoop(bgCtx) })
	for _, p := range a.parts {
		if err := a.store.DeclarePartitions(ctx, []string{p.cfg.Name}); err != nil {
			a.log.Warn("could not declare partition", "partition", p.cfg.Name, "error", err)
		}
	}
	a.reclaimPreviousLife(ctx)
	for _, p := range a.parts {
		for _, pr := range p.procs {
			pr.fillOutDirs()
			procWG.Go(func() { pr.supervise(bgCtx) })
		}
		claimWG.Go(func() { p.claimLoop(ctx) })
	}
	a.log.Info("agent started", "socket", a.socket, "partitions", len(a.parts))
	<-ctx.Done()
	claimWG.Wait()
	a.drain()
	stopBg()
	procWG.Wait()
	bgWG.Wait()
	a.log.Info("agent stopped")
	return nil
}

func (a *Agent) prepareRuntime() error {
	dir := a.cfg.RuntimeDir
	if dir == "" {
		d, err := os.MkdirTemp("", "chorus-agent-")
		if err != nil {
			return fmt.Errorf("agent: create a runtime folder: %w", err)
		}
		dir, a.removeRuntime = d, true
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("agent: create the runtime folder %s: %w", dir, err)
	} else if a.lock, err = lockRuntime(dir); err != nil {
		return err
	}
	a.runtimeDir = dir
	a.socket = filepath.Join(dir, "agent.sock")
	if len(a.socket) > 107 {
		return fmt.Errorf("agent: the socket path %s is longer than 107 bytes: choose a shorter runtime_dir", a.socket)
	}
	_ = os.Remove(a.socket)
	for _, p := range a.parts {
		for _, pr := range p.procs {
			pr.dir = filepath.Join(dir, "w", pr.id)
			if err := os.MkdirAll(pr.dir, 0o700); err != nil {
				return fmt.Errorf("agent: create the private folder of worker %s: %w", pr.id, err)
			}
			// Output folders left by a previous life (a configured runtime folder outlives the
			// agent; a killed agent leaves its tasks' files) are not known empty: start without them.
			if err := os.RemoveAll(filepath.Join(pr.dir, "out")); err != nil {
				return fmt.Errorf("agent: remove the output folders a previous agent left for worker %s: %w", pr.id, err)
			}
		}
	}
	return nil
}

func (a *Agent) cleanupRuntime() {
	for _, p := range a.parts {
		for _, pr := range p.procs {
			pr.closeOutDirs()
		}
	}
	a.outWatch.close()
	_ = os.Remove(a.socket)
	if a.lock != nil {
		defer a.lock.Close()
	}
	if a.removeRuntime {
		_ = os.RemoveAll(a.runtimeDir)
	} else {
		_ = os.RemoveAll(filepath.Join(a.runtimeDir, "w"))
	}
}

// drain hands back prefetched tasks, asks workers to finish, waits for running tasks up to the
// drain deadline, then hands back what is left and stops the workers.
func (a *Agent) drain() {
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	deadline := a.cfg.Clock.Now().Add(a.cfg.DrainDeadline)
	var queued []*run
	for _, p := range a.parts {
		for _, pr := range p.procs {
			queued = append(queued, pr.takeQueued()...)
			pr.sendDrain(a.cfg.DrainDeadline)
		}
	}
	a.release(queued, "the agent is draining")
	a.log.Info("agent draining", "released", len(queued), "running", a.leaseCount(), "deadline", a.cfg.DrainDeadline)
	for a.leaseCount() > 0 && a.cfg.Clock.Now().Before(deadline) {
		t := clock.NewTimer(a.cfg.Clock, deadline.Sub(a.cfg.Clock.Now()))
		select {
		case <-a.leaseGone:
		case <-t.C():
		}
		t.Stop()
	}
	var left []*run
	busy := map[*proc]bool{}
	for _, p := range a.parts {
		for _, pr := range p.procs {
			l := pr.takeAll()
			busy[pr] = len(l) > 0
			left = append(left, l...)
		}
	}
	if len(left) > 0 {
		a.log.Warn("drain deadline passed; handing unfinished tasks back to the queue (a running task's attempt counts)", "tasks", len(left))
		a.releaseAtDeadline(left)
	}
	var wg sync.WaitGroup
	for _, p := range a.parts {
		for _, pr := range p.procs {
			wg.Go(func() { pr.stop(busy[pr]) })
		}
	}
	wg.Wait()
}

// release hands runs back to the queue without counting an attempt.
func (a *Agent) release(runs []*run, why string) {
	if len(runs) == 0 {
		return
	}
	leases := make([]store.Lease, len(runs))
	for i, r := range runs {
		leases[i] = r.task.Lease
	}
	ctx, cancel := context.WithTimeout(a.bg, 30*time.Second)
	defer cancel()
	if err := a.store.Release(ctx, leases); err != nil {
		a.log.Error("could not hand tasks back to the queue; they run again when their leases expire", "tasks", len(runs), "reason", why, "error", err)
	}
	for _, r := range runs {
		a.dropLease(r)
		r.cleanup()
	}
}

func (a *Agent) addLease(r *run) {
	a.mu.Lock()
	a.leases[r.task.Lease.Token] = r
	a.mu.Unlock()
}

func (a *Agent) dropLease(r *run) {
	a.mu.Lock()
	delete(a.leases, r.task.Lease.Token)
	a.mu.Unlock()
	signal(a.leaseGone)
}

func (a *Agent) leaseCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.leases)
}

func (a *Agent) isStopping() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stopping
}
