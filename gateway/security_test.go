package gateway_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/auth"
	"github.com/chorus-hpc/chorus/internal/auth/authtest"
	"github.com/chorus-hpc/chorus/internal/testutil/syncbuf"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

const (
	testAudience = "chorus-gateway-test"
	testIssuer   = "chorus-test-issuer"
)

// secEnv is a gateway with TLS (certificates made by the test), mutual TLS offered, HS256 JWTs and
// a tenants file, on its own Valkey.
type secEnv struct {
	t      testing.TB
	gw     *gateway.Server
	ca     *authtest.CA
	secret []byte
	audit  *syncbuf.Buffer
	rootCA *x509.CertPool
	tokens map[string]string // name → bearer token
	conns  sync.Map          // client TLS identity name → *grpc.ClientConn
}

func newSecEnv(t testing.TB, tenantsYAML string, mod func(*gateway.Config)) *secEnv {
	t.Helper()
	ca := authtest.NewCA(t, "gateway")
	srv := ca.Server(t, "gateway")
	dir := t.TempDir()
	secret := []byte("test-secret-of-at-least-thirty-two-bytes!")
	secretFile := filepath.Join(dir, "jwt-secret")
	authtest.WriteFile(t, secretFile, secret)
	tenantsFile := ""
	if tenantsYAML != "" {
		tenantsFile = filepath.Join(dir, "tenants.yaml")
		authtest.WriteFile(t, tenantsFile, []byte(tenantsYAML))
	}
	st, objs := newStores(t)
	cfg := testConfig()
	cfg.TLS = auth.TLSFiles{CertFile: srv.CertFile, KeyFile: srv.KeyFile, ClientCAFile: ca.File}
	cfg.Auth = auth.Config{JWTSecretFile: secretFile, JWTAudience: testAudience, JWTIssuer: testIssuer}
	cfg.TenantsFile = tenantsFile
	e := &secEnv{t: t, ca: ca, secret: secret, audit: &syncbuf.Buffer{}, rootCA: x509.NewCertPool()}
	cfg.AuditLogger = slog.New(slog.NewJSONHandler(e.audit, nil))
	if mod != nil {
		mod(&cfg)
	}
	e.rootCA.AppendCertsFromPEM(ca.CertPEM)
	gw, err := gateway.New(cfg, st, objs)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	e.gw = gw
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Run(ctx) }()
	t.Cleanup(func() {
		e.conns.Range(func(_, c any) bool { _ = c.(*grpc.ClientConn).Close(); return true })
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	})
	claims := func(tenant, subject string, roles ...string) authtest.Claims {
		return authtest.Claims{Tenant: tenant, Subject: subject, Roles: roles, Audience: testAudience, Issuer: testIssuer}
	}
	userA := claims("tenant-a", "alice", "user")
	e.tokens = map[string]string{
		"userA":    authtest.HS256(t, secret, userA),
		"readerA":  authtest.HS256(t, secret, claims("tenant-a", "rita", "reader")),
		"userB":    authtest.HS256(t, secret, claims("tenant-b", "bob", "user")),
		"admin":    authtest.HS256(t, secret, claims("ops", "root", "admin")),
		"badSig":   authtest.HS256(t, []byte("another-secret-of-at-least-thirty-two-bytes"), userA),
		"expired":  authtest.HS256(t, secret, func() authtest.Claims { c := userA; c.Expires = time.Now().Add(-time.Hour); return c }()),
		"wrongAud": authtest.HS256(t, secret, func() authtest.Claims { c := userA; c.Audience = "another-service"; return c }()),
	}
	return e
}

// tlsConfig is a client TLS configuration trusting the test CA, with a client certificate for
// subject when it is not empty.
func (e *secEnv) tlsConfig(subject *pkix.Name) *tls.Config {
	c := &tls.Config{RootCAs: e.rootCA, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if subject != nil {
		p := e.ca.Client(e.t, "client-"+subject.CommonName, *subject)
		pair, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
		if err != nil {
			e.t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c
}

// conn is a gRPC connection over plain TLS (the test CA trusted, no client certificate).
func (e *secEnv) conn() *grpc.ClientConn {
	if c, ok := e.conns.Load("plain"); ok {
		return c.(*grpc.ClientConn)
	}
	c, err := grpc.NewClient(e.gw.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(e.tlsConfig(nil))))
	if err != nil {
		e.t.Fatal(err)
	}
	if prev, loaded := e.conns.LoadOrStore("plain", c); loaded {
		_ = c.Close()
		return prev.(*grpc.ClientConn)
	}
	return c
}

func (e *secEnv) httpClient(cfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 20 * time.Second}
}

// ctxAs returns a context whose calls carry the named token ("" for none).
func (e *secEnv) ctxAs(ctx context.Context, who string) context.Context {
	if who == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+e.tokens[who])
}

