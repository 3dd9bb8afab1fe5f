// Package store is Chorus's state: sessions, tasks, results, queues, leases, dependencies and events.
// The gateway and the agent use it through the Store interface; the Valkey implementation lives in
// internal/store/valkeystore and every implementation must pass the conformance suite in
// internal/store/storetest.
//
// Resources are returned as the chorus.v1 messages (Session, Task, Result, Event, Partition); the
// operations take the plain Go structs of this package. Errors are *Error values with a Code that the
// gateway maps to a gRPC status in one place.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// Store is the narrow interface to Chorus's state. Every method is safe for concurrent use by any
// number of gateways and agents on any number of machines.
type Store interface {
	SessionStore
	ResultStore
	TaskStore
	AgentStore
	EventStore
	PartitionStore
	// Ping checks that the backing server answers (readiness).
	Ping(ctx context.Context) error
	// Close releases connections.
	Close()
}

// SessionStore manages sessions.
type SessionStore interface {
	// CreateSession creates a RUNNING session with a new id.
	CreateSession(ctx context.Context, spec SessionSpec) (*chorusv1.Session, error)
	// GetSession returns a session with its task counts. NotFound if it does not exist.
	GetSession(ctx context.Context, sessionID string) (*chorusv1.Session, error)
	// ListSessions returns a page of sessions, newest first, without task counts. Page tokens are
	// opaque; InvalidArgument (Field "page_token") for one the store did not make for this listing.
	ListSessions(ctx context.Context, q ListQuery[chorusv1.SessionStatus]) (sessions []*chorusv1.Session, nextPageToken string, err error)
	// SetSessionStatus moves a session to PAUSED, RUNNING (resume), CLOSED or CANCELLED. Moving to the
	// status it already has is a no-op. A CLOSED session accepts no new client tasks, but what it holds
	// (with subtasks, retries and dependents) runs to the end. Cancelling answers at once and cancels
	// every unfinished task in bounded chunks, the first within the call and the rest in the
	// background through Reconcile (running ones are reported by RenewLeases as cancelled), and
	// aborts their outputs. FailedPrecondition for a move the
	// state machine forbids (e.g. resuming a cancelled session).
	SetSessionStatus(ctx context.Context, sessionID string, to chorusv1.SessionStatus) (*chorusv1.Session, error)
	// PurgeSession deletes the tasks, results and events of a CLOSED or CANCELLED session whose tasks
	// have all ended and marks it PURGED; a purged session is no longer listed and its record expires
	// after a retention time. It returns the object-store keys of the session's results so the caller
	// deletes them. A session with unfinished tasks is refused (FailedPrecondition saying how many):
	// a closed session runs them to the end; cancel it to end them now, then purge.
	PurgeSession(ctx context.Context, sessionID string) (session *chorusv1.Session, objectKeys []string, err error)
}

// ResultStore manages results and their data.
type ResultStore interface {
	// CreateResults creates results, all or none. A spec with Data set is completed at once. An empty
	// ResultID gets a new id. AlreadyExists if an id is taken; FailedPrecondition if the session does
	// not accept new work.
	CreateResults(ctx context.Context, sessionID string, specs []ResultSpec) ([]*chorusv1.Result, error)
	// GetResult returns a result's metadata.
	GetResult(ctx context.Context, sessionID, resultID string) (*chorusv1.Result, error)
	// GetResultData returns where the data of COMPLETED results is, in the order asked, in one round
	// trip. FailedPrecondition if one is not completed.
	GetResultData(ctx context.Context, sessionID string, resultIDs []string) ([]ResultData, error)
	// CompleteResult writes the data of a CREATED result that no task owns (a client upload). The first
	// completion wins: FailedPrecondition if it is already completed or aborted, or owned by a task.
	// Dependents whose last dependency this was become QUEUED.
	CompleteResult(ctx context.Context, sessionID, resultID string, data ResultData) (*chorusv1.Result, error)
	// ListResults returns a page of a session's results, oldest first (page tokens as for
	// ListSessions).
	ListResults(ctx context.Context, sessionID string, q ListQuery[chorusv1.ResultStatus]) (results []*chorusv1.Result, nextPageToken string, err error)
}

