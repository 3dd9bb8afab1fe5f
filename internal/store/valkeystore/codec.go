package valkeystore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	chorusv1 "github.com/chorus-hpc/chorus/gen/chorus/v1"
	"github.com/chorus-hpc/chorus/internal/store"
)

// taskRecord is a task record decoded from its "header\nprotobuf" value (see keys.go).
type taskRecord struct {
	status     chorusv1.TaskStatus
	attempt    int32
	token      string
	partition  string
	priority   int32
	maxRetries int32
	queueMS    int64
	outputs    []string
	agent      string
	body       *chorusv1.Task
	// trace context, kept in the body's options under reserved keys and taken out on decode
	traceParent, traceState string
}

func decodeTask(v string) (*taskRecord, error) {
	head, body, ok := strings.Cut(v, "\n")
	if !ok {
		return nil, fmt.Errorf("task record has no header")
	}
	f := strings.Split(head, "|")
	if len(f) < 10 {
		return nil, fmt.Errorf("task record header has %d fields, want 10", len(f))
	}
	r := &taskRecord{token: f[2], partition: f[3], agent: f[9], body: &chorusv1.Task{}}
	st, _ := strconv.Atoi(f[0])
	att, _ := strconv.Atoi(f[1])
	prio, _ := strconv.Atoi(f[4])
	maxr, _ := strconv.Atoi(f[5])
	r.queueMS, _ = strconv.ParseInt(f[7], 10, 64)
	r.status, r.attempt, r.priority, r.maxRetries = chorusv1.TaskStatus(st), int32(att), int32(prio), int32(maxr)
	if f[8] != "" {
		r.outputs = strings.Split(f[8], ",")
	}
	if err := proto.Unmarshal([]byte(body), r.body); err != nil {
		return nil, fmt.Errorf("task record body: %w", err)
	}
	if m := r.body.GetOptions().GetOptions(); m != nil {
		r.traceParent, r.traceState = m[traceParentKey], m[traceStateKey]
		delete(m, traceParentKey)
		delete(m, traceStateKey)
	}
	return r, nil
}

// task returns the chorus.v1.Task of a record (without attempts).
func (r *taskRecord) task(sessionID, taskID string) *chorusv1.Task {
	t := r.body
	t.SessionId, t.TaskId, t.Status, t.ExpectedOutputIds = sessionID, taskID, r.status, r.outputs
	t.Options = r.options()
	if r.queueMS > 0 && r.status != chorusv1.TaskStatus_TASK_STATUS_PENDING {
		t.QueueTime = timestamppb.New(time.UnixMilli(r.queueMS))
	}
	return t
}

func (r *taskRecord) options() *chorusv1.TaskOptions {
	o := proto.Clone(r.body.GetOptions()).(*chorusv1.TaskOptions)
	if o == nil {
		o = &chorusv1.TaskOptions{}
	}
	o.Partition, o.Priority, o.MaxRetries = r.partition, proto.Int32(r.priority), proto.Int32(r.maxRetries)
	return o
}

// resultRecord is "st|owner|size|sha|loc|cms|ems|reason".
func decodeResult(sessionID, id, v string) *chorusv1.Result {
	f := strings.SplitN(v, "|", 8)
	for len(f) < 8 {
		f = append(f, "")
	}
	st, _ := strconv.Atoi(f[0])
	size, _ := strconv.ParseInt(f[2], 10, 64)
	loc, _ := strconv.Atoi(f[4])
	cms, _ := strconv.ParseInt(f[5], 10, 64)
	ems, _ := strconv.ParseInt(f[6], 10, 64)
	r := &chorusv1.Result{SessionId: sessionID, ResultId: id, Status: chorusv1.ResultStatus(st), OwnerTaskId: f[1],
		SizeBytes: size, Sha256: f[3], Location: chorusv1.ResultLocation(loc), AbortReason: f[7],
		CreateTime: timestamppb.New(time.UnixMilli(cms))}
	if ems > 0 {
		r.EndTime = timestamppb.New(time.UnixMilli(ems))
	}
	return r
}

// dataArgs encodes result data as size, sha256, location, data.
func dataArgs(d store.ResultData) []string {
	if d.ObjectKey != "" {
		return []string{strconv.FormatInt(d.Size, 10), d.SHA256, "2", d.ObjectKey}
	}
	size := d.Size
	if size == 0 {
		size = int64(len(d.Inline))
	}
	return []string{strconv.FormatInt(size, 10), d.SHA256, "1", string(d.Inline)}
}

func checkData(d store.ResultData, max int, id string) error {
	if d.ObjectKey == "" && len(d.Inline) > max {
		return store.Errorf(store.CodeResourceExhausted, "inline data of result %s is %d bytes, over the limit of %d: put it in the object store", id, len(d.Inline), max)
	}
	if strings.ContainsAny(d.SHA256, "|") {
		return store.Errorf(store.CodeInvalidArgument, "sha256 of result %s is not hex", id)
	}
	return nil
}

func ts(ms int64) *timestamppb.Timestamp {
	if ms <= 0 {
		return nil
	}
	return timestamppb.New(time.UnixMilli(ms))
}