// fixture is a session of tenant A with a task, a completed result and an empty result.
type fixture struct {
	session, task, done, empty string
}

func (e *secEnv) fixture(ctx context.Context) fixture {
	e.t.Helper()
	c := e.conn()
	ctx = e.ctxAs(ctx, "userA")
	sr, err := chorusv1.NewSessionServiceClient(c).CreateSession(ctx, &chorusv1.CreateSessionRequest{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: declared}})
	if err != nil {
		e.t.Fatalf("fixture CreateSession: %v", err)
	}
	f := fixture{session: sr.GetSession().GetSessionId()}
	if got := sr.GetSession().GetTenant(); got != "tenant-a" {
		e.t.Fatalf("the session's tenant is %q, want tenant-a (its creator's)", got)
	}
	rr, err := chorusv1.NewResultServiceClient(c).CreateResults(ctx, &chorusv1.CreateResultsRequest{SessionId: f.session,
		Results: []*chorusv1.ResultSpec{{Data: []byte("ready")}, {}}})
	if err != nil {
		e.t.Fatalf("fixture CreateResults: %v", err)
	}
	f.done, f.empty = rr.GetResults()[0].GetResultId(), rr.GetResults()[1].GetResultId()
	tr, err := chorusv1.NewTaskServiceClient(c).SubmitTasks(ctx, &chorusv1.SubmitTasksRequest{SessionId: f.session,
		Tasks: []*chorusv1.TaskSpec{{Method: "echo", Payload: []byte("x")}}})
	if err != nil {
		e.t.Fatalf("fixture SubmitTasks: %v", err)
	}
	f.task = tr.GetTasks()[0].GetTaskId()
	return f
}

// rpc is one method of chorus.v1 as the test calls it, built from the descriptors alone.
type rpc struct {
	desc protoreflect.MethodDescriptor
	full string // /package.Service/Method
	rule *annotations.HttpRule
}

func (r rpc) write() bool { return r.rule.GetGet() == "" } // every state change is a POST (or PUT)

func (r rpc) sessionScoped() bool { return r.desc.Input().Fields().ByName("session_id") != nil }

// allRPCs enumerates every method of every service of the chorus.v1 package.
func allRPCs(t testing.TB) []rpc {
	var out []rpc
	protoregistry.GlobalFiles.RangeFilesByPackage("chorus.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				md := sd.Methods().Get(j)
				rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
				if rule == nil {
					t.Fatalf("%s has no google.api.http rule: every RPC must be reachable over REST", md.FullName())
				}
				out = append(out, rpc{desc: md, full: fmt.Sprintf("/%s/%s", sd.FullName(), md.Name()), rule: rule})
			}
		}
		return true
	})
	if len(out) < 20 {
		t.Fatalf("found only %d chorus.v1 RPCs", len(out))
	}
	return out
}

// request builds a valid request of r on f from field names; a new RPC whose request has a field
// this does not know fails here until the test learns it.
func (r rpc) request(t testing.TB, f fixture) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(r.desc.Input().FullName())
	if err != nil {
		t.Fatal(err)
	}
	m := mt.New()
	fields := m.Descriptor().Fields()
	upload := r.desc.IsStreamingClient()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		switch fd.Name() {
		case "session_id":
			m.Set(fd, protoreflect.ValueOfString(f.session))
		case "task_id":
			m.Set(fd, protoreflect.ValueOfString(f.task))
		case "task_ids":
			m.Mutable(fd).List().Append(protoreflect.ValueOfString(f.task))
		case "result_id":
			if upload {
				m.Set(fd, protoreflect.ValueOfString(f.empty))
			} else {
				m.Set(fd, protoreflect.ValueOfString(f.done))
			}
		case "partition_id":
			m.Set(fd, protoreflect.ValueOfString(declared))
		case "data":
			m.Set(fd, protoreflect.ValueOfBytes([]byte("uploaded")))
		case "tasks":
			m.Mutable(fd).List().Append(protoreflect.ValueOfMessage((&chorusv1.TaskSpec{Method: "echo", Payload: []byte("y")}).ProtoReflect()))
		case "results":
			m.Mutable(fd).List().Append(protoreflect.ValueOfMessage((&chorusv1.ResultSpec{}).ProtoReflect()))
		case "default_task_options":
			m.Set(fd, protoreflect.ValueOfMessage((&chorusv1.TaskOptions{Partition: declared}).ProtoReflect()))
		case "page_size", "page_token", "status", "tenant", "weight", "labels", "request_id", "cursor", "kinds", "task_statuses", "batches":
			// optional: left unset
		default:
			t.Fatalf("%s: the table test does not know field %q of %s; teach request() how to fill it", r.full, fd.Name(), r.desc.Input().FullName())
		}
	}
	return m.Interface()
}

