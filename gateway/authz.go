package gateway

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/chorus-hpc/chorus/internal/auth"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// This file is the one place where callers are authenticated and authorized, for gRPC and REST alike
// (REST calls reach the gRPC server over the in-process connection, so this interceptor runs for them
// too). Every RPC has an entry in rpcAccess; a method without one is refused, and New refuses to start
// when a registered chorus.v1 method has none, so a new RPC cannot skip authorization.

// access is what an RPC needs.
type access struct {
	// write: the RPC changes state. Admins and users may call it, readers may not; every call is
	// written to the audit log.
	write bool
	// session: the request (every message of a stream) names a session in session_id; a session of
	// another tenant answers NOT_FOUND, exactly as a session that does not exist.
	session bool
	// open: no identity needed (health checks).
	open bool
}

var rpcAccess = map[string]access{
	chorusv1.SessionService_CreateSession_FullMethodName:             {write: true},
	chorusv1.SessionService_GetSession_FullMethodName:                {session: true},
	chorusv1.SessionService_ListSessions_FullMethodName:              {},
	chorusv1.SessionService_PauseSession_FullMethodName:              {write: true, session: true},
	chorusv1.SessionService_ResumeSession_FullMethodName:             {write: true, session: true},
	chorusv1.SessionService_CloseSession_FullMethodName:              {write: true, session: true},
	chorusv1.SessionService_CancelSession_FullMethodName:             {write: true, session: true},
	chorusv1.SessionService_PurgeSession_FullMethodName:              {write: true, session: true},
	chorusv1.TaskService_SubmitTasks_FullMethodName:                  {write: true, session: true},
	chorusv1.TaskService_GetTask_FullMethodName:                      {session: true},
	chorusv1.TaskService_ListTasks_FullMethodName:                    {session: true},
	chorusv1.TaskService_CancelTasks_FullMethodName:                  {write: true, session: true},
	chorusv1.ResultService_CreateResults_FullMethodName:              {write: true, session: true},
	chorusv1.ResultService_UploadResultData_FullMethodName:           {write: true, session: true},
	chorusv1.ResultService_GetResult_FullMethodName:                  {session: true},
	chorusv1.ResultService_DownloadResultData_FullMethodName:         {session: true},
	chorusv1.ResultService_ListResults_FullMethodName:                {session: true},
	chorusv1.EventService_WatchEvents_FullMethodName:                 {session: true},
	chorusv1.PartitionService_ListPartitions_FullMethodName:          {},
	chorusv1.PartitionService_GetPartition_FullMethodName:            {},
	"/grpc.health.v1.Health/Check":                                   {open: true},
	"/grpc.health.v1.Health/Watch":                                   {open: true},
	"/grpc.health.v1.Health/List":                                    {open: true},
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      {},
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": {},
}

// checkAccessTable returns an error naming any method the server serves without an rpcAccess entry.
func checkAccessTable(srv *grpc.Server) error {
	var missing []string
	for name, info := range srv.GetServiceInfo() {
		for _, m := range info.Methods {
			if full := "/" + name + "/" + m.Name; !hasAccess(full) {
				missing = append(missing, full)
			}
		}
	}
	if len(missing) > 0 {
		return errors.New("gateway: no access rule for " + strings.Join(missing, ", ") + " (add it to rpcAccess in gateway/authz.go)")
	}
	return nil
}

func hasAccess(method string) bool { _, ok := rpcAccess[method]; return ok }

// restCertKey carries, from the REST server to the in-process gRPC server, the verified client
// certificate of a REST caller (base64 DER). It is trusted only on the in-process connection, and
// incomingHeader never forwards it from an HTTP request.
const restCertKey = "x-chorus-rest-client-cert"

// restClientCert is the REST metadata annotator: it forwards a verified client certificate.
func restClientCert(_ context.Context, r *http.Request) metadata.MD {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return metadata.Pairs(restCertKey, base64.StdEncoding.EncodeToString(r.TLS.VerifiedChains[0][0].Raw))
}

type identityKey struct{}

// identityFrom returns the authenticated caller of a call (ok false when authentication is off).
func identityFrom(ctx context.Context) (auth.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(auth.Identity)
	return id, ok
}

func unauthenticated(msg string) error { return status.Error(codes.Unauthenticated, msg) }

