package conformance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// workerPIDs returns the live child processes of this test process whose working folder is dir: the
// worker processes of one stack (each stack gives its worker its own folder).
func workerPIDs(dir string) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc to find the worker processes: %w", err)
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, state, ok := procStat(pid)
		if !ok || ppid != self || state == "Z" {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && cwd == dir {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// procStat returns the parent pid and state of a process from /proc/<pid>/stat.
func procStat(pid int) (ppid int, state string, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", false
	}
	// The command name (2nd field) is in parentheses and may hold spaces: split after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0], err == nil
}

// workerPID returns the pid of the stack's one worker process, waiting for it to be started (the
// agent restarts a worker that died).
func (s *stack) workerPID(t *testing.T, ctx context.Context) int {
	t.Helper()
	for {
		pids, err := workerPIDs(s.workerDir)
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) == 1 {
			return pids[0]
		}
		if len(pids) > 1 {
			t.Fatalf("expected one %s worker process (children of pid %d working in %s), found %v", s.lang.Name, os.Getpid(), s.workerDir, pids)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s worker process found (children of pid %d working in %s): %v", s.lang.Name, os.Getpid(), s.workerDir, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
