package valkeystore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// taskRecord is a task decoded from its header (a MessagePack array, see lua/lib.lua) and its body.
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
	dispatchMS int64 // the current attempt's dispatch time (0: no current attempt)
	startMS    int64
	body       *chorusv1.Task
	// trace context, kept in the body's options under reserved keys and taken out on decode
	traceParent, traceState string
}

// Positions in the task header (lua/lib.lua header()).
const (
	hStatus = iota
	hAttempt
	hToken
	hPartition
	hPriority
	hMaxRetries
	hWaiting
	hQueueMS
	hOutputs
	hAgent
	hDispatchMS
	hStartMS
	hFields
	// hBody is where a small body follows the fields (lib.lua BODY_INLINE); a larger one is in :tb.
	hBody = hFields
)

// bodyInline is the size up to which a body is kept in its task's header (lib.lua BODY_INLINE).
const bodyInline = 64

// queuedHeader is the header of a task submitted QUEUED at queueMS, without dependencies, as
// lib.lua's header() packs it: submit.lua stores it as it is (the short form of a batch).
func queuedHeader(part string, prio, maxr int32, queueMS int64, outputs, body string) string {
	b := make([]byte, 0, 32+len(part)+len(outputs)+len(body))
	b = mpAppendInt(b, int64(chorusv1.TaskStatus_TASK_STATUS_QUEUED))
	b = mpAppendInt(b, 0)  // attempt
	b = mpAppendStr(b, "") // token
	b = mpAppendStr(b, part)
	b = mpAppendInt(b, int64(prio))
	b = mpAppendInt(b, int64(maxr))
	b = mpAppendInt(b, 0) // waiting on
	b = mpAppendInt(b, queueMS)
	b = mpAppendStr(b, outputs)
	b = mpAppendStr(b, "") // agent
	b = mpAppendInt(b, 0)  // dispatch ms
	b = mpAppendInt(b, 0)  // start ms
	if len(body) <= bodyInline {
		b = mpAppendStr(b, body)
	}
	return string(b)
}

// decodeTask reads a task from its header and its body ("" when the header holds it).
func decodeTask(head, body string) (*taskRecord, error) {
	f, err := unpackArray(head)
	if err != nil {
		return nil, fmt.Errorf("task header: %w", err)
	}
	if len(f) < hFields {
		return nil, fmt.Errorf("task header has %d fields, want %d", len(f), hFields)
	}
	for _, i := range []int{hToken, hPartition, hOutputs, hAgent} {
		if _, ok := f[i].(string); !ok {
			return nil, fmt.Errorf("task header field %d is %T, want a string", i, f[i])
		}
	}
	for _, i := range []int{hStatus, hAttempt, hPriority, hMaxRetries, hQueueMS} {
		if _, ok := f[i].(int64); !ok {
			return nil, fmt.Errorf("task header field %d is %T, want an integer", i, f[i])
		}
	}
	r := &taskRecord{status: chorusv1.TaskStatus(mpInt(f[hStatus])), attempt: int32(mpInt(f[hAttempt])),
		token: mpStr(f[hToken]), partition: mpStr(f[hPartition]), priority: int32(mpInt(f[hPriority])),
		maxRetries: int32(mpInt(f[hMaxRetries])), queueMS: mpInt(f[hQueueMS]), agent: mpStr(f[hAgent]),
		dispatchMS: mpInt(f[hDispatchMS]), startMS: mpInt(f[hStartMS]), body: &chorusv1.Task{}}
	if outs := mpStr(f[hOutputs]); outs != "" {
		r.outputs = strings.Split(outs, ",")
	}
	if body == "" && len(f) > hBody {
		b, ok := f[hBody].(string)
		if !ok {
			return nil, fmt.Errorf("task header field %d is %T, want the body", hBody, f[hBody])
		}
		body = b
	}
	if err := decodeBody(body, r); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeBody unmarshals a task body and takes the trace context out of its options.
func decodeBody(body string, r *taskRecord) error {
	if r.body == nil {
		r.body = &chorusv1.Task{}
	}
	if err := proto.Unmarshal([]byte(body), r.body); err != nil {
		return fmt.Errorf("task body: %w", err)
	}
	if m := r.body.GetOptions().GetOptions(); m != nil {
		r.traceParent, r.traceState = m[traceParentKey], m[traceStateKey]
		delete(m, traceParentKey)
		delete(m, traceStateKey)
	}
	return nil
}

// currentAttempt is the attempt the header holds (dispatched and not archived), or nil.
func (r *taskRecord) currentAttempt() *chorusv1.TaskAttempt {
	if r.dispatchMS == 0 {
		return nil
	}
	return &chorusv1.TaskAttempt{Number: r.attempt, AgentId: r.agent, DispatchTime: ts(r.dispatchMS), StartTime: ts(r.startMS)}
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
	r := &chorusv1.Result{SessionId: sessionID, ResultId: id, Status: chorusv1.ResultStatus(st), OwnerTaskId: extID(sessionID, f[1]),
		SizeBytes: size, Sha256: f[3], Location: chorusv1.ResultLocation(loc), AbortReason: f[7],
		CreateTime: timestamppb.New(time.UnixMilli(cms))}
	if ems > 0 {
		r.EndTime = timestamppb.New(time.UnixMilli(ems))
	}
	return r
}

// The result locations as the records and the scripts write them (a chorus.v1.ResultLocation).
var (
	locInline = strconv.Itoa(int(chorusv1.ResultLocation_RESULT_LOCATION_INLINE))
	locObject = strconv.Itoa(int(chorusv1.ResultLocation_RESULT_LOCATION_OBJECT))
)

// dataArgs encodes result data as size, sha256, location, data.
func dataArgs(d store.ResultData) []string {
	if d.ObjectKey != "" {
		return []string{strconv.FormatInt(d.Size, 10), d.SHA256, locObject, d.ObjectKey}
	}
	size := d.Size
	if size == 0 {
		size = int64(len(d.Inline))
	}
	return []string{strconv.FormatInt(size, 10), d.SHA256, locInline, string(d.Inline)}
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
