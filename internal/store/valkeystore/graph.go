package valkeystore

import (
	"slices"
	"strconv"
	"strings"

	"github.com/chorus-hpc/chorus/internal/store"
)

// batchCycle refuses a batch whose own tasks form a dependency cycle (a task waiting on its own
// output, or tasks of the batch waiting on each other), before anything is sent to Valkey. Cycles
// through stored tasks are found by the script (lua/lib_graph.lua, check_cycles).
func batchCycle(specs []store.TaskSpec, ids []string) error {
	producer := map[string]int{} // result id -> task index of the batch that writes it
	for i, sp := range specs {
		for _, o := range sp.ExpectedOutputIDs {
			producer[o] = i
		}
	}
	deps := func(i int) []string {
		d := specs[i].DataDependencies
		if p := specs[i].PayloadID; p != "" && !slices.Contains(d, p) {
			d = append(slices.Clip(d), p)
		}
		return d
	}
	// depth-first over tasks: task i -> the batch tasks writing its dependencies
	const (
		white = iota
		onPath
		done
	)
	color := make([]int, len(specs))
	type frame struct {
		task int
		deps []string
		next int
	}
	for root := range specs {
		if color[root] != white {
			continue
		}
		color[root] = onPath
		stack := []frame{{task: root, deps: deps(root)}}
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next == len(f.deps) {
				color[f.task] = done
				stack = stack[:len(stack)-1]
				continue
			}
			r := f.deps[f.next]
			f.next++
			j, ok := producer[r]
			if !ok {
				continue
			}
			if color[j] == onPath {
				// the cycle: task j waits on a result written by the next task on the path, ..., and
				// the last one (f.task) waits on r, written by task j
				start := 0
				for k := range stack {
					if stack[k].task == j {
						start = k
					}
				}
				var b strings.Builder
				for k := start; k < len(stack); k++ {
					dep := r
					if k+1 < len(stack) {
						dep = stack[k].deps[stack[k].next-1]
					}
					if k > start {
						b.WriteString("; ")
					}
					next := j
					if k+1 < len(stack) {
						next = stack[k+1].task
					}
					b.WriteString(batchTask(ids, stack[k].task) + " waits on result " + dep + " written by " + batchTask(ids, next))
				}
				return store.Errorf(store.CodeFailedPrecondition, "the dependencies of the batch form a cycle that would wait forever: %s: remove one of these dependencies", b.String())
			}
			if color[j] == white {
				color[j] = onPath
				stack = append(stack, frame{task: j, deps: deps(j)})
			}
		}
	}
	return nil
}

// batchTask names task i of a batch in a message: by its id, or by its place when the store has not
// numbered it yet.
func batchTask(ids []string, i int) string {
	if ids[i] == "" {
		return "task " + strconv.Itoa(i) + " of the batch"
	}
	return "task " + ids[i]
}
