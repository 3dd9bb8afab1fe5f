package gateway

import (
	"context"
	"fmt"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

type sessionService struct {
	*Server
	chorusv1.UnimplementedSessionServiceServer
}

func (s sessionService) CreateSession(ctx context.Context, req *chorusv1.CreateSessionRequest) (*chorusv1.CreateSessionResponse, error) {
	spec := store.SessionSpec{
		DefaultTaskOptions: req.GetDefaultTaskOptions(),
		Weight:             req.GetWeight(),
		Labels:             req.GetLabels(),
	}
	if id, ok := identityFrom(ctx); ok { // the session belongs to its creator's tenant
		spec.Tenant = id.Tenant
		spec.MaxSessions = s.sec.tenants.Get(id.Tenant).MaxSessions
	}
	sess, err := s.store.CreateSession(ctx, spec)
	if err != nil {
		return nil, err
	}
	s.known.rememberSession(sess)
	return &chorusv1.CreateSessionResponse{Session: sess}, nil
}

func (s sessionService) GetSession(ctx context.Context, req *chorusv1.GetSessionRequest) (*chorusv1.GetSessionResponse, error) {
	sess, err := s.store.GetSession(ctx, req.GetSessionId())
	return reply(&chorusv1.GetSessionResponse{Session: sess}, err)
}

func (s sessionService) ListSessions(ctx context.Context, req *chorusv1.ListSessionsRequest) (*chorusv1.ListSessionsResponse, error) {
	q := listQuery(req)
	q.Tenant = req.GetTenant() // narrowed to the caller's own tenant by authorize unless an admin
	sessions, next, err := s.store.ListSessions(ctx, q)
	return reply(&chorusv1.ListSessionsResponse{Sessions: sessions, NextPageToken: next}, err)
}

func (s sessionService) PauseSession(ctx context.Context, req *chorusv1.PauseSessionRequest) (*chorusv1.PauseSessionResponse, error) {
	sess, err := s.store.SetSessionStatus(ctx, req.GetSessionId(), chorusv1.SessionStatus_SESSION_STATUS_PAUSED)
	return reply(&chorusv1.PauseSessionResponse{Session: sess}, err)
}

func (s sessionService) ResumeSession(ctx context.Context, req *chorusv1.ResumeSessionRequest) (*chorusv1.ResumeSessionResponse, error) {
	sess, err := s.store.SetSessionStatus(ctx, req.GetSessionId(), chorusv1.SessionStatus_SESSION_STATUS_RUNNING)
	return reply(&chorusv1.ResumeSessionResponse{Session: sess}, err)
}

func (s sessionService) CloseSession(ctx context.Context, req *chorusv1.CloseSessionRequest) (*chorusv1.CloseSessionResponse, error) {
	sess, err := s.store.SetSessionStatus(ctx, req.GetSessionId(), chorusv1.SessionStatus_SESSION_STATUS_CLOSED)
	return reply(&chorusv1.CloseSessionResponse{Session: sess}, err)
}

func (s sessionService) CancelSession(ctx context.Context, req *chorusv1.CancelSessionRequest) (*chorusv1.CancelSessionResponse, error) {
	sess, err := s.store.SetSessionStatus(ctx, req.GetSessionId(), chorusv1.SessionStatus_SESSION_STATUS_CANCELLED)
	return reply(&chorusv1.CancelSessionResponse{Session: sess}, err)
}

// PurgeSession deletes the session's records in the store, then its objects in the object store.
func (s sessionService) PurgeSession(ctx context.Context, req *chorusv1.PurgeSessionRequest) (*chorusv1.PurgeSessionResponse, error) {
	sess, keys, err := s.store.PurgeSession(ctx, req.GetSessionId())
	if err != nil {
		return nil, err
	}
	s.known.forgetSession(req.GetSessionId())
	if len(keys) > 0 {
		// The records are gone: finish deleting the objects even if the caller goes away.
		if err := s.objects.Delete(context.WithoutCancel(ctx), keys...); err != nil {
			return nil, fmt.Errorf("purge session %s: deleting %d objects: %w", req.GetSessionId(), len(keys), err)
		}
	}
	return &chorusv1.PurgeSessionResponse{Session: sess}, nil
}
