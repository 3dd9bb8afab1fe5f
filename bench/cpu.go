package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on every
// mainstream architecture).
const clockTicks = 100

// procCPU returns the CPU time (user + system) a process has used so far, from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces: fields count from after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat format", pid)
	}
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat format", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// selfCPU returns the CPU time the bench process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the CPU time of the bench process, Valkey and the workers over a run.
type cpuMeter struct {
	valkeyPID  int
	workerPIDs []int
	self       time.Duration
	valkey     time.Duration
	workers    time.Duration
}

// CPUUse is the CPU time each part used during a run, and per task.
type CPUUse struct {
	// BenchProcess is the Go process: in-process gateway, agent and the benchmark's clients.
	BenchProcessS float64 `json:"bench_process_s"`
	ValkeyS       float64 `json:"valkey_s"`
	WorkersS      float64 `json:"workers_s"`
	// Per task, in microseconds.
	BenchProcessUsPerTask float64 `json:"bench_process_us_per_task"`
	ValkeyUsPerTask       float64 `json:"valkey_us_per_task"`
	WorkersUsPerTask      float64 `json:"workers_us_per_task"`
}

func (m *cpuMeter) sample() (self, vk, workers time.Duration) {
	self = selfCPU()
	if m.valkeyPID > 0 {
		vk, _ = procCPU(m.valkeyPID)
	}
	for _, p := range m.workerPIDs {
		if d, err := procCPU(p); err == nil {
			workers += d
		}
	}
	return self, vk, workers
}

func (m *cpuMeter) start() { m.self, m.valkey, m.workers = m.sample() }

func (m *cpuMeter) stop(tasks int) CPUUse {
	s, v, w := m.sample()
	u := CPUUse{BenchProcessS: (s - m.self).Seconds(), WorkersS: (w - m.workers).Seconds()}
	if m.valkeyPID > 0 {
		u.ValkeyS = (v - m.valkey).Seconds()
	}
	if tasks > 0 {
		n := float64(tasks)
		u.BenchProcessUsPerTask, u.ValkeyUsPerTask, u.WorkersUsPerTask = u.BenchProcessS/n*1e6, u.ValkeyS/n*1e6, u.WorkersS/n*1e6
	}
	return u
}

func selfPID() int { return os.Getpid() }