// TaskStore submits, reads and cancels tasks.
type TaskStore interface {
	// SubmitTasks stores a batch of tasks atomically (all or none), creating expected outputs that do not
	// exist, and queues those whose dependencies are all completed. With a RequestID, repeating the call
	// returns the first answer and stores nothing. FailedPrecondition (nothing stored) when the session
	// does not accept tasks, a dependency does not exist, an output is owned by an unfinished task or
	// not CREATED, or a task has no partition. ResourceExhausted when the partition's queue is full.
	SubmitTasks(ctx context.Context, sessionID string, batch SubmitBatch) ([]*chorusv1.SubmittedTask, error)
	// GetTask returns a task with its attempts.
	GetTask(ctx context.Context, sessionID, taskID string) (*chorusv1.Task, error)
	// ListTasks returns a page of a session's tasks, oldest first, without attempts (page tokens as
	// for ListSessions).
	ListTasks(ctx context.Context, sessionID string, q ListQuery[chorusv1.TaskStatus]) (tasks []*chorusv1.Task, nextPageToken string, err error)
	// CancelTasks cancels unfinished tasks (finished ones and unknown ids are left alone) and aborts their
	// outputs; every task waiting on an aborted output is cancelled too (CANCELLED, error kind CANCELLED
	// naming the output), transitively. It returns how many of the named tasks were unfinished and are
	// now cancelled (dependents are not counted). Running ones are reported to their agent by
	// RenewLeases. NotFound if the session does not exist.
	CancelTasks(ctx context.Context, sessionID string, taskIDs []string) (int, error)
}

