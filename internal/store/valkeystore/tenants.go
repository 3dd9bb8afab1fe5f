package valkeystore

import (
	"context"
	"strconv"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// Tenant quotas. A tenant's sets live in the tenant's own slot ({<prefix>t:<tenant>}), apart from its
// sessions' slots, so no script can update them together with a session. They are kept right this way:
//
//   - A new session is first reserved in the tenant's :live and :sessions sets by one script on the
//     tenant's slot (the quota check and the add are atomic, so concurrent creations never pass the
//     session quota), then created; a failed creation takes its reservation back.
//   - A purge removes the session from :live after the purge script. A crash in between leaves a purged
//     session in :live; a crash between the reservation and the creation leaves an id with no session.
//     Both only ever over-count, and are repaired when a creation would be refused: the refusal first
//     drops purged sessions and long-missing ids from :live, then tries once more.
//   - The unfinished-task count of a tenant is not a counter at all: it is summed from the per-session
//     task counts (kept atomically by every session script) of the tenant's :live sessions, in one
//     pipelined round trip, so it can never drift. It is read before a submission, not atomically with
//     it: concurrent submissions of one tenant may pass the quota by at most their own sizes.

// missingGraceMS is how old a reservation without a session must be before a repair drops it (a
// creation in progress has reserved its id but not written its session yet).
const missingGraceMS = 60_000

func (s *Store) reserveTenantSession(ctx context.Context, tenant, id string, nowMS, max int64) error {
	keys := []string{s.keys.tenantLive(tenant), s.keys.tenantSessions(tenant)}
	args := []string{id, itoa(nowMS), itoa(max)}
	for attempt := 0; ; attempt++ {
		ok, err := s.scripts.tenantReserve.Exec(ctx, s.client, keys, args).AsInt64()
		if err != nil {
			return storeErr("reserving a place in the tenant's session quota", err)
		}
		if ok == 1 {
			return nil
		}
		removed, live, err := s.repairTenantLive(ctx, tenant, nowMS)
		if err != nil {
			return err
		}
		if removed == 0 || attempt > 0 {
			return store.Errorf(store.CodeResourceExhausted,
				"tenant %q holds %d sessions that are not purged, the most its quota max_sessions allows (%d): purge sessions it no longer needs (close or cancel, then purge) or ask for a larger quota",
				tenant, live, max)
		}
	}
}

// unreserveTenantSession takes back the reservation of a session whose creation failed.
func (s *Store) unreserveTenantSession(ctx context.Context, tenant, id string) {
	for _, k := range []string{s.keys.tenantLive(tenant), s.keys.tenantSessions(tenant)} {
		_ = s.client.Do(context.WithoutCancel(ctx), s.client.B().Zrem().Key(k).Member(id).Build()).Error()
	}
}

// untrackPurged removes a purged session from its tenant's live sessions.
func (s *Store) untrackPurged(ctx context.Context, sess *chorusv1.Session) error {
	if sess.GetTenant() == "" {
		return nil
	}
	if err := s.client.Do(ctx, s.client.B().Zrem().Key(s.keys.tenantLive(sess.GetTenant())).Member(sess.GetSessionId()).Build()).Error(); err != nil {
		return storeErr("removing the purged session from its tenant's quota", err)
	}
	return nil
}

// liveSessions returns the ids and reservation times of a tenant's sessions that are not purged.
func (s *Store) liveSessions(ctx context.Context, tenant string) (ids []string, ms []int64, err error) {
	zs, err := s.client.Do(ctx, s.client.B().Zrange().Key(s.keys.tenantLive(tenant)).Min("0").Max("-1").Withscores().Build()).AsZScores()
	if err != nil {
		return nil, nil, storeErr("reading the tenant's sessions", err)
	}
	for _, z := range zs {
		ids, ms = append(ids, z.Member), append(ms, int64(z.Score))
	}
	return ids, ms, nil
}

// repairTenantLive drops purged sessions, and ids reserved long ago whose session was never written,
// from the tenant's live set. It returns how many it dropped and how many are left.
func (s *Store) repairTenantLive(ctx context.Context, tenant string, nowMS int64) (removed, left int, err error) {
	ids, ms, err := s.liveSessions(ctx, tenant)
	if err != nil || len(ids) == 0 {
		return 0, 0, err
	}
	cmds := make([]valkeyCmd, len(ids))
	for i, id := range ids {
		cmds[i] = s.client.B().Hget().Key(s.keys.meta(id)).Field("st").Build()
	}
	var drop []string
	for i, r := range s.client.DoMulti(ctx, cmds...) {
		st, err := r.ToString()
		if err != nil && !valkeyNil(err) {
			return 0, 0, storeErr("reading the status of the tenant's sessions", err)
		}
		purged := st == strconv.Itoa(int(chorusv1.SessionStatus_SESSION_STATUS_PURGED))
		missing := valkeyNil(err) && nowMS-ms[i] > missingGraceMS
		if purged || missing {
			drop = append(drop, ids[i])
		}
	}
	if len(drop) > 0 {
		if err := s.client.Do(ctx, s.client.B().Zrem().Key(s.keys.tenantLive(tenant)).Member(drop...).Build()).Error(); err != nil {
			return 0, 0, storeErr("repairing the tenant's live sessions", err)
		}
	}
	return len(drop), len(ids) - len(drop), nil
}

// checkTenantQueued refuses a batch that would take the tenant past its unfinished-task quota.
func (s *Store) checkTenantQueued(ctx context.Context, b store.SubmitBatch) error {
	if b.MaxTenantQueued <= 0 || b.Tenant == "" {
		return nil
	}
	ids, _, err := s.liveSessions(ctx, b.Tenant)
	if err != nil || len(ids) == 0 {
		return err
	}
	cmds := make([]valkeyCmd, len(ids))
	for i, id := range ids {
		cmds[i] = s.client.B().Hmget().Key(s.keys.counts(id)).Field("1", "2", "3", "4").Build()
	}
	var unfinished int64
	for _, r := range s.client.DoMulti(ctx, cmds...) {
		vals, err := r.ToArray()
		if err != nil {
			return storeErr("counting the tenant's unfinished tasks", err)
		}
		for _, v := range vals {
			n, _ := v.AsInt64()
			unfinished += n
		}
	}
	if unfinished+int64(len(b.Tasks)) > b.MaxTenantQueued {
		return store.Errorf(store.CodeResourceExhausted,
			"tenant %q has %d unfinished tasks; %d more would pass its quota max_queued_tasks (%d): wait for tasks to finish or ask for a larger quota",
			b.Tenant, unfinished, len(b.Tasks), b.MaxTenantQueued)
	}
	return nil
}
