package valkeystore_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestIndexWritesRetriedAfterAnError: a partition index write that follows a committed script and
// fails is tried again (a Cluster master failing over answers errors for seconds), with its commands
// built anew: valkey-go recycles a command once sent, and sending it again crashed the agent.
func TestIndexWritesRetriedAfterAnError(t *testing.T) {
	t.Parallel()
	c := valkeytest.Start(t).Client(t)
	s := newStore(t, c, "ir:", func(cfg *valkeystore.Config) { cfg.IndexRetry = 30 * time.Second })
	ctx := t.Context()
	sess, err := s.CreateSession(ctx, store.SessionSpec{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "cpu", MaxRetries: proto.Int32(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitTasks(ctx, sess.SessionId, store.SubmitBatch{Tasks: []store.TaskSpec{{Method: "a"}, {Method: "b"}}}); err != nil {
		t.Fatal(err)
	}
	// breakFor makes key a string, so that writing it as an index fails with WRONGTYPE (a stand-in
	// for CLUSTERDOWN during a failover), and deletes it again after a while.
	breakFor := func(key string) {
		if err := c.Do(ctx, c.B().Set().Key(key).Value("not an index").Build()).Error(); err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(300*time.Millisecond, func() { c.Do(ctx, c.B().Del().Key(key).Build()) })
	}

	// Claim: its lease index write fails, then succeeds.
	breakFor("{ir:p:cpu}:leases")
	claimed, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "agent-1", Max: 1})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("Claim while the lease index failed for a while = %d tasks, %v; want 1 task", len(claimed), err)
	}
	exp, err := c.Do(ctx, c.B().Zscore().Key("{ir:p:cpu}:leases").Member(sess.SessionId).Build()).AsFloat64()
	if err != nil || exp <= 0 {
		t.Fatalf("the session's lease is not indexed after the retry: %v, %v", exp, err)
	}

	// A retried failure: its delayed index write fails, then succeeds.
	breakFor("{ir:p:cpu}:delayed")
	res, err := s.RecordOutcomes(ctx, []store.Outcome{{Kind: store.OutcomeFail, Lease: claimed[0].Lease,
		Error: &chorusv1.TaskError{Kind: chorusv1.ErrorKind_ERROR_KIND_WORKER_ERROR, Message: "boom", Retryable: true}}})
	if err != nil || len(res) != 1 || res[0].Err != nil || !res[0].Retried {
		t.Fatalf("RecordOutcomes while the delayed index failed for a while = %+v, %v; want one retried failure", res, err)
	}
	due, err := c.Do(ctx, c.B().Zscore().Key("{ir:p:cpu}:delayed").Member(sess.SessionId).Build()).AsFloat64()
	if err != nil || due <= 0 {
		t.Fatalf("the session's retry is not indexed after the retry: %v, %v", due, err)
	}
}