// callGRPC makes the call over gRPC and returns its status code.
func (e *secEnv) callGRPC(ctx context.Context, r rpc, who string, req proto.Message) codes.Code {
	ctx, cancel := context.WithTimeout(e.ctxAs(ctx, who), 10*time.Second)
	defer cancel()
	out := func() proto.Message {
		mt, _ := protoregistry.GlobalTypes.FindMessageByName(r.desc.Output().FullName())
		return mt.New().Interface()
	}
	if !r.desc.IsStreamingClient() && !r.desc.IsStreamingServer() {
		return status.Code(e.conn().Invoke(ctx, r.full, req, out()))
	}
	s, err := e.conn().NewStream(ctx, &grpc.StreamDesc{ServerStreams: r.desc.IsStreamingServer(), ClientStreams: r.desc.IsStreamingClient()}, r.full)
	if err != nil {
		return status.Code(err)
	}
	if err := s.SendMsg(req); err != nil && err != io.EOF {
		return status.Code(err)
	}
	if err := s.CloseSend(); err != nil {
		return status.Code(err)
	}
	// The first answer (a unary reply, or the first message of a stream: the fixture's session has
	// events and a completed result, so a permitted stream sends one at once).
	return status.Code(s.RecvMsg(out()))
}

// callREST makes the call over REST/JSON at its google.api.http path and returns the gRPC code of
// the answer.
func (e *secEnv) callREST(ctx context.Context, r rpc, who string, req proto.Message, client *http.Client) codes.Code {
	e.t.Helper()
	method, tmpl := http.MethodGet, r.rule.GetGet()
	if p := r.rule.GetPost(); p != "" {
		method, tmpl = http.MethodPost, p
	}
	path := tmpl
	fields := req.ProtoReflect().Descriptor().Fields()
	for {
		i := strings.Index(path, "{")
		if i < 0 {
			break
		}
		j := strings.Index(path[i:], "}") + i
		fd := fields.ByName(protoreflect.Name(path[i+1 : j]))
		path = path[:i] + req.ProtoReflect().Get(fd).String() + path[j+1:]
	}
	var body io.Reader
	if method == http.MethodPost {
		b, err := protojson.Marshal(req)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, method, "https://"+e.gw.HTTPAddr()+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if who != "" {
		hreq.Header.Set("Authorization", "Bearer "+e.tokens[who])
	}
	resp, err := client.Do(hreq)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return codes.OK // a stream (WatchEvents) stays open: its headers are the answer
	}
	b, _ := io.ReadAll(resp.Body)
	var st struct {
		Code  *int `json:"code"`
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		e.t.Fatalf("%s %s: HTTP %d with a body that is not a status: %s", method, path, resp.StatusCode, b)
	}
	switch {
	case st.Code != nil:
		return codes.Code(*st.Code)
	case st.Error != nil:
		return codes.Code(st.Error.Code)
	}
	e.t.Fatalf("%s %s: HTTP %d without a code: %s", method, path, resp.StatusCode, b)
	return codes.Unknown
}

