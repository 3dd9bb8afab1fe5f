package client

import (
	"context"

	"google.golang.org/grpc"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// Session is a handle on one session.
type Session struct {
	c  *Client
	ID string
}

// Pause stops the dispatch of the session's tasks.
func (s *Session) Pause(ctx context.Context) (*chorusv1.Session, error) {
	return sessionCall(ctx, s, "pause", s.c.sessions.PauseSession, &chorusv1.PauseSessionRequest{SessionId: s.ID})
}

// Resume dispatches a paused session's tasks again.
func (s *Session) Resume(ctx context.Context) (*chorusv1.Session, error) {
	return sessionCall(ctx, s, "resume", s.c.sessions.ResumeSession, &chorusv1.ResumeSessionRequest{SessionId: s.ID})
}

// Close refuses new tasks; submitted ones run to the end.
func (s *Session) Close(ctx context.Context) (*chorusv1.Session, error) {
	return sessionCall(ctx, s, "close", s.c.sessions.CloseSession, &chorusv1.CloseSessionRequest{SessionId: s.ID})
}

// Cancel cancels every unfinished task of the session.
func (s *Session) Cancel(ctx context.Context) (*chorusv1.Session, error) {
	return sessionCall(ctx, s, "cancel", s.c.sessions.CancelSession, &chorusv1.CancelSessionRequest{SessionId: s.ID})
}

// Purge deletes the data of a closed or cancelled session.
func (s *Session) Purge(ctx context.Context) (*chorusv1.Session, error) {
	return sessionCall(ctx, s, "purge", s.c.sessions.PurgeSession, &chorusv1.PurgeSessionRequest{SessionId: s.ID})
}

// sessionCall makes a call of the session service that answers with the session; op names the call
// in its error.
func sessionCall[Req any, Resp interface{ GetSession() *chorusv1.Session }](ctx context.Context, s *Session, op string,
	call func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (*chorusv1.Session, error) {
	resp, err := call(ctx, req)
	return resp.GetSession(), wrap(op+" session "+s.ID, err)
}

// Get returns the session with its task counts.
func (s *Session) Get(ctx context.Context) (*chorusv1.Session, error) {
	return sessionCall(ctx, s, "get", s.c.sessions.GetSession, &chorusv1.GetSessionRequest{SessionId: s.ID})
}

// Task returns one task with its attempts.
func (s *Session) Task(ctx context.Context, taskID string) (*chorusv1.Task, error) {
	resp, err := s.c.tasks.GetTask(ctx, &chorusv1.GetTaskRequest{SessionId: s.ID, TaskId: taskID})
	return resp.GetTask(), wrap("get task "+taskID, err)
}

// Tasks returns the session's tasks in a status (UNSPECIFIED: any), following pages.
func (s *Session) Tasks(ctx context.Context, st chorusv1.TaskStatus) ([]*chorusv1.Task, error) {
	return listAll("tasks", func(token string) ([]*chorusv1.Task, string, error) {
		resp, err := s.c.tasks.ListTasks(ctx, &chorusv1.ListTasksRequest{SessionId: s.ID, PageSize: 1000, PageToken: token, Status: st})
		return resp.GetTasks(), resp.GetNextPageToken(), err
	})
}

// CancelTasks cancels tasks and returns how many were still unfinished.
func (s *Session) CancelTasks(ctx context.Context, taskIDs ...string) (int, error) {
	resp, err := s.c.tasks.CancelTasks(ctx, &chorusv1.CancelTasksRequest{SessionId: s.ID, TaskIds: taskIDs})
	if err != nil {
		return 0, wrap("cancel tasks", err)
	}
	return int(resp.GetCancelledCount()), nil
}

// Result returns a result's metadata.
func (s *Session) Result(ctx context.Context, resultID string) (*chorusv1.Result, error) {
	resp, err := s.c.results.GetResult(ctx, &chorusv1.GetResultRequest{SessionId: s.ID, ResultId: resultID})
	return resp.GetResult(), wrap("get result "+resultID, err)
}

// Results returns the session's results in a status (UNSPECIFIED: any), following pages.
func (s *Session) Results(ctx context.Context, st chorusv1.ResultStatus) ([]*chorusv1.Result, error) {
	return listAll("results", func(token string) ([]*chorusv1.Result, string, error) {
		resp, err := s.c.results.ListResults(ctx, &chorusv1.ListResultsRequest{SessionId: s.ID, PageSize: 1000, PageToken: token, Status: st})
		return resp.GetResults(), resp.GetNextPageToken(), err
	})
}
