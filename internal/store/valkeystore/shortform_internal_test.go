package valkeystore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestShortFormWritesWhatTheLongFormWrites submits the same batch in the long form and in the short
// form (tasks.go shortForm) to two sessions and compares every key they wrote, value by value: the
// short form is only a cheaper way to the same state.
func TestShortFormWritesWhatTheLongFormWrites(t *testing.T) {
	srv := valkeytest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	s, err := New(Config{Client: c, Clock: clock.NewFake(time.UnixMilli(1_780_000_000_123))})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", bodyInline+1)
	specs := []store.TaskSpec{
		{Method: "echo", ExpectedOutputIDs: []string{"out-a"}},
		{Method: "echo", ExpectedOutputIDs: []string{"out-b", "out-c"}, Payload: []byte("inline payload"),
			Options: &chorusv1.TaskOptions{Partition: "gpu", Priority: new(int32(7)), MaxRetries: new(int32(5))}},
		{Method: "echo-with-a-method-name-long-enough-" + big},
		{Method: "echo", ExpectedOutputIDs: []string{"out-d"}, Options: &chorusv1.TaskOptions{Priority: new(int32(2))}},
	}
	state := map[bool]map[string]string{}
	for _, short := range []bool{false, true} {
		sess, err := s.CreateSession(ctx, store.SessionSpec{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "cpu"}})
		if err != nil {
			t.Fatal(err)
		}
		sid := sess.SessionId
		now := s.nowMS()
		args := []string{itoa(now), "req-1", "0"}
		if args, err = s.encodeTasks(ctx, sid, specs, make([]string, len(specs)), "", "", "", args, short, now); err != nil {
			t.Fatal(err)
		}
		if got := strings.HasPrefix(args[3], "F"); got != short {
			t.Fatalf("short %v: the batch's count is %q", short, args[3])
		}
		res := s.runThen(ctx, s.scripts.submit, sid, args, []string{s.keys.request(sid, "req-1")}, &pipeline{})
		if err := res[0].Error(); err != nil {
			t.Fatalf("short %v: %v", short, err)
		}
		state[short] = dumpSession(t, s, sid)
	}
	long, short := state[false], state[true]
	if len(long) < 15 {
		t.Fatalf("the long form wrote only %d values: %v", len(long), slices.Sorted(maps.Keys(long)))
	}
	for _, k := range slices.Sorted(maps.Keys(long)) {
		if short[k] != long[k] {
			t.Errorf("%s: short form %q, long form %q", k, short[k], long[k])
		}
	}
	for k := range short {
		if _, ok := long[k]; !ok {
			t.Errorf("%s: written by the short form only (%q)", k, short[k])
		}
	}
}

// TestShortFormTakesTheLongWayForOutputsThatExist submits a short batch one of whose outputs exists:
// it is refused as the long form refuses it, and one that takes over a created result succeeds.
func TestShortFormTakesTheLongWayForOutputsThatExist(t *testing.T) {
	srv := valkeytest.Start(t)
	s, err := New(Config{Client: srv.Client(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sess, err := s.CreateSession(ctx, store.SessionSpec{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "cpu"}})
	if err != nil {
		t.Fatal(err)
	}
	sid := sess.SessionId
	batch := store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "echo", ExpectedOutputIDs: []string{"out-1"}}}}
	if !shortForm(batch) {
		t.Fatal("a batch without dependencies does not take the short form")
	}
	if _, err := s.SubmitTasks(ctx, sid, batch); err != nil {
		t.Fatal(err)
	}
	_, err = s.SubmitTasks(ctx, sid, batch)
	if store.CodeOf(err) != store.CodeFailedPrecondition || !strings.Contains(err.Error(), "owned by unfinished task") {
		t.Fatalf("a second task expecting out-1: %v, want FAILED_PRECONDITION: owned by unfinished task", err)
	}
	twice := store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "echo", ExpectedOutputIDs: []string{"out-2"}}, {Method: "echo", ExpectedOutputIDs: []string{"out-2"}}}}
	if _, err := s.SubmitTasks(ctx, sid, twice); store.CodeOf(err) != store.CodeFailedPrecondition || !strings.Contains(err.Error(), "expected by two tasks") {
		t.Fatalf("two tasks of a batch expecting out-2: %v, want FAILED_PRECONDITION: expected by two tasks", err)
	}
	if _, err := s.CreateResults(ctx, sid, []store.ResultSpec{{ResultID: "out-3"}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SubmitTasks(ctx, sid, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "echo", ExpectedOutputIDs: []string{"out-3"}}}})
	if err != nil {
		t.Fatalf("a task expecting a created result: %v", err)
	}
	r, err := s.GetResult(ctx, sid, "out-3")
	if err != nil || r.GetOwnerTaskId() != got[0].GetTaskId() {
		t.Fatalf("out-3 is owned by %q (%v), want %q", r.GetOwnerTaskId(), err, got[0].GetTaskId())
	}
}

// dumpSession reads every key of session sid as text: hashes field by field, lists and sets as
// their members, stream entries without their ids (which hold times), strings as they are. The
// session's id is replaced by "<sid>".
func dumpSession(t *testing.T, s *Store, sid string) map[string]string {
	t.Helper()
	ctx := context.Background()
	c := s.client
	tag := s.keys.sessionTag(sid)
	keys, err := c.Do(ctx, c.B().Keys().Pattern(escapeGlob(tag)+"*").Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	put := func(k, v string) { out[strings.TrimPrefix(k, tag)] = strings.ReplaceAll(v, sid, "<sid>") }
	for _, k := range keys {
		typ, err := c.Do(ctx, c.B().Type().Key(k).Build()).ToString()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "hash":
			m, err := c.Do(ctx, c.B().Hgetall().Key(k).Build()).AsStrMap()
			if err != nil {
				t.Fatal(err)
			}
			for f, v := range m {
				put(k+" "+f, v)
			}
		case "list":
			l, err := c.Do(ctx, c.B().Lrange().Key(k).Start(0).Stop(-1).Build()).AsStrSlice()
			if err != nil {
				t.Fatal(err)
			}
			put(k, strings.Join(l, ","))
		case "set":
			m, err := c.Do(ctx, c.B().Smembers().Key(k).Build()).AsStrSlice()
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(m)
			put(k, strings.Join(m, ","))
		case "zset":
			z, err := c.Do(ctx, c.B().Zrange().Key(k).Min("0").Max("-1").Withscores().Build()).AsZScores()
			if err != nil {
				t.Fatal(err)
			}
			put(k, fmt.Sprint(z))
		case "stream":
			x, err := c.Do(ctx, c.B().Xrange().Key(k).Start("-").End("+").Build()).AsXRange()
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range x {
				put(fmt.Sprintf("%s #%d", k, i), fmt.Sprint(e.FieldValues))
			}
		case "string":
			v, err := c.Do(ctx, c.B().Get().Key(k).Build()).ToString()
			if err != nil {
				t.Fatal(err)
			}
			put(k, v)
		default:
			t.Fatalf("key %s has type %s", k, typ)
		}
	}
	return out
}

func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`)
	return r.Replace(s)
}
