package valkeystore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"
	"google.golang.org/protobuf/proto"

	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestACLRefusalIsMisconfiguredAndNamesTheCommand: a command the Valkey user may not run is a
// misconfiguration (CodeMisconfigured, not retried as Unavailable), whose message names the command
// as Valkey did and points to the documented ACL, whether the command is sent by the store itself or
// by one of its scripts; credentials Valkey stops accepting are reported the same way.
func TestACLRefusalIsMisconfiguredAndNamesTheCommand(t *testing.T) {
	t.Parallel()
	srv := valkeytest.Start(t)
	admin := srv.Client(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name, denied string
		call         func(*testing.T, store.Store, string) error
		want         []string
	}{
		// purge_scan.lua runs SPOP even when the session has no result to pop
		{"in a script", "-spop", func(t *testing.T, s store.Store, sid string) error {
			if _, err := s.SetSessionStatus(ctx, sid, chorusv1.SessionStatus_SESSION_STATUS_CLOSED); err != nil {
				t.Fatalf("closing the session: %v", err)
			}
			_, _, err := s.PurgeSession(ctx, sid)
			return err
		}, []string{"purging the session", "'spop' command", "docs/security.md"}},
		// GetSession reads the task counts with HGETALL
		{"sent by the store", "-hgetall", func(t *testing.T, s store.Store, sid string) error {
			_, err := s.GetSession(ctx, sid)
			return err
		}, []string{"reading task counts", "'hgetall' command", "docs/security.md"}},
		// the user's password changes and its connections are closed: the store reconnects with the old one
		{"credentials", "", func(t *testing.T, s store.Store, sid string) error {
			for _, cmd := range [][]string{{"ACL", "SETUSER", "acl-credentials", "resetpass", ">another-password"}, {"CLIENT", "KILL", "USER", "acl-credentials"}} {
				if err := admin.Do(ctx, admin.B().Arbitrary(cmd...).Build()).Error(); err != nil {
					t.Fatalf("%v: %v", cmd, err)
				}
			}
			_, err := s.GetSession(ctx, sid)
			return err
		}, []string{"reading the session", "WRONGPASS", "--valkey-password", "docs/security.md"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := "acl-" + strings.Fields(tc.name)[len(strings.Fields(tc.name))-1]
			acl := []string{"ACL", "SETUSER", user, "on", ">password-0123456789", "~*", "+@all"}
			if tc.denied != "" {
				acl = append(acl, tc.denied)
			}
			if err := admin.Do(ctx, admin.B().Arbitrary(acl...).Build()).Error(); err != nil {
				t.Fatalf("creating the ACL user: %v", err)
			}
			c, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{srv.Addr}, Username: user,
				Password: "password-0123456789", DisableCache: true})
			if err != nil {
				t.Fatalf("connecting as the ACL user %s: %v", user, err)
			}
			t.Cleanup(c.Close)
			s := newStore(t, c, user+":", nil)
			sid, _ := cpuSession(t, s)
			err = tc.call(t, s, sid)
			if code := store.CodeOf(err); code != store.CodeMisconfigured {
				t.Fatalf("error with the ACL %q = %v (code %v); want code %v", tc.denied, err, code, store.CodeMisconfigured)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error with the ACL %q = %q; want it to contain %q", tc.denied, err, w)
				}
			}
			if strings.Contains(err.Error(), "@user_script") {
				t.Errorf("error = %q; want the script's sha and line left out", err)
			}
		})
	}
}

// TestOlderACLStillRuns: with an ACL file from before the scripts used SMISMEMBER and LMPOP, claims
// come highest priority first (each queue is popped in turn) and a completion still releases the
// tasks waiting on its output (each waiter list is read instead).
func TestOlderACLStillRuns(t *testing.T) {
	t.Parallel()
	_, c := aclClients(t, "smismember", "lmpop")
	ctx := t.Context()
	s := newStore(t, c, "", nil)
	prio := func(p int32) *chorusv1.TaskOptions { return &chorusv1.TaskOptions{Priority: proto.Int32(p)} }
	sid, st := cpuSession(t, s, store.TaskSpec{Method: "first", ExpectedOutputIDs: []string{"o"}, Options: prio(5)},
		store.TaskSpec{Method: "second", DataDependencies: []string{"o"}}, store.TaskSpec{Method: "low", Options: prio(1)})
	got, err := s.Claim(ctx, store.ClaimRequest{Partition: "cpu", AgentID: "a", Max: 10, LeaseTTL: time.Minute})
	if err != nil || len(got) != 2 || got[0].Method != "first" || got[1].Method != "low" {
		t.Fatalf("claimed %v, %v; want first (priority 5) then low (priority 1)", got, err)
	}
	res, err := s.RecordOutcomes(ctx, []store.Outcome{{Kind: store.OutcomeComplete, Lease: got[0].Lease, Completion: &store.Completion{Lease: got[0].Lease,
		Outputs: []store.OutputData{{ResultID: "o", Data: store.ResultData{Inline: []byte("v")}}}}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("RecordOutcomes: %v %v", err, res)
	}
	tk, err := s.GetTask(ctx, sid, st[1].TaskId)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != chorusv1.TaskStatus_TASK_STATUS_QUEUED {
		t.Fatalf("the task waiting on o is %v, want QUEUED", tk.Status)
	}
}

// aclClients starts a Valkey with a user that may run every command but denied, and returns a client
// of its default (admin) user and one of that user.
func aclClients(t *testing.T, denied ...string) (admin, user valkey.Client) {
	t.Helper()
	srv := valkeytest.Start(t)
	admin = srv.Client(t)
	args := []string{"ACL", "SETUSER", "acl-user", "on", ">password-0123456789", "~*", "+@all"}
	for _, d := range denied {
		args = append(args, "-"+d)
	}
	if err := admin.Do(t.Context(), admin.B().Arbitrary(args...).Build()).Error(); err != nil {
		t.Fatalf("creating the ACL user: %v", err)
	}
	user, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{srv.Addr}, Username: "acl-user",
		Password: "password-0123456789", DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(user.Close)
	return admin, user
}