// AgentStore is what agents use to lease and finish tasks.
type AgentStore interface {
	// Claim leases up to max QUEUED tasks of a partition for an agent, sharing the claims between the
	// sessions that have ready work in proportion to their weight, and within a session by task priority,
	// then age. Claimed tasks become DISPATCHED with a lease that expires after ttl unless renewed. It
	// returns at once, possibly with no task.
	Claim(ctx context.Context, req ClaimRequest) ([]*ClaimedTask, error)
	// WaitForWork blocks until the partition may have ready work, ctx ends, or timeout passes, without
	// polling (a blocking read on the server). Spurious wake-ups are allowed.
	WaitForWork(ctx context.Context, partition string, timeout time.Duration) error
	// MarkRunning records that a worker started a leased task (DISPATCHED → RUNNING). LeaseLost if the
	// lease is no longer the agent's.
	MarkRunning(ctx context.Context, lease Lease) error
	// RenewLeases extends the leases an agent holds by ttl in one round trip. It returns the leases that
	// are no longer the agent's or whose task was cancelled: the agent must stop those tasks.
	RenewLeases(ctx context.Context, agentID string, leases []Lease, ttl time.Duration) (lost []LostLease, err error)
	// Complete finishes a leased task atomically: writes its outputs, stores the results it created and
	// the subtasks it submitted (handing any of its expected outputs named by a subtask to that subtask),
	// marks it COMPLETED and queues the dependents whose last dependency this completed. The first
	// completion wins: a duplicate or late completion (lease lost, task already finished) changes
	// nothing and returns LeaseLost.
	Complete(ctx context.Context, c Completion) error
	// Fail records a failed attempt. A retryable error with retries left requeues the task after an
	// exponential backoff with jitter (Retried true); otherwise the task becomes FAILED (CANCELLED for a
	// cancellation), its outputs are aborted and its dependents are failed with the reason. LeaseLost if
	// the lease is no longer the agent's.
	Fail(ctx context.Context, f Failure) (retried bool, err error)
	// RecordOutcomes records, in order, steps of leased tasks (starts, progress reports, completions,
	// failures) in one round trip, each session's steps by one script run. Each step is checked
	// against its lease and applied whole or refused on its own (its Err, e.g. LeaseLost), as
	// MarkRunning, ReportProgress, Complete and Fail do one at a time. A non-nil error means the store
	// could not be reached or did not answer: some steps may have been applied, and since every step
	// is idempotent under its lease token, the caller retries the whole batch while its leases last.
	RecordOutcomes(ctx context.Context, steps []Outcome) ([]OutcomeResult, error)
	// Release hands leased tasks back to the queue at once without counting an attempt (agent drain,
	// prefetched tasks never started). Leases no longer held are skipped.
	Release(ctx context.Context, leases []Lease) error
	// ReleaseRunning hands leased tasks back at an agent's drain deadline. A task never started
	// (DISPATCHED) goes back as by Release; a RUNNING task's attempt is counted, failed as LEASE_EXPIRED
	// (retryable) with reason, and the task is queued again at once while retries remain, else FAILED:
	// a task longer than every drain deadline cannot run forever across restarts. Leases no longer
	// held are skipped.
	ReleaseRunning(ctx context.Context, leases []Lease, reason string) error
	// RequeueExpired takes back tasks whose lease expired (their agent died): each such attempt is failed
	// as LEASE_EXPIRED (retryable) and retried per the task's options. Any process may call it at any
	// time; it is idempotent. It returns how many leases it took back.
	RequeueExpired(ctx context.Context, partition string, max int) (int, error)
	// Heartbeat records an agent's presence and capacity for a partition (kept for ttl).
	Heartbeat(ctx context.Context, info AgentHeartbeat, ttl time.Duration) error
	// ReleaseAgentLeases takes back at once every lease an agent id holds, in every partition: an
	// agent restarting under the same id calls it before it claims, so its previous life's tasks run
	// again without waiting for their leases to expire. A DISPATCHED task goes back as by Release; a
	// RUNNING task's attempt is failed as LEASE_EXPIRED (retryable, counted) and the task is QUEUED
	// again at once while retries remain, else FAILED. It returns how many leases it took back.
	ReleaseAgentLeases(ctx context.Context, agentID string) (int, error)
	// RequeueDeadAgents takes back, as ReleaseAgentLeases does, the leases of every agent of a
	// partition whose heartbeat has lapsed (a dead agent), so its tasks run again within seconds
	// while long lease TTLs still protect slow tasks of live agents. Any process may call it at any
	// time; it is idempotent. It returns how many leases it took back.
	RequeueDeadAgents(ctx context.Context, partition string) (int, error)
	// Reconcile does one bounded pass of repairs for a partition: it looks at up to budget sessions
	// that have tasks in the partition (resuming where the previous pass stopped) and restores the
	// index entries that let agents find their queued, retry-delayed and leased work, and refreshes
	// the partition's task counts. Any process may call it at any time; it is idempotent.
	Reconcile(ctx context.Context, partition string, budget int) (ReconcileReport, error)
	// WorkBackground cancels up to about maxTasks tasks of sessions whose cancellation is still
	// pending (SetSessionStatus cancels the first chunk itself and leaves the rest here), in chunks
	// that each hold Valkey briefly, and returns how many tasks it cancelled (dependents of a
	// cancelled task count too). Any process may call it; several may at once.
	WorkBackground(ctx context.Context, maxTasks int) (int, error)
}

// ReconcileReport tells what one Reconcile pass did.
type ReconcileReport struct {
	Sessions int  // sessions looked at
	Repaired int  // index entries restored (work that agents could not find)
	Wrapped  bool // the pass reached the end of the partition's sessions (the next one starts over)
}

// EventStore reads and appends session events.
type EventStore interface {
	// ReadEvents returns up to max events of a session after cursor ("" = from the start, "$" = only
	// new ones), blocking up to block for the first one when none is there (0 = do not block). The
	// caller passes the cursor of the last event it got to continue. Events of other kinds than asked
	// are skipped (kinds empty = all). NotFound if the session does not exist.
	// The returned cursor is where to read on from: after the last event read, including those skipped.
	// A cursor may point inside a stored group of changes (see the implementation).
	ReadEvents(ctx context.Context, q EventQuery) (events []*chorusv1.Event, next string, err error)
	// EventCursor returns the cursor of the session's newest event ("0-0" when it has none), so a
	// watcher can start "from now" without a gap: read from the returned cursor. NotFound if the
	// session does not exist.
	EventCursor(ctx context.Context, sessionID string) (string, error)
	// ReportProgress appends a progress event for a running task.
	ReportProgress(ctx context.Context, lease Lease, fraction float64, message string) error
}

