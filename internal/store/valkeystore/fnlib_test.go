package valkeystore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// lifecycle submits a task with one output into a new session, claims it and completes it.
func lifecycle(t *testing.T, s *valkeystore.Store) string {
	t.Helper()
	ctx := t.Context()
	sid, _ := cpuSession(t, s, store.TaskSpec{Method: "m", ExpectedOutputIDs: []string{"o"}})
	got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 10, LeaseTTL: time.Minute})
	if err != nil || len(got) != 1 {
		t.Fatalf("Claim: %v, %v; want one task", got, err)
	}
	res, err := s.RecordOutcomes(ctx, []store.Outcome{{Kind: store.OutcomeComplete, Lease: got[0].Lease, Started: time.Now(),
		Completion: &store.Completion{Lease: got[0].Lease, Outputs: []store.OutputData{{ResultID: "o", Data: store.ResultData{Inline: []byte("v")}}}}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("RecordOutcomes: %v %v", err, res)
	}
	sess, err := s.GetSession(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if !onlyOneCompleted(sess.TaskCounts) {
		t.Fatalf("session counts %v; want one completed task", sess.TaskCounts)
	}
	return sid
}

// onlyOneCompleted reports whether c counts one completed task and no other.
func onlyOneCompleted(c *chorusv1.TaskCounts) bool {
	return c.GetPending() == 0 && c.GetQueued() == 0 && c.GetDispatched() == 0 && c.GetRunning() == 0 &&
		c.GetCompleted() == 1 && c.GetFailed() == 0 && c.GetCancelled() == 0
}

// commandCalls is how many calls of cmd the server ran without an error, and how many it refused or
// ran with one, from INFO commandstats (calls counts the calls run, failed ones included).
func commandCalls(t *testing.T, c valkey.Client, cmd string) (ok, bad int) {
	var calls, failed, rejected int
	t.Helper()
	info, err := c.Do(t.Context(), c.B().Info().Section("commandstats").Build()).ToString()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":")
		if !ok {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			var dst *int
			switch k {
			case "calls":
				dst = &calls
			case "rejected_calls":
				dst = &rejected
			case "failed_calls":
				dst = &failed
			default:
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("commandstats field %s=%q: %v", k, v, err)
			}
			*dst = n
		}
	}
	return calls - failed, failed + rejected
}

// libraries lists the names of the server's function libraries.
func libraries(t *testing.T, c valkey.Client) []string {
	t.Helper()
	libs, err := c.Do(t.Context(), c.B().FunctionList().Build()).ToArray()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range libs {
		m, err := l.AsMap()
		if err != nil {
			t.Fatal(err)
		}
		v := m["library_name"]
		n, _ := v.ToString()
		names = append(names, n)
	}
	return names
}

// TestHotScriptsRunAsFunctions: submit, claim and outcomes run as FCALLs of one library, which the
// store loads itself on a server that does not have it, and loads again after FUNCTION FLUSH.
func TestHotScriptsRunAsFunctions(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "")
	lifecycle(t, s)
	libs := libraries(t, c)
	if len(libs) != 1 || !strings.HasPrefix(libs[0], "chorus_") {
		t.Fatalf("function libraries %v; want one chorus_ library", libs)
	}
	ok, bad := commandCalls(t, c, "fcall")
	// the first FCALL finds no library (loaded then), then submit, claim and outcomes
	if ok < 3 || bad > 1 {
		t.Fatalf("FCALL ran %d calls, %d refused or failed; want submit, claim and outcomes", ok, bad)
	}
	if err := c.Do(t.Context(), c.B().FunctionFlush().Build()).Error(); err != nil {
		t.Fatal(err)
	}
	lifecycle(t, s)
	if libs := libraries(t, c); len(libs) != 1 {
		t.Fatalf("after FUNCTION FLUSH and a lifecycle, function libraries %v; want the store's loaded again", libs)
	}
}