// identify authenticates a call: its bearer token, else its verified client certificate.
func (s *Server) identify(ctx context.Context) (auth.Identity, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("authorization"); len(v) > 0 {
		scheme, token, ok := strings.Cut(v[0], " ")
		if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
			return auth.Identity{}, unauthenticated("the authorization header must be \"Bearer <token>\"")
		}
		if s.sec.authn == nil {
			return auth.Identity{}, unauthenticated("this gateway accepts no bearer tokens (only client certificates)")
		}
		id, err := s.sec.authn.Authenticate(strings.TrimSpace(token))
		if err != nil {
			return auth.Identity{}, unauthenticated(err.Error())
		}
		return id, nil
	}
	p, _ := peer.FromContext(ctx)
	if p != nil {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 {
			return certIdentity(ti.State.VerifiedChains[0][0])
		}
		if p.Addr != nil && p.Addr.Network() == "bufconn" { // a REST call: its certificate, if any
			if v := md.Get(restCertKey); len(v) == 1 {
				der, err := base64.StdEncoding.DecodeString(v[0])
				if err != nil {
					return auth.Identity{}, unauthenticated("unreadable forwarded client certificate")
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					return auth.Identity{}, unauthenticated("unreadable forwarded client certificate")
				}
				return certIdentity(cert)
			}
		}
	}
	return auth.Identity{}, unauthenticated("no credentials: send \"authorization: Bearer <token>\" (CHORUS_TOKEN for the CLI and SDKs) or a client certificate")
}

func certIdentity(c *x509.Certificate) (auth.Identity, error) {
	id, err := auth.CertIdentity(c)
	if err != nil {
		return id, unauthenticated(err.Error())
	}
	return id, nil
}

// authUnary authenticates and authorizes a unary call, then audits it when it writes.
func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	acc, ok := rpcAccess[info.FullMethod]
	if !ok {
		return nil, status.Errorf(codes.PermissionDenied, "method %s has no access rule", info.FullMethod)
	}
	if acc.open {
		return handler(ctx, req)
	}
	var id auth.Identity
	if s.sec.enabled {
		var err error
		if id, err = s.identify(ctx); err != nil {
			return nil, err
		}
		ctx = context.WithValue(ctx, identityKey{}, id)
		if req, err = s.authorize(ctx, id, acc, info.FullMethod, req); err != nil {
			s.auditCall(ctx, id, acc, info.FullMethod, sessionIDOf(req), err)
			return nil, err
		}
	}
	resp, err := handler(ctx, req)
	if err == nil && s.sec.enabled && !id.Admin() {
		resp = s.filterResponse(id, resp)
	}
	sid := sessionIDOf(req)
	if r, ok := resp.(*chorusv1.CreateSessionResponse); ok {
		sid = r.GetSession().GetSessionId()
	}
	s.auditCall(ctx, id, acc, info.FullMethod, sid, err)
	return resp, err
}

// authStream is authUnary for streams: roles are checked at once, the session of every received
// message as it arrives.
func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	acc, ok := rpcAccess[info.FullMethod]
	if !ok {
		return status.Errorf(codes.PermissionDenied, "method %s has no access rule", info.FullMethod)
	}
	if acc.open || !s.sec.enabled {
		if acc.write {
			as := &authzStream{ServerStream: ss, s: s, ctx: ss.Context(), method: info.FullMethod}
			err := handler(srv, as)
			s.auditCall(ss.Context(), auth.Identity{}, acc, info.FullMethod, as.last, err)
			return err
		}
		return handler(srv, ss)
	}
	id, err := s.identify(ss.Context())
	if err != nil {
		return err
	}
	ctx := context.WithValue(ss.Context(), identityKey{}, id)
	if err := s.checkRole(id, acc, info.FullMethod); err != nil {
		s.auditCall(ctx, id, acc, info.FullMethod, "", err)
		return err
	}
	as := &authzStream{ServerStream: ss, s: s, ctx: ctx, id: id, acc: acc, method: info.FullMethod, check: true}
	err = handler(srv, as)
	s.auditCall(ctx, id, acc, info.FullMethod, as.last, err)
	return err
}

type authzStream struct {
	grpc.ServerStream
	s      *Server
	ctx    context.Context
	id     auth.Identity
	acc    access
	method string
	check  bool
	sid    string // the session already checked
	last   string // the last session named (for the audit line)
}

func (a *authzStream) Context() context.Context { return a.ctx }

func (a *authzStream) RecvMsg(m any) error {
	if err := a.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	sid := sessionIDOf(m)
	if sid == "" || sid == a.sid {
		return nil
	}
	a.last = sid
	if a.check && a.acc.session {
		if _, err := a.s.sessionOf(a.ctx, a.id, sid); err != nil {
			return err
		}
	}
	a.sid = sid
	return nil
}

func (s *Server) checkRole(id auth.Identity, acc access, method string) error {
	if acc.write && !id.CanWrite() {
		return status.Errorf(codes.PermissionDenied, "%s (tenant %s) may only read: %s changes state and needs the role user or admin", id.Subject, id.Tenant, shortMethod(method))
	}
	if !id.CanRead() {
		return status.Errorf(codes.PermissionDenied, "%s (tenant %s) has no role that may call %s", id.Subject, id.Tenant, shortMethod(method))
	}
	return nil
}