// PartitionStore describes partitions.
type PartitionStore interface {
	// DeclarePartitions records partitions from configuration, so tasks may target them before any agent
	// serves them.
	DeclarePartitions(ctx context.Context, partitions []string) error
	// ListPartitions returns the declared partitions and those served by a live agent, sorted by name.
	ListPartitions(ctx context.Context) ([]*chorusv1.Partition, error)
	// GetPartition returns one partition with its queue depth, counts and live agents. NotFound when it
	// is neither declared nor served.
	GetPartition(ctx context.Context, partition string) (*chorusv1.Partition, error)
}

// EventKindOf returns the kind of an event.
func EventKindOf(e *chorusv1.Event) chorusv1.EventKind {
	switch e.GetBody().(type) {
	case *chorusv1.Event_TaskStatus:
		return chorusv1.EventKind_EVENT_KIND_TASK_STATUS
	case *chorusv1.Event_ResultStatus:
		return chorusv1.EventKind_EVENT_KIND_RESULT_STATUS
	case *chorusv1.Event_SessionStatus:
		return chorusv1.EventKind_EVENT_KIND_SESSION_STATUS
	case *chorusv1.Event_TaskProgress:
		return chorusv1.EventKind_EVENT_KIND_TASK_PROGRESS
	}
	return chorusv1.EventKind_EVENT_KIND_UNSPECIFIED
}

// SessionSpec describes a new session.
type SessionSpec struct {
	DefaultTaskOptions *chorusv1.TaskOptions
	Weight             int32 // 1-100; 0 means 1
	Labels             map[string]string
	// Tenant owns the session (empty: none, when the gateway runs without authentication). It is
	// recorded with the session and indexes it for ListSessions.
	Tenant string
	// MaxSessions, when positive, is the most sessions Tenant may hold that are not purged; applied
	// atomically with the creation: ResourceExhausted naming the quota past it.
	MaxSessions int64
}

// ListQuery asks for one page of a listing.
type ListQuery[S ~int32] struct {
	PageSize  int    // 0 means 100
	PageToken string // from the previous page
	Status    S      // 0 means any
	Tenant    string // sessions only: only this tenant's sessions ("" means any)
}

// ResultSpec declares a result.
type ResultSpec struct {
	ResultID string      // empty: the store picks one
	Data     *ResultData // nil: left CREATED
}

// ResultData is where a result's bytes are: inline, or in the object store under ObjectKey.
type ResultData struct {
	Inline    []byte // set for inline data (may be empty data with ObjectKey empty)
	ObjectKey string // set for data in the object store
	Size      int64  // bytes
	SHA256    string // lowercase hex
	// TraceParent is the W3C traceparent of the run that produced the data (task outputs; "" for
	// uploads): written with a task's outputs, returned by GetResultData so a dependent run links to it.
	TraceParent string
}

