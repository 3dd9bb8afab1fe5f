package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/chorus-hpc/chorus/internal/store"
)

// releaseAtDeadline hands back the runs left at the drain deadline. A task the worker was running
// counts an attempt (retryable, within its max retries), so a task longer than the drain deadline
// cannot run forever across restarts; a task never started goes back without one.
func (a *Agent) releaseAtDeadline(runs []*run) {
	leases := make([]store.Lease, len(runs))
	for i, r := range runs {
		leases[i] = r.task.Lease
	}
	ctx, cancel := context.WithTimeout(a.bg, 30*time.Second)
	defer cancel()
	why := fmt.Sprintf("agent %s stopped and its drain deadline (%s) passed before the task finished", a.cfg.AgentID, a.cfg.DrainDeadline)
	if err := a.store.ReleaseRunning(ctx, leases, why); err != nil {
		a.log.Error("could not hand tasks back to the queue; they run again when their leases expire", "tasks", len(runs), "error", err)
	}
	for _, r := range runs {
		a.dropLease(r)
		r.cleanup()
	}
}

// reclaimPreviousLife hands back, before the first claim, the leases a previous run of this agent
// (same agent id) still holds: after a crash its tasks would otherwise wait a lease TTL. Only an
// agent whose id is its own across restarts (configured, or derived from its runtime folder) does it.
func (a *Agent) reclaimPreviousLife(ctx context.Context) {
	if !a.cfg.stableID {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	n, err := a.store.ReleaseAgentLeases(ctx, a.cfg.AgentID)
	switch {
	case err != nil:
		a.log.Warn("could not hand back the leases of this agent's previous run; its tasks run again when those leases expire", "error", err)
	case n > 0:
		a.log.Info("handed back the leases of this agent's previous run", "tasks", n)
	}
}

// derivedAgentID names an agent by its host and runtime folder, stable across restarts.
func derivedAgentID(hostname, runtimeDir string) string {
	abs, err := filepath.Abs(runtimeDir)
	if err != nil {
		abs = runtimeDir
	}
	sum := sha256.Sum256([]byte(abs))
	return hostname + "-" + hex.EncodeToString(sum[:6])
}

// lockRuntime takes an exclusive lock on the runtime folder, so two live agents never share it (nor
// the agent id derived from it). The lock ends with the process.
func lockRuntime(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "agent.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("agent: open the lock file of the runtime folder %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("agent: another agent uses the runtime folder %s (its lock file is held): give each agent its own runtime_dir", dir)
	}
	return f, nil
}
