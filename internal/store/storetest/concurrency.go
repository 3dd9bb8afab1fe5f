package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func testConcurrentClaimers(t *testing.T, s store.Store, _ *clock.Fake) {
	sids := []string{newSession(t, s, 1), newSession(t, s, 2)}
	const perSession = 150
	for _, sid := range sids {
		specs := make([]store.TaskSpec, perSession)
		for i := range specs {
			specs[i] = store.TaskSpec{Method: "m"}
		}
		submit(t, s, sid, specs...)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: fmt.Sprint("agent-", w), Max: 1 + w, LeaseTTL: time.Minute})
				if err != nil {
					t.Errorf("Claim: %v", err)
					return
				}
				if len(c) == 0 {
					return
				}
				for _, ct := range c {
					mu.Lock()
					seen[ct.Lease.TaskID]++
					mu.Unlock()
					if err := s.Complete(ctx(t), store.Completion{Lease: ct.Lease}); err != nil {
						t.Errorf("Complete: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != 2*perSession {
		t.Fatalf("claimed %d distinct tasks, want %d", len(seen), 2*perSession)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("task %s claimed %d times", id, n)
		}
	}
}

func testFairness(t *testing.T, s store.Store, _ *clock.Fake) {
	big, small := newSession(t, s, 1), newSession(t, s, 1)
	specs := make([]store.TaskSpec, 500)
	for i := range specs {
		specs[i] = store.TaskSpec{Method: "big"}
	}
	submit(t, s, big, specs...)
	submit(t, s, small, make10("small")...)
	got := map[string]int{}
	for range 20 {
		for _, c := range claim(t, s, 1) {
			got[c.Lease.SessionID]++
		}
	}
	if got[small] < 8 {
		t.Fatalf("in 20 single claims the small session got %d tasks and the big one %d; want the small one about half", got[small], got[big])
	}
	// weights: a session of weight 3 gets about three times the claims of one of weight 1
	heavy, light := newSession(t, s, 3), newSession(t, s, 1)
	submit(t, s, heavy, make10("h")...)
	submit(t, s, light, make10("l")...)
	// the first two sessions still have work: heavy and light join at the current virtual time
	got = map[string]int{}
	for range 8 {
		c, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "a", Max: 1, LeaseTTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range c {
			got[ct.Lease.SessionID]++
		}
	}
	if got[heavy] <= got[light] {
		t.Fatalf("weight 3 session got %d, weight 1 got %d; want more for the heavier", got[heavy], got[light])
	}
}

func make10(m string) []store.TaskSpec {
	specs := make([]store.TaskSpec, 10)
	for i := range specs {
		specs[i] = store.TaskSpec{Method: m}
	}
	return specs
}

// testRandomDAGs submits random graphs, then completes, fails and expires tasks in random order until
// nothing is left, and checks every task ended exactly once and every dependent was released once.
func testRandomDAGs(t *testing.T, s store.Store, clk *clock.Fake) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("seed %d", seed)
	sid := newSession(t, s, 1)
	const n = 60
	var specs []store.TaskSpec
	deps := map[int][]int{}
	for i := range n {
		sp := store.TaskSpec{Method: "m", ExpectedOutputIDs: []string{fmt.Sprint("o", i)}, Options: &chorusv1.TaskOptions{MaxRetries: proto.Int32(int32(rng.IntN(2)))}}
		for j := range i {
			if rng.IntN(10) == 0 {
				sp.DataDependencies = append(sp.DataDependencies, fmt.Sprint("o", j))
				deps[i] = append(deps[i], j)
			}
		}
		specs = append(specs, sp)
	}
	st := submit(t, s, sid, specs...)
	index := map[string]int{}
	for i, x := range st {
		index[x.TaskId] = i
	}
	claims := map[int]int{}
	for round := 0; round < 1000; round++ {
		c, err := s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "a", Max: 1 + rng.IntN(5), LeaseTTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		// nothing ready: let leases expire and backoffs pass (twice: expired leases wait for a backoff)
		for idle := 0; len(c) == 0 && idle < 3; idle++ {
			clk.Advance(time.Hour)
			if _, err := s.RequeueExpired(ctx(t), part, 1000); err != nil {
				t.Fatal(err)
			}
			c, _ = s.Claim(ctx(t), store.ClaimRequest{Partition: part, AgentID: "a", Max: 5, LeaseTTL: time.Second})
		}
		if len(c) == 0 {
			break
		}
		rng.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
		for _, ct := range c {
			i := index[ct.Lease.TaskID]
			for _, d := range deps[i] {
				if rs, err := s.GetResult(ctx(t), sid, fmt.Sprint("o", d)); err != nil || rs.Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
					t.Fatalf("task %d claimed before its dependency o%d completed", i, d)
				}
			}
			claims[i]++
			switch rng.IntN(6) {
			case 0: // agent dies: lease expires later
			case 1:
				if _, err := s.Fail(ctx(t), store.Failure{Lease: ct.Lease, Error: &chorusv1.TaskError{Message: "x", Retryable: rng.IntN(2) == 0}}); err != nil {
					t.Fatalf("Fail: %v", err)
				}
			default:
				complete(t, s, ct, "v")
				// a duplicate completion changes nothing
				if err := s.Complete(ctx(t), store.Completion{Lease: ct.Lease}); !store.IsLeaseLost(err) {
					t.Fatalf("duplicate completion: %v", err)
				}
			}
		}
	}
	evs, _, err := s.ReadEvents(ctx(t), store.EventQuery{SessionID: sid, Max: 100000, Kinds: []chorusv1.EventKind{chorusv1.EventKind_EVENT_KIND_TASK_STATUS}})
	if err != nil {
		t.Fatal(err)
	}
	ends := map[string]int{}
	releases := map[string]int{}
	for _, e := range evs {
		ts := e.GetTaskStatus()
		switch ts.Status {
		case chorusv1.TaskStatus_TASK_STATUS_COMPLETED, chorusv1.TaskStatus_TASK_STATUS_FAILED, chorusv1.TaskStatus_TASK_STATUS_CANCELLED:
			ends[ts.TaskId]++
		case chorusv1.TaskStatus_TASK_STATUS_QUEUED:
			if ts.Error == nil && ts.Attempt == 0 {
				releases[ts.TaskId]++
			}
		}
	}
	for i, x := range st {
		status := taskStatus(t, s, sid, x.TaskId)
		if status < chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			t.Fatalf("task %d did not end: %v", i, status)
		}
		if ends[x.TaskId] != 1 {
			t.Fatalf("task %d ended %d times", i, ends[x.TaskId])
		}
		if len(deps[i]) > 0 && releases[x.TaskId] > 1 {
			t.Fatalf("task %d released %d times", i, releases[x.TaskId])
		}
		if len(deps[i]) > 0 && status == chorusv1.TaskStatus_TASK_STATUS_COMPLETED && releases[x.TaskId] != 1 {
			t.Fatalf("completed dependent %d released %d times; want 1", i, releases[x.TaskId])
		}
		if status == chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
			for _, d := range deps[i] {
				if taskStatus(t, s, sid, st[d].TaskId) != chorusv1.TaskStatus_TASK_STATUS_COMPLETED {
					t.Fatalf("task %d completed though dependency %d did not", i, d)
				}
			}
		}
	}
	sess, _ := s.GetSession(ctx(t), sid)
	tc := sess.TaskCounts
	if tc.Completed+tc.Failed+tc.Cancelled != n || tc.Pending+tc.Queued+tc.Dispatched+tc.Running != 0 {
		t.Fatalf("counts %v do not add up to %d ended tasks", tc, n)
	}
}