// InlineData is b stored inline, with its size and SHA-256.
func InlineData(b []byte) ResultData {
	sum := sha256.Sum256(b)
	return ResultData{Inline: b, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
}

// SubmitBatch is a batch of tasks for one session.
type SubmitBatch struct {
	Tasks     []TaskSpec
	RequestID string // idempotency key; empty: none
	// TraceParent and TraceState are the W3C trace context of the submitting call, stored with each task.
	TraceParent string
	TraceState  string
	// ParentTaskID is set for subtasks (stored through Complete).
	ParentTaskID string
	// MaxQueueDepth bounds the PENDING+QUEUED tasks of each partition of the batch, over all
	// sessions (0 means none): ResourceExhausted naming the partition past it. The partition's count
	// is kept beside the partition and refreshed by every submit and reconciler pass, so concurrent
	// batches may pass it by their own size.
	MaxQueueDepth int64
	// MaxSessionQueued bounds the PENDING+QUEUED tasks of the session (0 means none), checked
	// atomically with the submission: ResourceExhausted naming the session past it.
	MaxSessionQueued int64
	// Tenant is the session's tenant (for MaxTenantQueued).
	Tenant string
	// MaxTenantQueued, when positive, is the most unfinished tasks (pending, queued, dispatched,
	// running) the session's tenant may have over all its sessions; ResourceExhausted naming the quota
	// past it. Checked before the batch is stored, not atomically with it (the count spans slots):
	// concurrent submissions of one tenant may pass it by at most their own sizes.
	MaxTenantQueued int64
}

// TaskSpec is one task to submit. Options fields left unset take the session's defaults, then
// DefaultMaxRetries etc. of the store's configuration.
type TaskSpec struct {
	Method            string
	Payload           []byte // inline payload
	PayloadID         string // result holding the payload instead (it becomes a dependency too)
	DataDependencies  []string
	ExpectedOutputIDs []string
	Options           *chorusv1.TaskOptions
}

// ClaimRequest asks for tasks of a partition.
type ClaimRequest struct {
	Partition string
	AgentID   string
	Max       int
	LeaseTTL  time.Duration
}

// Lease names one leased attempt of a task. Operations on a lease succeed only while the lease is
// still that attempt's.
type Lease struct {
	SessionID string
	TaskID    string
	Attempt   int32  // attempt number, 1 for the first
	Token     string // unique per lease; guards against an expired lease completing after a new one
}

// LostLease is a lease an agent must stop working on.
type LostLease struct {
	Lease
	Reason string // "cancelled", "expired", "finished", "session cancelled"
}

// ClaimedTask is a leased task with what a worker needs to run it.
type ClaimedTask struct {
	Lease             Lease
	Partition         string
	Method            string
	Payload           []byte // inline payload (empty when PayloadID is set)
	PayloadID         string
	DataDependencies  []string
	ExpectedOutputIDs []string
	Options           *chorusv1.TaskOptions // after defaults
	TraceParent       string
	TraceState        string
	QueueTime         time.Time // when it last became QUEUED (queue-wait spans and metrics)
}

// OutputData is one output a task completes.
type OutputData struct {
	ResultID string
	Data     ResultData
}

// Completion finishes a leased task.
type Completion struct {
	Lease      Lease
	Outputs    []OutputData
	NewResults []ResultSpec // results the task created (stored with the completion)
	Subtasks   []TaskSpec   // subtasks it submitted (stored with the completion, ids from SubtaskIDs)
	SubtaskIDs []string     // ids for Subtasks, same order, from NewTaskID (given to the worker earlier)
}

// OutcomeKind says what an Outcome records.
type OutcomeKind int8

const (
	// OutcomeStart records that a worker started the task (DISPATCHED → RUNNING).
	OutcomeStart OutcomeKind = iota + 1
	// OutcomeProgress appends a progress report (Fraction, Message).
	OutcomeProgress
	// OutcomeComplete finishes the task (Completion; its Lease is the step's).
	OutcomeComplete
	// OutcomeFail records a failed attempt (Error).
	OutcomeFail
)

// Outcome is one step of a leased task that an agent records.
type Outcome struct {
	Kind  OutcomeKind
	Lease Lease
	Time  time.Time // when it happened; zero: when recorded
	// Started, on a completion of a task not yet recorded RUNNING, records its start with it (the
	// RUNNING status, its event and start time) in the same step: an agent whose batch holds a
	// task's start and then its completion sends one step instead of two.
	Started time.Time
	// After, on a start (or a completion carrying one), names the task of the same session whose
	// worker slot this task took: in the session's event stream this task's RUNNING comes after
	// that task's outcome recorded by the same call (the store groups the changes of one call by
	// status; this keeps a worker's slot from looking taken twice).
	After      string
	Completion *Completion
	Error      *chorusv1.TaskError
	Fraction   float64
	Message    string
}

// OutcomeResult is how the store took one Outcome.
type OutcomeResult struct {
	Retried bool  // a failure that will be retried after a backoff
	Err     error // nil when applied; a *Error (LeaseLost, FailedPrecondition, …) when refused
}

// Failure records a failed attempt.
type Failure struct {
	Lease Lease
	Error *chorusv1.TaskError
}

// AgentHeartbeat is an agent's report for one partition.
type AgentHeartbeat struct {
	AgentID   string
	Hostname  string
	Partition string
	Capacity  int32
	InFlight  int32
}

// EventQuery reads a session's events.
type EventQuery struct {
	SessionID string
	Cursor    string
	Kinds     []chorusv1.EventKind
	// TaskStatuses keeps only task status events with these statuses (empty: all), e.g. the final
	// ones for a client that waits for outcomes.
	TaskStatuses []chorusv1.TaskStatus
	Max          int
	Block        time.Duration
}
