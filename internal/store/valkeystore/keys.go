package valkeystore

import (
	"strconv"

	"github.com/chorus-hpc/chorus/internal/validate"
)

// The key layout, built here and nowhere else in Go (lua/lib.lua derives the session keys from the
// meta key passed as KEYS[1] with the same suffixes).
//
// Session keys share the hash tag {<prefix>s:<session id>} and so one slot:
//
//	:m         hash   session meta: st (status), w (weight), pb (chorus.v1.Session protobuf), ut (update ms),
//	                  seq (the last number given to a task the store named; see ids.go)
//	:c         hash   task count per status ("1".."7")
//	:pc:<p>    hash   task count per status in partition p
//	:parts     set    partitions the session's tasks use
//	:t         hash   task id → header, a MessagePack array (status, attempt, token, partition, priority,
//	                  max retries, waiting-on count, queue ms, outputs csv, agent, dispatch ms, start ms)
//	:tb        hash   task id → body, the protobuf chorus.v1.Task as submitted (immutable)
//	:pl        hash   task id → inline payload (only non-empty ones)
//	:at        hash   task id → earlier attempts (JSON), written when an attempt is retried (the current
//	                  attempt lives in the header)
//	:te        hash   task id → "end ms|error kind|message" of finished tasks, but for a COMPLETED task
//	                  whose completion wrote its first expected output: it ended when that output did
//	:tl        list   task ids in submission order (ListTasks)
//	:r         hash   result id → "st|owner|size|sha256|location|create ms|end ms|abort reason"
//	:rd        hash   result id → inline data or object-store key
//	:rl        list   result ids in creation order (ListResults)
//	:w:<rid>   list   ids of PENDING tasks waiting for result rid (deleted when it completes or aborts)
//	:wl        set    ids of the results that have a waiter list (the purge deletes what is left)
//	:ro        set    ids of the results whose data is in the object store (the purge deletes them)
//	:q:<p>:<n> list   ready task ids of partition p and priority n, oldest first (an entry whose task
//	                  is no longer QUEUED is skipped when popped; see lib.lua)
//	:d:<p>     zset   retry-delayed tasks of partition p, score = due ms
//	:l:<p>     zset   leased tasks of partition p, score = lease expiry ms
//	:ev        stream events (capped near 100000 entries); status changes of one script run are one
//	                  entry per status (fields kind, status, tasks/results, attempts/sizes; see lib.lua)
//	:req:<id>  string SubmitTasks answer for a request id (24h)
//	:rq        zset   the request ids with an answer kept, score = its expiry ms (a purge deletes
//	                  their answers)
//
// Partition keys share the hash tag {<prefix>p:<partition>} (hints, repaired idempotently):
//
//	:ready     zset   sessions with ready work, score = fair-share pass (virtual time)
//	:vt        string virtual time: the pass of the last session served
//	:delayed   zset   sessions with retry-delayed work, score = earliest due ms
//	:leases    zset   sessions with leases, score = earliest expiry ms (may be early, never late)
//	:sessions  set    sessions that ever had tasks in the partition (GetPartition sums their counts)
//	:wake      list   wake-up tokens for WaitForWork (BLPOP)
//	:agents    hash   agent id → heartbeat JSON with its expiry (an expired entry stays until
//	                  RequeueDeadAgents has taken back the agent's leases)
//	:active    set    sessions that may have unfinished tasks in the partition (their counts are refreshed)
//	:snap      hash   session id → last counted "c1,…,c7" of its tasks in the partition
//	:tot       hash   status ("1".."7") → sum of the snapshots: the partition's task counts
//	:rcur      string the reconciler's SSCAN cursor over :sessions
//	:acur      string the count refresher's SSCAN cursor over :active
//
// Agent keys share the hash tag {<prefix>a:<agent id>} (a hint, repaired by the reconciler):
//
//	:leases    zset   "<partition>\n<session id>" for every session where the agent may hold leases,
//	                  score = when a claim or the reconciler last saw it (older than an hour: pruned)
//
// Tenant keys share the hash tag {<prefix>t:<tenant>} (sessions of tenant "" are in none):
//
//	:sessions  zset   the tenant's sessions, score = create ms (ListSessions of one tenant)
//	:live      zset   the tenant's sessions not purged, score = create ms (quotas; repaired on refusal)
//
// Global keys: <prefix>sessions (zset id → create ms), <prefix>partitions (set of declared names),
// <prefix>served (set of partitions agents have served), <prefix>bg (zset session id → ms: sessions
// whose cancellation is still being worked through in bounded chunks).
type keys struct{ prefix string }

