package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/validate"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

// toWorkerData turns stored data into a Data message: inline up to the inline limit, else a file
// at path (streamed from the object store). name names the data in errors, e.g.
// `result "r-42" of session "s-1"` (see resultName).
func (a *Agent) toWorkerData(ctx context.Context, name string, d store.ResultData, path string) (*workerv1.Data, error) {
	if d.ObjectKey == "" {
		if int64(len(d.Inline)) <= a.cfg.InlineLimit {
			return &workerv1.Data{Source: &workerv1.Data_Inline{Inline: d.Inline}}, nil
		}
		if err := os.WriteFile(path, d.Inline, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		return &workerv1.Data{Source: &workerv1.Data_Path{Path: path}}, nil
	}
	rc, err := a.objs.Get(ctx, d.ObjectKey)
	if err != nil {
		return nil, fmt.Errorf("read object %s: %w", d.ObjectKey, err)
	}
	defer rc.Close()
	// The verifier fails the read when the object does not match the recorded size and SHA-256.
	vr := objstore.NewVerifier(rc, name, d.Size, d.SHA256)
	if d.Size <= a.cfg.InlineLimit {
		b, err := io.ReadAll(vr)
		if err != nil {
			return nil, fmt.Errorf("read object %s: %w", d.ObjectKey, err)
		}
		return &workerv1.Data{Source: &workerv1.Data_Inline{Inline: b}}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	_, cerr := io.Copy(f, vr)
	if err := errors.Join(cerr, f.Close()); err != nil {
		_ = os.Remove(path) // a worker must never see part of the data, nor bad data
		return nil, fmt.Errorf("copy object %s to %s: %w", d.ObjectKey, path, err)
	}
	return &workerv1.Data{Source: &workerv1.Data_Path{Path: path}}, nil
}

// resultName names result rid of session sid in errors: `result "rid" of session "sid"`.
func resultName(sid, rid string) string {
	return "result " + strconv.Quote(rid) + " of session " + strconv.Quote(sid)
}

// fromWorkerData turns data from the worker into stored data for result id: inline bytes as they
// are; a file (which must be in the worker's private folder) inline when small, else put in the
// object store.
func (r *run) fromWorkerData(ctx context.Context, resultID string, d *workerv1.Data) (store.ResultData, error) {
	switch s := d.GetSource().(type) {
	case *workerv1.Data_Path:
		return r.fromFile(ctx, resultID, s.Path)
	case *workerv1.Data_Inline:
		return store.InlineData(s.Inline), nil
	default:
		return store.InlineData(nil), nil
	}
}

func (r *run) fromFile(ctx context.Context, resultID, path string) (store.ResultData, error) {
	rel, err := filepath.Rel(r.proc().dir, filepath.Clean(path))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || !filepath.IsAbs(path) {
		return store.ResultData{}, fmt.Errorf("data file %q is not inside the worker's private folder %s", path, r.proc().dir)
	}
	f, err := os.Open(path)
	if err != nil {
		return store.ResultData{}, fmt.Errorf("open data file of result %s: %w", resultID, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return store.ResultData{}, fmt.Errorf("stat data file of result %s: %w", resultID, err)
	}
	if limit := r.a.cfg.MaxResultSize; st.Size() > limit {
		return store.ResultData{}, fmt.Errorf("data file of result %s is %d bytes, over the limit of %d bytes per result (max_result_size)",
			resultID, st.Size(), limit)
	}
	if st.Size() <= r.a.cfg.InlineLimit {
		b, err := io.ReadAll(io.LimitReader(f, r.a.cfg.InlineLimit+1)) // bounded even if the file grows
		if err != nil {
			return store.ResultData{}, fmt.Errorf("read data file of result %s: %w", resultID, err)
		}
		if int64(len(b)) > r.a.cfg.InlineLimit {
			return store.ResultData{}, fmt.Errorf("data file of result %s grew while it was read: the worker must finish writing a file before returning it", resultID)
		}
		return store.InlineData(b), nil
	}
	// A key unique to this attempt: a late duplicate attempt never overwrites the winner's data.
	key := "sessions/" + r.task.Lease.SessionID + "/results/" + resultID + ".a" + store.NewID()
	size, sum, err := r.a.objs.Put(ctx, key, f, r.a.cfg.MaxResultSize)
	if errors.Is(err, objstore.ErrTooLarge) {
		return store.ResultData{}, fmt.Errorf("data file of result %s grew over the limit of %d bytes per result (max_result_size) while it was stored: %w",
			resultID, r.a.cfg.MaxResultSize, err)
	}
	if err != nil {
		return store.ResultData{}, fmt.Errorf("store data of result %s in the object store: %w", resultID, err)
	}
	r.mu.Lock()
	r.objects = append(r.objects, key)
	r.mu.Unlock()
	return store.ResultData{ObjectKey: key, Size: size, SHA256: sum}, nil
}

// outputs checks the worker's outputs against the task's expected outputs (each returned once or
// handed to a subtask) and stores their data. The kind says how a failure is reported.
func (r *run) outputs(ctx context.Context, outs []*workerv1.Output) ([]store.OutputData, chorusv1.ErrorKind, error) {
	expected := r.task.ExpectedOutputIDs
	r.mu.Lock()
	handed := r.handed
	r.mu.Unlock()
	for i, o := range outs {
		id := o.GetResultId()
		switch {
		case !slices.Contains(expected, id):
			return nil, errWorker, fmt.Errorf("the task returned output %q, which is not one of its expected outputs %v", id, expected)
		case slices.Contains(handed, id):
			return nil, errWorker, fmt.Errorf("the task returned output %q, which it handed to a subtask", id)
		}
		for _, p := range outs[:i] {
			if p.GetResultId() == id {
				return nil, errWorker, fmt.Errorf("the task returned output %q twice", id)
			}
		}
	}
	for _, id := range expected {
		if !slices.Contains(handed, id) && !slices.ContainsFunc(outs, func(o *workerv1.Output) bool { return o.GetResultId() == id }) {
			return nil, errWorker, fmt.Errorf("the task completed without its expected output %q: return it or hand it to a subtask", id)
		}
	}
	res := make([]store.OutputData, len(outs))
	for i, o := range outs {
		d, err := r.fromWorkerData(ctx, o.GetResultId(), o.GetData())
		if err != nil {
			return nil, errDataError, err
		}
		d.TraceParent = r.producerTraceParent() // a dependent run links its span to this one
		res[i] = store.OutputData{ResultID: o.GetResultId(), Data: d}
	}
	return res, 0, nil
}

// validID reports whether a worker-chosen result id is acceptable.
func validID(id string) bool { return validate.ID("result id", id) == nil }

// validSubtask checks what a worker asked for in a subtask with the rules the gateway and the store
// apply (internal/validate), so a worker cannot store what a client could not.
func validSubtask(s store.TaskSpec) error {
	errs := []error{validate.Method(s.Method)}
	for _, d := range s.DataDependencies {
		errs = append(errs, validate.ID("dependency", d))
	}
	if o := s.Options; o != nil {
		if o.Partition != "" {
			errs = append(errs, validate.Partition(o.Partition))
		}
		if o.Priority != nil {
			errs = append(errs, validate.Priority(o.GetPriority()))
		}
		if o.MaxRetries != nil {
			errs = append(errs, validate.Retries(o.GetMaxRetries()))
		}
	}
	return errors.Join(errs...)
}

// errorText is err's message, or "" for no error.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// addOnce appends ids to *seen, unless one of them is in *seen already or twice in ids: then it
// appends none and fails with dupFormat naming that id.
func addOnce(seen *[]string, ids []string, dupFormat string) error {
	for i, id := range ids {
		if slices.Contains(*seen, id) || slices.Contains(ids[:i], id) {
			return fmt.Errorf(dupFormat, id)
		}
	}
	*seen = append(*seen, ids...)
	return nil
}

// taskCall is a call a running task makes to the agent: CreateResults or SubmitTasks.
type taskCall interface {
	GetTaskId() string
	GetCallId() string
}

// serveCall stages, in its own goroutine, what a call of a running task asks for (results, subtasks)
// and replies with their ids; it refuses the call when the task is not running on this worker.
func serveCall(pr *proc, tr transport, c taskCall, stage func(*run) ([]string, error)) {
	r := pr.running(c.GetTaskId())
	if r == nil {
		_ = tr.Send(callReply(c, nil, fmt.Errorf("task %s is not running on this worker", c.GetTaskId())))
		return
	}
	go func() {
		ids, err := stage(r) // no ids with an error
		_ = tr.Send(callReply(c, ids, err))
	}()
}

// callReply is the answer to a task's call: the ids of what it staged, or err.
func callReply(c taskCall, ids []string, err error) *workerv1.ConnectResponse {
	switch c.(type) {
	case *workerv1.CreateResults:
		return &workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_CreateResultsReply{
			CreateResultsReply: &workerv1.CreateResultsReply{CallId: c.GetCallId(), ResultIds: ids, Error: errorText(err)}}}
	case *workerv1.SubmitTasks:
		return &workerv1.ConnectResponse{Message: &workerv1.ConnectResponse_SubmitTasksReply{
			SubmitTasksReply: &workerv1.SubmitTasksReply{CallId: c.GetCallId(), TaskIds: ids, Error: errorText(err)}}}
	}
	panic(fmt.Sprintf("agent: no reply for a %T", c))
}

// maxStaged is the most results or subtasks a task may stage in one call.
const maxStaged = 10000

// staged runs stage on items (what: results, subtasks) with the context of its store and
// object-store calls, refusing more than maxStaged items.
func staged[T any](r *run, items []T, what string, stage func(context.Context, []T) ([]string, error)) ([]string, error) {
	if len(items) > maxStaged {
		return nil, fmt.Errorf("too many %s in one call (%d, at most %d)", what, len(items), maxStaged)
	}
	ctx, cancel := context.WithTimeout(r.a.bg, storeTimeout)
	defer cancel()
	return stage(ctx, items)
}

// stageResults checks and stages results a task creates, returning their ids.
func (r *run) stageResults(ctx context.Context, results []*workerv1.NewResult) ([]string, error) {
	ids := make([]string, len(results))
	specs := make([]store.ResultSpec, len(results))
	for i, nr := range results {
		id := nr.GetResultId()
		if id == "" {
			id = store.NewResultID()
		} else if !validID(id) {
			return nil, fmt.Errorf("result id %q is not valid: use 1-128 letters, digits, '.', '_', ':' or '-'", id)
		}
		ids[i] = id
		specs[i] = store.ResultSpec{ResultID: id}
		if nr.GetData() != nil {
			d, err := r.fromWorkerData(ctx, id, nr.GetData())
			if err != nil {
				return nil, err
			}
			specs[i].Data = &d
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := addOnce(&r.created, ids, "result id %q is created twice by this task"); err != nil {
		return nil, err
	}
	r.newResults = append(r.newResults, specs...)
	return ids, nil
}

// stageSubtasks checks and stages subtasks a task submits, returning their ids.
func (r *run) stageSubtasks(ctx context.Context, subs []*workerv1.Subtask) ([]string, error) {
	ids := make([]string, len(subs))
	specs := make([]store.TaskSpec, len(subs))
	var payloads []store.ResultSpec
	var handed []string
	for i, s := range subs {
		if s.GetMethod() == "" || len(s.GetMethod()) > 128 {
			return nil, fmt.Errorf("subtask %d: method must be 1-128 characters", i)
		}
		spec := store.TaskSpec{Method: s.GetMethod(), DataDependencies: s.GetDataDependencies(),
			ExpectedOutputIDs: s.GetExpectedOutputIds(), Options: r.subtaskOptions(s.GetOptions())}
		if p, ok := s.GetPayload().GetSource().(*workerv1.Data_Path); ok {
			id := store.NewResultID()
			d, err := r.fromFile(ctx, id, p.Path)
			if err != nil {
				return nil, fmt.Errorf("subtask %d: payload: %w", i, err)
			}
			if d.ObjectKey == "" {
				spec.Payload = d.Inline
			} else {
				payloads = append(payloads, store.ResultSpec{ResultID: id, Data: &d})
				spec.PayloadID = id
			}
		} else {
			spec.Payload = s.GetPayload().GetInline()
		}
		for _, out := range spec.ExpectedOutputIDs {
			if !validID(out) {
				return nil, fmt.Errorf("subtask %d: output id %q is not valid: use 1-128 letters, digits, '.', '_', ':' or '-'", i, out)
			}
			if slices.Contains(r.task.ExpectedOutputIDs, out) {
				handed = append(handed, out)
			}
		}
		if err := validSubtask(spec); err != nil {
			return nil, fmt.Errorf("subtask %d: %w", i, err)
		}
		ids[i] = store.NewTaskID()
		specs[i] = spec
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := addOnce(&r.handed, handed, "output %q is handed to two subtasks"); err != nil {
		return nil, err
	}
	r.newResults = append(r.newResults, payloads...)
	r.subtasks = append(r.subtasks, specs...)
	r.subtaskIDs = append(r.subtaskIDs, ids...)
	return ids, nil
}

// subtaskOptions takes the parent's options for every field the subtask leaves unset.
func (r *run) subtaskOptions(o *workerv1.SubtaskOptions) *chorusv1.TaskOptions {
	p := r.task.Options
	if p == nil {
		p = &chorusv1.TaskOptions{}
	}
	out := &chorusv1.TaskOptions{Partition: r.task.Partition, Priority: p.Priority, MaxRetries: p.MaxRetries,
		MaxDuration: p.GetMaxDuration(), Options: p.GetOptions()}
	if o == nil {
		return out
	}
	if o.GetPartition() != "" {
		out.Partition = o.GetPartition()
	}
	if o.Priority != nil {
		out.Priority = o.Priority
	}
	if o.MaxRetries != nil {
		out.MaxRetries = o.MaxRetries
	}
	if o.GetMaxDuration() != nil {
		out.MaxDuration = o.GetMaxDuration()
	}
	if len(o.GetOptions()) > 0 {
		out.Options = o.GetOptions()
	}
	return out
}