// TestEveryRPCIsAuthorized is the table test of issue #15: every RPC of chorus.v1, found in the proto
// descriptors, over gRPC and REST on a gateway with real TLS, for each kind of caller.
func TestEveryRPCIsAuthorized(t *testing.T) {
	t.Parallel()
	e := newSecEnv(t, "", nil)
	ctx := context.Background()
	shared := e.fixture(ctx)
	httpc := e.httpClient(e.tlsConfig(nil))
	transports := map[string]func(r rpc, who string, req proto.Message) codes.Code{
		"grpc": func(r rpc, who string, req proto.Message) codes.Code { return e.callGRPC(ctx, r, who, req) },
		"rest": func(r rpc, who string, req proto.Message) codes.Code { return e.callREST(ctx, r, who, req, httpc) },
	}
	allowed := func(c codes.Code) bool { return c == codes.OK || c == codes.FailedPrecondition }
	for _, r := range allRPCs(t) {
		for tname, call := range transports {
			t.Run(string(r.desc.Name())+"/"+tname, func(t *testing.T) {
				for _, who := range []string{"", "badSig", "expired", "wrongAud"} {
					if got := call(r, who, r.request(t, shared)); got != codes.Unauthenticated {
						t.Errorf("token %q: got %v, want Unauthenticated", who, got)
					}
				}
				if r.sessionScoped() {
					if got := call(r, "userB", r.request(t, shared)); got != codes.NotFound {
						t.Errorf("tenant B on tenant A's session: got %v, want NotFound", got)
					}
				}
				if r.write() {
					if got := call(r, "readerA", r.request(t, shared)); got != codes.PermissionDenied {
						t.Errorf("reader on a write: got %v, want PermissionDenied", got)
					}
				} else if got := call(r, "readerA", r.request(t, shared)); !allowed(got) {
					t.Errorf("reader on a read of its tenant: got %v, want OK", got)
				}
				for _, who := range []string{"admin", "userA"} {
					req := r.request(t, shared)
					if r.write() { // writes change the session: each gets its own
						req = r.request(t, e.fixture(ctx))
					}
					if got := call(r, who, req); !allowed(got) {
						t.Errorf("%s: got %v, want OK (or FailedPrecondition)", who, got)
					}
				}
			})
		}
	}
	t.Run("ListSessions", func(t *testing.T) {
		list := func(who, tenant string) (*chorusv1.ListSessionsResponse, error) {
			return chorusv1.NewSessionServiceClient(e.conn()).ListSessions(e.ctxAs(ctx, who), &chorusv1.ListSessionsRequest{Tenant: tenant, PageSize: 1000})
		}
		has := func(r *chorusv1.ListSessionsResponse) bool {
			for _, s := range r.GetSessions() {
				if s.GetSessionId() == shared.session {
					return true
				}
			}
			return false
		}
		if r, err := list("userB", ""); err != nil || has(r) {
			t.Fatalf("tenant B lists tenant A's session (%v)", err)
		}
		if r, err := list("userA", ""); err != nil || !has(r) {
			t.Fatalf("tenant A does not list its own session (%v)", err)
		}
		if _, err := list("userB", "tenant-a"); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("tenant B asking for tenant A's list: %v, want PermissionDenied", err)
		}
		if r, err := list("admin", ""); err != nil || !has(r) {
			t.Fatalf("admin does not list every tenant's sessions (%v)", err)
		}
		if r, err := list("admin", "tenant-b"); err != nil || has(r) {
			t.Fatalf("admin filtering tenant B sees tenant A's session (%v)", err)
		}
		if r, err := list("admin", "tenant-a"); err != nil || !has(r) {
			t.Fatalf("admin filtering tenant A misses its session (%v)", err)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		log := e.audit.String()
		for _, want := range []string{`"msg":"audit"`, `"subject":"alice"`, `"tenant":"tenant-a"`, `"method":"CancelSession"`, `"session_id":"` + shared.session + `"`, `"code":"NotFound"`, `"subject":"bob"`} {
			if !strings.Contains(log, want) {
				t.Errorf("the audit log lacks %s", want)
			}
		}
	})
}