func (k keys) sessionTag(id string) string { return "{" + k.prefix + "s:" + id + "}" }

// meta is the session meta key, KEYS[1] of every session script.
func (k keys) meta(id string) string          { return k.sessionTag(id) + ":m" }
func (k keys) counts(id string) string        { return k.sessionTag(id) + ":c" }
func (k keys) partCounts(id, p string) string { return k.sessionTag(id) + ":pc:" + p }
func (k keys) tasks(id string) string         { return k.sessionTag(id) + ":t" }
func (k keys) bodies(id string) string        { return k.sessionTag(id) + ":tb" }
func (k keys) payloads(id string) string      { return k.sessionTag(id) + ":pl" }
func (k keys) attempts(id string) string      { return k.sessionTag(id) + ":at" }
func (k keys) taskEnds(id string) string      { return k.sessionTag(id) + ":te" }
func (k keys) taskList(id string) string      { return k.sessionTag(id) + ":tl" }
func (k keys) results(id string) string       { return k.sessionTag(id) + ":r" }
func (k keys) resultData(id string) string    { return k.sessionTag(id) + ":rd" }
func (k keys) resultTrace(id string) string   { return k.sessionTag(id) + ":rtp" } // result id → producer's traceparent
func (k keys) resultList(id string) string    { return k.sessionTag(id) + ":rl" }

// queues are the ready queues of a session's partition, one per priority, highest first.
func (k keys) queues(id, p string) []string {
	out := make([]string, 0, validate.MaxPriority-validate.MinPriority+1)
	for n := validate.MaxPriority; n >= validate.MinPriority; n-- {
		out = append(out, k.sessionTag(id)+":q:"+p+":"+strconv.Itoa(int(n)))
	}
	return out
}
func (k keys) events(id string) string             { return k.sessionTag(id) + ":ev" }
func (k keys) request(id, requestID string) string { return k.sessionTag(id) + ":req:" + requestID }

func (k keys) partTag(p string) string      { return "{" + k.prefix + "p:" + p + "}" }
func (k keys) ready(p string) string        { return k.partTag(p) + ":ready" }
func (k keys) vtime(p string) string        { return k.partTag(p) + ":vt" }
func (k keys) delayed(p string) string      { return k.partTag(p) + ":delayed" }
func (k keys) leases(p string) string       { return k.partTag(p) + ":leases" }
func (k keys) partSessions(p string) string { return k.partTag(p) + ":sessions" }
func (k keys) wake(p string) string         { return k.partTag(p) + ":wake" }
func (k keys) agents(p string) string       { return k.partTag(p) + ":agents" }
func (k keys) active(p string) string       { return k.partTag(p) + ":active" }
func (k keys) snap(p string) string         { return k.partTag(p) + ":snap" }
func (k keys) tot(p string) string          { return k.partTag(p) + ":tot" }
func (k keys) rcur(p string) string         { return k.partTag(p) + ":rcur" }
func (k keys) acur(p string) string         { return k.partTag(p) + ":acur" }
func (k keys) agentLeases(agent string) string {
	return "{" + k.prefix + "a:" + agent + "}:leases"
}
func (k keys) background() string         { return k.prefix + "bg" }
func (k keys) sessionIndex() string       { return k.prefix + "sessions" }
func (k keys) declaredPartitions() string { return k.prefix + "partitions" }
func (k keys) servedPartitions() string   { return k.prefix + "served" }

// Tenant keys.
func (k keys) tenantTag(t string) string      { return "{" + k.prefix + "t:" + t + "}" }
func (k keys) tenantSessions(t string) string { return k.tenantTag(t) + ":sessions" }
func (k keys) tenantLive(t string) string     { return k.tenantTag(t) + ":live" }
