package client

import (
	"context"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// Session is a handle on one session.
type Session struct {
	c  *Client
	ID string
}

// Get returns the session with its task counts.
func (s *Session) Get(ctx context.Context) (*chorusv1.Session, error) {
	resp, err := s.c.sessions.GetSession(ctx, &chorusv1.GetSessionRequest{SessionId: s.ID})
	if err != nil {
		return nil, wrap("get session "+s.ID, err)
	}
	return resp.GetSession(), nil
}

// Pause stops the dispatch of the session's tasks.
func (s *Session) Pause(ctx context.Context) (*chorusv1.Session, error) {
	resp, err := s.c.sessions.PauseSession(ctx, &chorusv1.PauseSessionRequest{SessionId: s.ID})
	return resp.GetSession(), wrap("pause session "+s.ID, err)
}

// Resume dispatches a paused session's tasks again.
func (s *Session) Resume(ctx context.Context) (*chorusv1.Session, error) {
	resp, err := s.c.sessions.ResumeSession(ctx, &chorusv1.ResumeSessionRequest{SessionId: s.ID})
	return resp.GetSession(), wrap("resume session "+s.ID, err)
}

// Close refuses new tasks; submitted ones run to the end.
func (s *Session) Close(ctx context.Context) (*chorusv1.Session, error) {
	resp, err := s.c.sessions.CloseSession(ctx, &chorusv1.CloseSessionRequest{SessionId: s.ID})
	return resp.GetSession(), wrap("close session "+s.ID, err)
}

// Cancel cancels every unfinished task of the session.
func (s *Session) Cancel(ctx context.Context) (*chorusv1.Session, error) {
	resp, err := s.c.sessions.CancelSession(ctx, &chorusv1.CancelSessionRequest{SessionId: s.ID})
	return resp.GetSession(), wrap("cancel session "+s.ID, err)
}

// Purge deletes the data of a closed or cancelled session.
func (s *Session) Purge(ctx context.Context) (*chorusv1.Session, error) {
	resp, err := s.c.sessions.PurgeSession(ctx, &chorusv1.PurgeSessionRequest{SessionId: s.ID})
	return resp.GetSession(), wrap("purge session "+s.ID, err)
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
