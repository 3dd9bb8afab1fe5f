package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
)

// memoryPartition is a partition no agent serves, so the memory scenario's tasks stay queued.
const memoryPartition = "bench-memory"

// MemoryResult is the memory scenario's output (memory.json).
type MemoryResult struct {
	Scenario string `json:"scenario"`
	Tasks    int    `json:"tasks"`
	// UsedMemoryBefore/After are INFO memory used_memory around the submission.
	UsedMemoryBefore int64 `json:"used_memory_before"`
	UsedMemoryAfter  int64 `json:"used_memory_after"`
	// BytesPerTask = (after − before) / tasks: a queued echo task with an empty payload and one
	// expected output (its result record included).
	BytesPerTask float64 `json:"bytes_per_task"`
	SubmitS      float64 `json:"submit_s"`
	// SubmitTasksPerS is the submission rate of this run (4 clients, batches of 5000).
	SubmitTasksPerS float64 `json:"submit_tasks_per_s"`
	// Samples are (queued tasks, used_memory) along the way.
	Samples []Point `json:"samples"`
	// ByKey is what each kind of key costs per task (MEMORY USAGE of every key once submitted, summed
	// by the key's suffix after its hash tag, digits folded to '#'), largest first.
	ByKey []KeyCost `json:"by_key,omitempty"`
}

// KeyCost is the memory of one kind of key, per queued task.
type KeyCost struct {
	Key          string  `json:"key"`
	Keys         int     `json:"keys"`
	BytesPerTask float64 `json:"bytes_per_task"`
}

func (r *Runner) memory(ctx context.Context) error {
	if err := r.stack.StopAgent(); err != nil {
		return err
	}
	tasks := r.pick(100000, 1000000)
	const steps = 10
	res := MemoryResult{Scenario: ScenarioMemory, Tasks: tasks}
	before, err := r.usedMemory(ctx)
	if err != nil {
		return err
	}
	res.UsedMemoryBefore = before
	res.Samples = append(res.Samples, Point{T: 0, V: float64(before)})
	start := time.Now()
	prog := &progress{log: r.log, what: "memory"}
	for i := range steps {
		n := tasks / steps
		if _, err := r.push(ctx, load{Partition: memoryPartition, Method: "echo", Tasks: n, Clients: 4, Batch: 5000}, nil); err != nil {
			return err
		}
		used, err := r.usedMemory(ctx)
		if err != nil {
			return err
		}
		res.Samples = append(res.Samples, Point{T: float64((i + 1) * n), V: float64(used)})
		prog.tick((i+1)*n, tasks)
	}
	res.SubmitS = time.Since(start).Seconds()
	res.SubmitTasksPerS = float64(tasks) / res.SubmitS
	res.UsedMemoryAfter = int64(res.Samples[len(res.Samples)-1].V)
	res.BytesPerTask = float64(res.UsedMemoryAfter-res.UsedMemoryBefore) / float64(tasks)
	if res.ByKey, err = r.keyCosts(ctx, tasks); err != nil {
		return err
	}
	r.log.Info("bench: memory", "tasks", tasks, "bytes_per_task", int(res.BytesPerTask), "submit_tasks_per_s", int(res.SubmitTasksPerS))
	if err := writeJSON(r.path("memory.json"), res); err != nil {
		return err
	}
	s := Series{Name: fmt.Sprintf("Valkey used_memory (%.0f bytes per queued task)", res.BytesPerTask)}
	for _, p := range res.Samples {
		s.Points = append(s.Points, Point{T: p.T, V: (p.V - float64(before)) / (1 << 20)})
	}
	return writeLinePlot(r.path("memory.png"), linePlot{Title: "Valkey memory vs queued zero-payload tasks", X: "queued tasks", Y: "used_memory growth (MiB)", Series: []Series{s}})
}

// keyCosts is what each kind of key of the private Valkey costs per task.
func (r *Runner) keyCosts(ctx context.Context, tasks int) ([]KeyCost, error) {
	kinds, err := valkeystore.MemoryByKind(ctx, r.stack.Valkey())
	if err != nil {
		return nil, err
	}
	out := make([]KeyCost, len(kinds))
	for i, k := range kinds {
		out[i] = KeyCost{Key: k.Kind, Keys: k.Keys, BytesPerTask: float64(k.Bytes) / float64(tasks)}
	}
	return out, nil
}

// usedMemory reads INFO memory used_memory.
func (r *Runner) usedMemory(ctx context.Context) (int64, error) {
	v, err := r.stack.ValkeyInfo(ctx, "memory", "used_memory")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}