// TestTLSClients: mutual-TLS and plain-TLS clients connect over gRPC and REST; a client that does
// not trust the server's CA, or presents a certificate of another CA, is refused.
func TestTLSClients(t *testing.T) {
	t.Parallel()
	e := newSecEnv(t, "", nil)
	ctx := context.Background()
	bot := &pkix.Name{CommonName: "ci-bot", Organization: []string{"tenant-a"}, OrganizationalUnit: []string{"user"}}
	create := &chorusv1.CreateSessionRequest{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: declared}}

	dial := func(cfg *tls.Config) chorusv1.SessionServiceClient {
		c, err := grpc.NewClient(e.gw.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return chorusv1.NewSessionServiceClient(c)
	}
	restCreate := func(cfg *tls.Config, token string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+e.gw.HTTPAddr()+"/v1/sessions", strings.NewReader(`{"defaultTaskOptions":{"partition":"`+declared+`"}}`))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := e.httpClient(cfg).Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	// mTLS: the certificate is the identity (no token).
	r, err := dial(e.tlsConfig(bot)).CreateSession(ctx, create)
	if err != nil || r.GetSession().GetTenant() != "tenant-a" {
		t.Fatalf("mTLS gRPC client: %v (tenant %q)", err, r.GetSession().GetTenant())
	}
	if code, err := restCreate(e.tlsConfig(bot), ""); err != nil || code != http.StatusOK {
		t.Fatalf("mTLS REST client: HTTP %d, %v", code, err)
	}
	// Plain TLS with a token.
	if _, err := dial(e.tlsConfig(nil)).CreateSession(e.ctxAs(ctx, "userA"), create); err != nil {
		t.Fatalf("plain-TLS gRPC client: %v", err)
	}
	if code, err := restCreate(e.tlsConfig(nil), e.tokens["userA"]); err != nil || code != http.StatusOK {
		t.Fatalf("plain-TLS REST client: HTTP %d, %v", code, err)
	}
	// Plain TLS without a token: the connection is fine, the call is not.
	if _, err := dial(e.tlsConfig(nil)).CreateSession(ctx, create); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("plain-TLS client without a token: %v, want Unauthenticated", err)
	}
	if code, err := restCreate(e.tlsConfig(nil), ""); err != nil || code != http.StatusUnauthorized {
		t.Fatalf("plain-TLS REST client without a token: HTTP %d, %v", code, err)
	}
	// A client that does not trust the server's CA.
	untrusting := &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "localhost"}
	if _, err := dial(untrusting).CreateSession(e.ctxAs(ctx, "userA"), create); status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client not trusting the CA: %v, want Unavailable (certificate)", err)
	}
	if _, err := restCreate(untrusting, e.tokens["userA"]); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a REST client not trusting the CA: %v, want a certificate error", err)
	}
	// A client certificate from another CA is refused at the handshake.
	other := authtest.NewCA(t, "other")
	p := other.Client(t, "intruder", *bot)
	pair, _ := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	foreign := e.tlsConfig(nil)
	// Sent even though the server names its own CA as acceptable (Go's client would otherwise send
	// none, and the call would be merely unauthenticated).
	foreign.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	if _, err := dial(foreign).CreateSession(ctx, create); status.Code(err) != codes.Unavailable {
		t.Fatalf("a client certificate of another CA: %v, want the connection refused (Unavailable)", err)
	}
	if code, err := restCreate(foreign, ""); err == nil {
		t.Fatalf("a REST client certificate of another CA was accepted: HTTP %d", code)
	}
	// A REST client cannot forge the forwarded certificate.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+e.gw.HTTPAddr()+"/v1/sessions", nil)
	req.Header.Set("Grpc-Metadata-X-Chorus-Rest-Client-Cert", "AAAA")
	req.Header.Set("X-Chorus-Rest-Client-Cert", "AAAA")
	resp, err := e.httpClient(e.tlsConfig(nil)).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a forged forwarded certificate: HTTP %d, want 401", resp.StatusCode)
	}
}