// TestFunctionRunLeavesNothingBehind: a library keeps its Lua state from one call to the next, so a
// call that raised an error half way (here a claim whose lease index has the wrong type) must not
// leave its deferred writes (headers, counts, events) to the next call, which would write them into
// another session.
func TestFunctionRunLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	s, c := startStore(t, "")
	ctx := t.Context()
	lifecycle(t, s) // the library is loaded
	bad, _ := cpuSession(t, s, store.TaskSpec{Method: "m"})
	if err := c.Do(ctx, c.B().Set().Key("{chorus:s:"+bad+"}:l:cpu").Value("not a sorted set").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 10, LeaseTTL: time.Minute}); err == nil {
		t.Fatal("a claim whose lease index is a string succeeded; want its error")
	}
	good := lifecycle(t, s)
	sess, err := s.GetSession(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if !onlyOneCompleted(sess.TaskCounts) {
		t.Fatalf("after a failed call for another session, counts %v; want one completed task only", sess.TaskCounts)
	}
	tasks, err := c.Do(ctx, c.B().Hlen().Key("{chorus:s:"+good+"}:t").Build()).AsInt64()
	if err != nil || tasks != 1 {
		t.Fatalf("the session holds %d task headers (%v); want its one task", tasks, err)
	}
}

// TestFunctionsRefusedByACL: a Valkey user whose ACL predates FCALL and FUNCTION LOAD runs the same
// scripts with EVALSHA, and is not asked for FCALL again on every call.
func TestFunctionsRefusedByACL(t *testing.T) {
	t.Parallel()
	admin, c := aclClients(t, "fcall", "function")
	s := newStore(t, c, "", nil)
	for range 3 {
		lifecycle(t, s)
	}
	ok, bad := commandCalls(t, admin, "fcall")
	if ok != 0 || bad != 1 {
		t.Fatalf("FCALL ran %d calls and refused %d; want it asked once, then left for EVALSHA", ok, bad)
	}
	if n, _ := commandCalls(t, admin, "evalsha"); n < 9 {
		t.Fatalf("EVALSHA ran %d times; want the scripts of three lifecycles", n)
	}
}

// TestFunctionsLoadedOnEveryClusterNode: in a cluster each primary gets the library from the store.
func TestFunctionsLoadedOnEveryClusterNode(t *testing.T) {
	t.Parallel()
	cl := valkeytest.StartCluster(t)
	c := cl.Client(t)
	s := newStore(t, c, "", nil)
	lifecycle(t, s)
	for addr, n := range c.Nodes() {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		libs, err := n.Do(ctx, n.B().FunctionList().Build()).ToArray()
		cancel()
		if err != nil {
			t.Fatalf("FUNCTION LIST on %s: %v", addr, err)
		}
		if len(libs) != 1 {
			t.Errorf("node %s holds %d function libraries; want the store's", addr, len(libs))
		}
	}
}

// TestNoFunctionLoadWaitsForAGateway: a store that may not load the library (an agent's) runs the
// scripts with EVALSHA on a server without it, and with FCALL once a gateway's store has loaded it
// (after fnRetry: it does not ask on every call).
func TestNoFunctionLoadWaitsForAGateway(t *testing.T) {
	t.Parallel()
	c := valkeytest.Start(t).Client(t)
	clk := clock.NewFake(time.Now())
	agent := newStore(t, c, "", func(cfg *valkeystore.Config) { cfg.NoFunctionLoad = true; cfg.Clock = clk })
	lifecycle(t, agent)
	lifecycle(t, agent)
	if libs := libraries(t, c); len(libs) != 0 {
		t.Fatalf("function libraries %v after an agent's calls; want none (agents leave loading to gateways)", libs)
	}
	if ok, bad := commandCalls(t, c, "fcall"); ok != 0 || bad != 1 {
		t.Fatalf("FCALL ran %d calls and failed %d; want one call that found no library, then EVALSHA", ok, bad)
	}
	gateway := newStore(t, c, "", nil)
	lifecycle(t, gateway)
	gok, _ := commandCalls(t, c, "fcall")
	clk.Advance(31 * time.Second)
	lifecycle(t, agent)
	if ok, _ := commandCalls(t, c, "fcall"); ok < gok+3 {
		t.Fatalf("FCALL ran %d calls after the agent's lifecycle, %d before; want its submit, claim and outcomes", ok, gok)
	}
}
