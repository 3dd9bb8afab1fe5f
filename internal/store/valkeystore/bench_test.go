package valkeystore_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
)

func benchStore(b *testing.B) (*valkeystore.Store, valkey.Client, string) {
	c := valkeytest.Start(b).Client(b)
	s := newStore(b, c, "", nil) // the default prefix
	sid, _ := cpuSession(b, s)
	return s, c, sid
}

// BenchmarkSubmitClaimComplete measures zero-payload tasks through submit, claim and complete in
// batches; it reports tasks/s and the server's microseconds per task (INFO commandstats).
func BenchmarkSubmitClaimComplete(b *testing.B) {
	for _, batch := range []int{1, 10, 100} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			s, c, sid := benchStore(b)
			ctx := b.Context()
			specs := make([]store.TaskSpec, batch)
			for i := range specs {
				specs[i] = store.TaskSpec{Method: "echo"}
			}
			_ = c.Do(ctx, c.B().ConfigResetstat().Build()).Error()
			tasks := 0
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: specs}); err != nil {
					b.Fatal(err)
				}
				got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: batch, LeaseTTL: time.Minute})
				if err != nil || len(got) != batch {
					b.Fatalf("claimed %d of %d: %v", len(got), batch, err)
				}
				for _, t := range got {
					if err := s.Complete(ctx, store.Completion{Lease: t.Lease}); err != nil {
						b.Fatal(err)
					}
				}
				tasks += batch
			}
			b.StopTimer()
			b.ReportMetric(float64(tasks)/b.Elapsed().Seconds(), "tasks/s")
			b.ReportMetric((serverUsec(b, c, "cmdstat_evalsha")+serverUsec(b, c, "cmdstat_fcall"))/float64(tasks), "script-µs/task")
			b.ReportMetric(serverUsec(b, c, "cmdstat_")/float64(tasks), "allcmd-µs/task")
		})
	}
}

// lifecycleSpecs are n zero-payload tasks with one expected output each.
func lifecycleSpecs(n int) []store.TaskSpec {
	specs := make([]store.TaskSpec, n)
	for i := range specs {
		specs[i] = store.TaskSpec{Method: "echo", ExpectedOutputIDs: []string{store.NewResultID()}}
	}
	return specs
}

// BenchmarkScripts measures each hot script on batches of 100 zero-payload tasks with one output:
// submit, claim, and the outcomes script recording their starts and completions. valkey-cpu-µs/task
// is the server's CPU time (INFO cpu), which a busy machine inflates less than wall time.
func BenchmarkScripts(b *testing.B) {
	batch := benchBatch()
	for _, step := range []string{"submit", "claim", "outcomes"} {
		b.Run(step, func(b *testing.B) {
			s, c, sid := benchStore(b)
			ctx := b.Context()
			var cpu, tasks float64
			for b.Loop() {
				b.StopTimer()
				specs := lifecycleSpecs(batch)
				var got []*store.ClaimedTask
				if step != "submit" {
					if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: specs}); err != nil {
						b.Fatal(err)
					}
				}
				if step == "outcomes" {
					var err error
					if got, err = s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: batch, LeaseTTL: time.Minute}); err != nil || len(got) != batch {
						b.Fatalf("claimed %d of %d: %v", len(got), batch, err)
					}
				}
				before := serverCPU(b, c)
				b.StartTimer()
				switch step {
				case "submit":
					if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: specs}); err != nil {
						b.Fatal(err)
					}
				case "claim":
					if got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: batch, LeaseTTL: time.Minute}); err != nil || len(got) != batch {
						b.Fatalf("claimed %d of %d: %v", len(got), batch, err)
					}
				case "outcomes":
					steps := make([]store.Outcome, 0, 2*batch)
					for _, t := range got {
						steps = append(steps, store.Outcome{Kind: store.OutcomeStart, Lease: t.Lease})
					}
					for _, t := range got {
						steps = append(steps, store.Outcome{Kind: store.OutcomeComplete, Lease: t.Lease, Completion: &store.Completion{Lease: t.Lease,
							Outputs: []store.OutputData{{ResultID: t.ExpectedOutputIDs[0], Data: store.ResultData{Inline: []byte("ok")}}}}})
					}
					res, err := s.RecordOutcomes(ctx, steps)
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range res {
						if r.Err != nil {
							b.Fatal(r.Err)
						}
					}
				}
				b.StopTimer()
				cpu += serverCPU(b, c) - before
				tasks += float64(batch)
				b.StartTimer()
			}
			b.ReportMetric(cpu/tasks, "valkey-cpu-µs/task")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// serverCPU is the server's CPU time so far in µs (INFO cpu: used_cpu_sys + used_cpu_user).
func serverCPU(b *testing.B, c valkey.Client) float64 {
	info, err := c.Do(context.Background(), c.B().Info().Section("cpu").Build()).ToString()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				x, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				total += x * 1e6
			}
		}
	}
	return total
}

// serverUsec sums usec over the INFO commandstats lines starting with prefix. Commands run inside
// scripts are counted both on their own line and inside EVALSHA or FCALL, so "cmdstat_" over-counts
// them.
func serverUsec(b *testing.B, c valkey.Client, prefix string) float64 {
	info, err := c.Do(context.Background(), c.B().Info().Section("commandstats").Build()).ToString()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		for _, f := range strings.Split(line, ",") {
			if v, ok := strings.CutPrefix(f, "usec="); ok {
				x, _ := strconv.ParseFloat(v, 64)
				total += x
			}
		}
		if testing.Verbose() {
			b.Log(strings.TrimSpace(line))
		}
	}
	return total
}