// TestTenantQuotasAndPartitions: quotas answer RESOURCE_EXHAUSTED naming the quota; a partition the
// tenant may not use is refused; ListPartitions shows only the allowed ones.
func TestTenantQuotasAndPartitions(t *testing.T) {
	t.Parallel()
	e := newSecEnv(t, "tenants:\n  tenant-a:\n    partitions: ["+declared+"]\n    max_sessions: 2\n    max_queued_tasks: 3\n", func(c *gateway.Config) {
		c.DeclaredPartitions = []string{declared, "secret-gpu"}
	})
	ctx := e.ctxAs(context.Background(), "userA")
	sessions := chorusv1.NewSessionServiceClient(e.conn())
	tasks := chorusv1.NewTaskServiceClient(e.conn())
	create := func() (*chorusv1.CreateSessionResponse, error) {
		return sessions.CreateSession(ctx, &chorusv1.CreateSessionRequest{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: declared}})
	}
	s1, err := create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := create(); err != nil {
		t.Fatal(err)
	}
	_, err = create()
	wantCode(t, err, codes.ResourceExhausted, "max_sessions")

	submit := func(n int, partition string) error {
		specs := make([]*chorusv1.TaskSpec, n)
		for i := range specs {
			specs[i] = &chorusv1.TaskSpec{Method: "echo", Payload: []byte("q"), Options: &chorusv1.TaskOptions{Partition: partition}}
		}
		_, err := tasks.SubmitTasks(ctx, &chorusv1.SubmitTasksRequest{SessionId: s1.GetSession().GetSessionId(), Tasks: specs})
		return err
	}
	if err := submit(3, ""); err != nil {
		t.Fatal(err)
	}
	wantCode(t, submit(1, ""), codes.ResourceExhausted, "max_queued_tasks")
	wantCode(t, submit(1, "secret-gpu"), codes.PermissionDenied, "secret-gpu")
	_, err = sessions.CreateSession(ctx, &chorusv1.CreateSessionRequest{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "secret-gpu"}})
	wantCode(t, err, codes.PermissionDenied, "secret-gpu")

	parts := chorusv1.NewPartitionServiceClient(e.conn())
	lr, err := parts.ListPartitions(ctx, &chorusv1.ListPartitionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lr.GetPartitions() {
		if p.GetPartitionId() == "secret-gpu" {
			t.Fatal("tenant A lists a partition it may not use")
		}
	}
	_, err = parts.GetPartition(ctx, &chorusv1.GetPartitionRequest{PartitionId: "secret-gpu"})
	wantCode(t, err, codes.NotFound)
	lr, err = parts.ListPartitions(e.ctxAs(context.Background(), "admin"), &chorusv1.ListPartitionsRequest{})
	if err != nil || len(lr.GetPartitions()) != 2 {
		t.Fatalf("admin lists %d partitions (%v), want 2", len(lr.GetPartitions()), err)
	}
}

// TestGoSDKTokenAndTLS: the Go SDK reaches a secured gateway with a token over TLS (trusting a CA
// file), and with a client certificate alone.
func TestGoSDKTokenAndTLS(t *testing.T) {
	t.Parallel()
	e := newSecEnv(t, "", nil)
	ctx := context.Background()
	plain, err := client.TLSConfig(e.ca.File, "", "")
	if err != nil {
		t.Fatal(err)
	}
	bot := e.ca.Client(t, "sdk-bot", pkix.Name{CommonName: "sdk-bot", Organization: []string{"tenant-b"}, OrganizationalUnit: []string{"user"}})
	mutual, err := client.TLSConfig(e.ca.File, bot.CertFile, bot.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]client.DialOption{
		"token":       {client.WithTLS(plain), client.WithToken(e.tokens["userA"])},
		"certificate": {client.WithTLS(mutual)},
	} {
		c, err := client.Dial(ctx, e.gw.GRPCAddr(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.CreateSession(ctx, client.SessionOptions{Partition: declared})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if _, err := s.Get(ctx); err != nil {
			t.Errorf("%s: reading its own session: %v", name, err)
		}
		_ = c.Close()
	}
	c, err := client.Dial(ctx, e.gw.GRPCAddr(), client.WithTLS(plain))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateSession(ctx, client.SessionOptions{Partition: declared}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("the SDK without a token: %v, want Unauthenticated", err)
	}
}

// TestRequireClientCert: with --tls-require-client-cert a client without a certificate is refused at
// the handshake, even with a valid token; one with a certificate of the CA gets in.
func TestRequireClientCert(t *testing.T) {
	t.Parallel()
	e := newSecEnv(t, "", func(c *gateway.Config) { c.TLS.RequireClientCert = true })
	ctx := context.Background()
	create := &chorusv1.CreateSessionRequest{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: declared}}
	if _, err := chorusv1.NewSessionServiceClient(e.conn()).CreateSession(e.ctxAs(ctx, "userA"), create); status.Code(err) != codes.Unavailable {
		t.Fatalf("a client without a certificate: %v, want the connection refused (Unavailable)", err)
	}
	c, err := grpc.NewClient(e.gw.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(e.tlsConfig(
		&pkix.Name{CommonName: "svc", Organization: []string{"tenant-a"}, OrganizationalUnit: []string{"reader"}}))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := chorusv1.NewSessionServiceClient(c).ListSessions(ctx, &chorusv1.ListSessionsRequest{}); err != nil {
		t.Fatalf("a client with a certificate: %v", err)
	}
	if _, err := chorusv1.NewSessionServiceClient(c).CreateSession(ctx, create); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a reader certificate creating a session: %v, want PermissionDenied", err)
	}
}
