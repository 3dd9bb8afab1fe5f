package gateway

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/telemetry"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

type taskService struct {
	*Server
	chorusv1.UnimplementedTaskServiceServer
}

// SubmitTasks checks the gateway's limits and that every task's partition exists, then stores the
// batch atomically with the caller's trace context.
func (s taskService) SubmitTasks(ctx context.Context, req *chorusv1.SubmitTasksRequest) (*chorusv1.SubmitTasksResponse, error) {
	sid := req.GetSessionId()
	if n := len(req.GetTasks()); n > s.cfg.MaxBatch {
		return nil, overLimit("MaxBatch", int64(s.cfg.MaxBatch),
			"a batch of %d tasks is over the limit of %d tasks per call (MaxBatch); split it into smaller batches", n, s.cfg.MaxBatch)
	}
	specs := make([]store.TaskSpec, len(req.GetTasks()))
	partitions := map[string]struct{}{}
	defaultPartition, haveDefault := "", false
	for i, t := range req.GetTasks() {
		if n := int64(len(t.GetPayload())); n > s.cfg.MaxPayload {
			return nil, overLimit("MaxPayload", s.cfg.MaxPayload,
				"tasks[%d].payload is %d bytes, over the limit of %d bytes for inline payloads (MaxPayload); upload it as a result (CreateResults, then UploadResultData) and name it in payload_id",
				i, n, s.cfg.MaxPayload)
		}
		p := t.GetOptions().GetPartition()
		if p == "" {
			if !haveDefault {
				var err error
				if defaultPartition, err = s.sessionDefaultPartition(ctx, sid); err != nil {
					return nil, err
				}
				haveDefault = true
			}
			if p = defaultPartition; p == "" {
				return nil, status.Errorf(codes.FailedPrecondition,
					"tasks[%d] names no partition and session %s has no default partition; set options.partition on the task or default_task_options.partition on the session", i, sid)
			}
		}
		partitions[p] = struct{}{}
		specs[i] = store.TaskSpec{
			Method:            t.GetMethod(),
			Payload:           t.GetPayload(),
			PayloadID:         t.GetPayloadId(),
			DataDependencies:  t.GetDataDependencies(),
			ExpectedOutputIDs: t.GetExpectedOutputIds(),
			Options:           t.GetOptions(),
		}
	}
	for p := range partitions {
		if err := s.checkPartition(ctx, p); err != nil {
			return nil, err
		}
	}
	// The tasks continue this call's trace: the gateway's server span when tracing is on, else the
	// caller's context as it came.
	traceParent, traceState := telemetry.InjectTraceParent(ctx)
	if traceParent == "" {
		traceParent, traceState = incomingTraceContext(ctx)
	}
	maxDepth := s.cfg.MaxQueueDepth
	if maxDepth < 0 {
		maxDepth = 0
	}
	batch := store.SubmitBatch{
		Tasks:            specs,
		RequestID:        req.GetRequestId(),
		TraceParent:      traceParent,
		TraceState:       traceState,
		MaxQueueDepth:    maxDepth,
		MaxSessionQueued: s.cfg.MaxSessionQueued,
	}
	if info, ok := s.known.session(sid); ok && info.tenant != "" { // the session's tenant's quota
		batch.Tenant, batch.MaxTenantQueued = info.tenant, s.sec.tenants.Get(info.tenant).MaxQueuedTasks
	}
	submitted, err := s.store.SubmitTasks(ctx, sid, batch)
	return reply(&chorusv1.SubmitTasksResponse{Tasks: submitted}, err)
}

// sessionDefaultPartition returns the session's default partition (NotFound for an unknown session).
func (s taskService) sessionDefaultPartition(ctx context.Context, sid string) (string, error) {
	if p, ok := s.known.sessionDefaultPartition(sid); ok {
		return p, nil
	}
	sess, err := s.store.GetSession(ctx, sid)
	if err != nil {
		return "", err
	}
	s.known.rememberSession(sess)
	return sess.GetDefaultTaskOptions().GetPartition(), nil
}

// checkPartition answers FAILED_PRECONDITION for a partition that no live agent serves and no
// configuration declares.
func (s taskService) checkPartition(ctx context.Context, p string) error {
	if s.known.partitionKnown(p, time.Now()) {
		return nil
	}
	if _, err := s.store.GetPartition(ctx, p); err != nil {
		if store.IsNotFound(err) {
			return status.Errorf(codes.FailedPrecondition,
				"partition %q is not served by any live agent and not declared in the gateway's configuration (--partitions); start an agent for it or declare it", p)
		}
		return err
	}
	s.known.rememberPartition(p, time.Now())
	return nil
}

// incomingTraceContext returns the W3C traceparent and tracestate the caller sent, if well formed.
func incomingTraceContext(ctx context.Context) (traceParent, traceState string) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return "", ""
	}
	if v := md.Get("traceparent"); len(v) > 0 && len(v[0]) <= 128 && plainHeader(v[0], "0123456789abcdef-") {
		traceParent = v[0]
		if v := md.Get("tracestate"); len(v) > 0 && len(v[0]) <= 512 {
			traceState = v[0]
		}
	}
	return traceParent, traceState
}

func plainHeader(v, allowed string) bool {
	for i := 0; i < len(v); i++ {
		ok := false
		for j := 0; j < len(allowed); j++ {
			if v[i] == allowed[j] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return v != ""
}

func (s taskService) GetTask(ctx context.Context, req *chorusv1.GetTaskRequest) (*chorusv1.GetTaskResponse, error) {
	t, err := s.store.GetTask(ctx, req.GetSessionId(), req.GetTaskId())
	return reply(&chorusv1.GetTaskResponse{Task: t}, err)
}

func (s taskService) ListTasks(ctx context.Context, req *chorusv1.ListTasksRequest) (*chorusv1.ListTasksResponse, error) {
	tasks, next, err := s.store.ListTasks(ctx, req.GetSessionId(), listQuery(req))
	return reply(&chorusv1.ListTasksResponse{Tasks: tasks, NextPageToken: next}, err)
}

func (s taskService) CancelTasks(ctx context.Context, req *chorusv1.CancelTasksRequest) (*chorusv1.CancelTasksResponse, error) {
	n, err := s.store.CancelTasks(ctx, req.GetSessionId(), req.GetTaskIds())
	return reply(&chorusv1.CancelTasksResponse{CancelledCount: int32(n)}, err)
}