// authorize checks a unary request; it may return a narrowed request (ListSessions of one tenant).
func (s *Server) authorize(ctx context.Context, id auth.Identity, acc access, method string, req any) (any, error) {
	if err := s.checkRole(id, acc, method); err != nil {
		return req, err
	}
	var sess sessionInfo
	if acc.session {
		var err error
		if sess, err = s.sessionOf(ctx, id, sessionIDOf(req)); err != nil {
			return req, err
		}
	}
	if id.Admin() {
		return req, nil
	}
	settings := s.sec.tenants.Get(id.Tenant)
	switch r := req.(type) {
	case *chorusv1.ListSessionsRequest:
		if r.GetTenant() != "" && r.GetTenant() != id.Tenant {
			return req, status.Errorf(codes.PermissionDenied, "%s (tenant %s) may list only its own tenant's sessions, not tenant %q's", id.Subject, id.Tenant, r.GetTenant())
		}
		r = proto.CloneOf(r)
		r.Tenant = id.Tenant
		return r, nil
	case *chorusv1.CreateSessionRequest:
		if p := r.GetDefaultTaskOptions().GetPartition(); p != "" && !settings.AllowsPartition(p) {
			return req, partitionDenied(id, p)
		}
	case *chorusv1.SubmitTasksRequest:
		for _, t := range r.GetTasks() {
			p := t.GetOptions().GetPartition()
			if p == "" {
				p = sess.partition
			}
			if p != "" && !settings.AllowsPartition(p) {
				return req, partitionDenied(id, p)
			}
		}
	case *chorusv1.GetPartitionRequest:
		if !settings.AllowsPartition(r.GetPartitionId()) {
			return req, status.Errorf(codes.NotFound, "partition %s does not exist", r.GetPartitionId())
		}
	}
	return req, nil
}

func partitionDenied(id auth.Identity, p string) error {
	return status.Errorf(codes.PermissionDenied, "tenant %s may not run tasks on partition %q (see the tenants file's partitions)", id.Tenant, p)
}

// filterResponse hides what a non-admin may not see in an answer: partitions its tenant may not use.
func (s *Server) filterResponse(id auth.Identity, resp any) any {
	r, ok := resp.(*chorusv1.ListPartitionsResponse)
	if !ok {
		return resp
	}
	settings := s.sec.tenants.Get(id.Tenant)
	if len(settings.Partitions) == 0 {
		return resp
	}
	out := &chorusv1.ListPartitionsResponse{}
	for _, p := range r.GetPartitions() {
		if settings.AllowsPartition(p.GetPartitionId()) {
			out.Partitions = append(out.Partitions, p)
		}
	}
	return out
}

// sessionOf returns what the gateway knows of a session the caller may reach: NOT_FOUND, with the
// store's own words, both for a session that does not exist and for another tenant's.
func (s *Server) sessionOf(ctx context.Context, id auth.Identity, sid string) (sessionInfo, error) {
	if sid == "" {
		return sessionInfo{}, nil // the request's validation refuses it
	}
	info, ok := s.known.session(sid)
	if !ok {
		sess, err := s.store.GetSession(ctx, sid)
		if err != nil {
			return info, err
		}
		s.known.rememberSession(sess)
		info = sessionInfo{partition: sess.GetDefaultTaskOptions().GetPartition(), tenant: sess.GetTenant()}
	}
	if !id.Admin() && info.tenant != id.Tenant {
		return info, status.Errorf(codes.NotFound, "session %s does not exist", sid)
	}
	return info, nil
}

// sessionIDOf returns a message's session_id field, if it has one.
func sessionIDOf(m any) string {
	pm, ok := m.(proto.Message)
	if !ok || pm == nil {
		return ""
	}
	r := pm.ProtoReflect()
	f := r.Descriptor().Fields().ByName("session_id")
	if f == nil || f.Kind() != protoreflect.StringKind {
		return ""
	}
	return r.Get(f).String()
}

func shortMethod(full string) string {
	if i := strings.LastIndex(full, "/"); i >= 0 {
		return full[i+1:]
	}
	return full
}

// auditCall writes one audit line for a write call: who, which tenant, what, which session, outcome.
func (s *Server) auditCall(ctx context.Context, id auth.Identity, acc access, method, sid string, err error) {
	if !acc.write {
		return
	}
	who := id.Subject
	if who == "" {
		who = "anonymous"
	}
	// Without authentication there is no "who": the line is kept at debug level, so an open dev
	// gateway does not log every submission.
	level := slog.LevelDebug
	if s.sec.enabled {
		level = slog.LevelInfo
	}
	if !s.sec.audit.Enabled(ctx, level) {
		return
	}
	code := status.Code(toStatus(ctx, discardLog, method, err))
	s.sec.audit.LogAttrs(ctx, level, "audit",
		slog.String("subject", who), slog.String("tenant", id.Tenant), slog.String("via", id.Via),
		slog.String("method", shortMethod(method)), slog.String("session_id", sid),
		slog.String("code", code.String()), slog.String("request_id", requestIDFrom(ctx)))
}

var discardLog = slog.New(slog.NewTextHandler(io.Discard, nil))