// BenchmarkMemoryPerQueuedTask queues 100k zero-payload tasks with one expected output each and
// reports used_memory growth per task.
func BenchmarkMemoryPerQueuedTask(b *testing.B) {
	const n = 100_000
	for range b.N {
		b.StopTimer()
		s, c, sid := benchStore(b)
		ctx := b.Context()
		before := usedMemory(b, c)
		b.StartTimer()
		for range n / 1000 {
			if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: lifecycleSpecs(1000)}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(usedMemory(b, c)-before)/n, "bytes/task")
		reportKeyMemory(b, c, n)
	}
}

// reportKeyMemory reports what each kind of key costs per task (MemoryByKind).
func reportKeyMemory(b *testing.B, c valkey.Client, n int) {
	kinds, err := valkeystore.MemoryByKind(b.Context(), c)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range kinds {
		if per := float64(k.Bytes) / float64(n); per >= 0.5 {
			b.ReportMetric(per, "B/task-key"+k.Kind)
		}
	}
}

func usedMemory(b *testing.B, c valkey.Client) int64 {
	info, err := c.Do(context.Background(), c.B().Info().Section("memory").Build()).ToString()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	b.Fatal("INFO memory has no used_memory")
	return 0
}

// benchBatch is the batch size of BenchmarkScripts: CHORUS_BENCH_BATCH, default 100.
func benchBatch() int {
	if n, err := strconv.Atoi(os.Getenv("CHORUS_BENCH_BATCH")); err == nil && n > 0 {
		return n
	}
	return 100
}

// BenchmarkAOFBytesPerTask runs zero-payload tasks with one output through submit, claim, start and
// completion (batches of 100) with the append-only file on, and reports the AOF bytes written per
// task (INFO persistence aof_current_size).
func BenchmarkAOFBytesPerTask(b *testing.B) {
	s, c, sid := benchStore(b)
	ctx := b.Context()
	if err := c.Do(ctx, c.B().ConfigSet().ParameterValue().ParameterValue("appendonly", "yes").Build()).Error(); err != nil {
		b.Fatal(err)
	}
	// wait for the initial rewrite that turning AOF on starts
	for i := 0; i < 200 && infoField(b, c, "persistence", "aof_rewrite_in_progress") != "0"; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	before := infoInt(b, c, "persistence", "aof_current_size")
	tasks := 0
	for b.Loop() {
		if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: lifecycleSpecs(100)}); err != nil {
			b.Fatal(err)
		}
		got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 100, LeaseTTL: time.Minute})
		if err != nil || len(got) != 100 {
			b.Fatalf("claimed %d of 100: %v", len(got), err)
		}
		steps := make([]store.Outcome, 0, 200)
		for _, t := range got {
			steps = append(steps, store.Outcome{Kind: store.OutcomeStart, Lease: t.Lease},
				store.Outcome{Kind: store.OutcomeComplete, Lease: t.Lease, Completion: &store.Completion{Lease: t.Lease,
					Outputs: []store.OutputData{{ResultID: t.ExpectedOutputIDs[0], Data: store.ResultData{Inline: []byte("ok")}}}}})
		}
		if _, err := s.RecordOutcomes(ctx, steps); err != nil {
			b.Fatal(err)
		}
		tasks += 100
	}
	b.ReportMetric(float64(infoInt(b, c, "persistence", "aof_current_size")-before)/float64(tasks), "aof-bytes/task")
}

func infoField(b *testing.B, c valkey.Client, section, field string) string {
	info, err := c.Do(context.Background(), c.B().Info().Section(section).Build()).ToString()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func infoInt(b *testing.B, c valkey.Client, section, field string) int64 {
	n, err := strconv.ParseInt(infoField(b, c, section, field), 10, 64)
	if err != nil {
		b.Fatalf("INFO %s has no integer %s", section, field)
	}
	return n
}

// BenchmarkLifecycleOneByOne submits and claims batches of 100 tasks with one output but records each
// start and completion with its own call (MarkRunning, Complete), as before outcomes were batched:
// compare its valkey-cpu-µs/task with the sum of BenchmarkScripts to see what batching saves.
func BenchmarkLifecycleOneByOne(b *testing.B) {
	s, c, sid := benchStore(b)
	ctx := b.Context()
	var cpu, tasks float64
	for b.Loop() {
		specs := lifecycleSpecs(100)
		before := serverCPU(b, c)
		if _, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: specs}); err != nil {
			b.Fatal(err)
		}
		got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 100, LeaseTTL: time.Minute})
		if err != nil || len(got) != 100 {
			b.Fatalf("claimed %d of 100: %v", len(got), err)
		}
		for _, t := range got {
			if err := s.MarkRunning(ctx, t.Lease); err != nil {
				b.Fatal(err)
			}
			if err := s.Complete(ctx, store.Completion{Lease: t.Lease, Outputs: []store.OutputData{{ResultID: t.ExpectedOutputIDs[0],
				Data: store.ResultData{Inline: []byte("ok")}}}}); err != nil {
				b.Fatal(err)
			}
		}
		cpu += serverCPU(b, c) - before
		tasks += 100
	}
	b.ReportMetric(cpu/tasks, "valkey-cpu-µs/task")
}
