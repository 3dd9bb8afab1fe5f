package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func tenantSession(t *testing.T, s store.Store, tenant string, maxSessions int64) (string, error) {
	t.Helper()
	sess, err := s.CreateSession(ctx(t), store.SessionSpec{Tenant: tenant, MaxSessions: maxSessions,
		DefaultTaskOptions: &chorusv1.TaskOptions{Partition: part}})
	if err != nil {
		return "", err
	}
	if sess.GetTenant() != tenant {
		t.Fatalf("CreateSession: tenant %q, want %q", sess.GetTenant(), tenant)
	}
	return sess.GetSessionId(), nil
}

func listIDs(t *testing.T, s store.Store, tenant string) []string {
	t.Helper()
	var ids []string
	token := ""
	for {
		page, next, err := s.ListSessions(ctx(t), store.ListQuery[chorusv1.SessionStatus]{PageSize: 2, PageToken: token, Tenant: tenant})
		if err != nil {
			t.Fatalf("ListSessions(tenant %q): %v", tenant, err)
		}
		for _, p := range page {
			if tenant != "" && p.GetTenant() != tenant {
				t.Fatalf("ListSessions(tenant %q) returned session %s of tenant %q", tenant, p.GetSessionId(), p.GetTenant())
			}
			ids = append(ids, p.GetSessionId())
		}
		if next == "" {
			return ids
		}
		token = next
	}
}

// testTenants: a session records its tenant, ListSessions filters by tenant, and the per-tenant
// quotas (sessions not purged, unfinished tasks) refuse with ResourceExhausted naming the quota.
func testTenants(t *testing.T, s store.Store, _ *clock.Fake) {
	a1, err := tenantSession(t, s, "tenant-a", 2)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := tenantSession(t, s, "tenant-a", 2)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := tenantSession(t, s, "tenant-b", 0)
	if err != nil {
		t.Fatal(err)
	}
	none := newSession(t, s, 1)
	got, err := s.GetSession(ctx(t), a1)
	if err != nil || got.GetTenant() != "tenant-a" {
		t.Fatalf("GetSession: tenant %q, %v", got.GetTenant(), err)
	}

	if ids := listIDs(t, s, "tenant-a"); !sameSet(ids, []string{a1, a2}) {
		t.Fatalf("tenant-a lists %v, want %v", ids, []string{a1, a2})
	}
	if ids := listIDs(t, s, "tenant-b"); !sameSet(ids, []string{b1}) {
		t.Fatalf("tenant-b lists %v, want [%s]", ids, b1)
	}
	if ids := listIDs(t, s, "tenant-c"); len(ids) != 0 {
		t.Fatalf("tenant-c lists %v, want none", ids)
	}
	all := listIDs(t, s, "")
	for _, id := range []string{a1, a2, b1, none} {
		if !slices.Contains(all, id) {
			t.Fatalf("the unfiltered list lacks %s", id)
		}
	}

	// Session quota: two sessions not purged is the most tenant-a may hold.
	_, err = tenantSession(t, s, "tenant-a", 2)
	wantCode(t, err, store.CodeResourceExhausted, "a third session over max_sessions=2")
	if !strings.Contains(err.Error(), "max_sessions") {
		t.Fatalf("the refusal does not name the quota: %v", err)
	}
	if _, err := s.SetSessionStatus(ctx(t), a1, chorusv1.SessionStatus_SESSION_STATUS_CANCELLED); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PurgeSession(ctx(t), a1); err != nil {
		t.Fatal(err)
	}
	if _, err := tenantSession(t, s, "tenant-a", 2); err != nil {
		t.Fatalf("a session after purging one: %v", err)
	}

	// Unfinished-task quota, over the tenant's sessions.
	b2, err := tenantSession(t, s, "tenant-b", 0)
	if err != nil {
		t.Fatal(err)
	}
	quota := func(sid string, n int) error {
		specs := make([]store.TaskSpec, n)
		for i := range specs {
			specs[i] = store.TaskSpec{Method: "echo", Payload: []byte("x")}
		}
		_, err := s.SubmitTasks(ctx(t), sid, store.SubmitBatch{Tasks: specs, Tenant: "tenant-b", MaxTenantQueued: 3})
		return err
	}
	if err := quota(b1, 2); err != nil {
		t.Fatal(err)
	}
	if err := quota(b2, 1); err != nil {
		t.Fatal(err)
	}
	err = quota(b2, 1)
	wantCode(t, err, store.CodeResourceExhausted, "a fourth unfinished task over max_queued_tasks=3")
	if !strings.Contains(err.Error(), "max_queued_tasks") {
		t.Fatalf("the refusal does not name the quota: %v", err)
	}
	// Finishing a task makes room.
	c := claim(t, s, 1)
	if len(c) != 1 {
		t.Fatalf("claimed %d tasks, want 1", len(c))
	}
	complete(t, s, c[0], "done")
	if err := quota(b2, 1); err != nil {
		t.Fatalf("a task after one finished: %v", err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
