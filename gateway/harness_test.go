package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/objstore"
	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// declared is the partition every test gateway declares.
const declared = "p1"

// env is one test's gateway on its own Valkey data and object-store folder, with gRPC and REST clients.
type env struct {
	t     testing.TB
	ctx   context.Context
	st    store.Store
	objs  objstore.Store
	gw    *gateway.Server
	stop  func() error // ends Run and returns its error
	conn  *grpc.ClientConn
	base  string // REST base URL
	httpc *http.Client

	sessions   chorusv1.SessionServiceClient
	tasks      chorusv1.TaskServiceClient
	results    chorusv1.ResultServiceClient
	events     chorusv1.EventServiceClient
	partitions chorusv1.PartitionServiceClient
}

// testConfig is a gateway config with small limits, so tests reach them with little data.
func testConfig() gateway.Config {
	return gateway.Config{
		GRPCAddr:           "127.0.0.1:0",
		HTTPAddr:           "127.0.0.1:0",
		InlineLimit:        4 << 10,
		ChunkSize:          256 << 10,
		MaxBatch:           50,
		MaxPayload:         1 << 10,
		MaxResultSize:      8 << 20,
		DeclaredPartitions: []string{declared},
		WatchBlock:         200 * time.Millisecond, // short store reads keep shutdown in tests quick
		CallTimeout:        2 * time.Second,
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// newEnv starts a gateway with testConfig changed by mod (may be nil) and stops it at the end.
func newEnv(t testing.TB, mod func(*gateway.Config)) *env {
	t.Helper()
	st, objs := newStores(t)
	cfg := testConfig()
	if mod != nil {
		mod(&cfg)
	}
	gw, err := gateway.New(cfg, st, objs)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Run(ctx) }()
	var stopErr error
	stopped := false
	stop := func() error {
		if !stopped {
			cancel()
			stopErr, stopped = <-done, true
		}
		return stopErr
	}
	conn, err := grpc.NewClient(gw.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	e := &env{
		t: t, ctx: context.Background(), st: st, objs: objs, gw: gw, stop: stop, conn: conn,
		base: "http://" + gw.HTTPAddr(), httpc: &http.Client{},
		sessions: chorusv1.NewSessionServiceClient(conn), tasks: chorusv1.NewTaskServiceClient(conn),
		results: chorusv1.NewResultServiceClient(conn), events: chorusv1.NewEventServiceClient(conn),
		partitions: chorusv1.NewPartitionServiceClient(conn),
	}
	t.Cleanup(func() {
		_ = conn.Close()
		if err := stop(); err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	})
	return e
}

// session creates a running session whose tasks default to the declared partition.
func (e *env) session() string {
	e.t.Helper()
	resp, err := e.sessions.CreateSession(e.ctx, &chorusv1.CreateSessionRequest{
		DefaultTaskOptions: &chorusv1.TaskOptions{Partition: declared},
	})
	if err != nil {
		e.t.Fatalf("CreateSession: %v", err)
	}
	return resp.GetSession().GetSessionId()
}

// wantCode fails unless err is a status with code and a message containing every part.
func wantCode(t testing.TB, err error, code codes.Code, parts ...string) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code {
		t.Fatalf("want %v, got %v", code, err)
	}
	for _, p := range parts {
		if !strings.Contains(st.Message(), p) {
			t.Fatalf("%v message %q does not mention %q", code, st.Message(), p)
		}
	}
	return st
}

// wantFields fails unless st carries a BadRequest naming exactly these fields (in any order).
func wantFields(t testing.TB, details []any, fields ...string) {
	t.Helper()
	got := map[string]bool{}
	for _, d := range details {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				got[fv.GetField()] = true
			}
		}
	}
	for _, f := range fields {
		if !got[f] {
			t.Fatalf("field violations %v do not name %q", got, f)
		}
	}
	if len(got) != len(fields) {
		t.Fatalf("field violations %v, want exactly %v", got, fields)
	}
}

// rest sends a REST request with a JSON body ("" for none) and returns the status, body and headers.
func (e *env) rest(method, path, body string) (int, []byte, http.Header) {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.base+path, r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.httpc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, b, resp.Header
}

// restOK sends a REST request, wants 200 and decodes the JSON answer into out.
func (e *env) restOK(method, path, body string, out proto.Message) {
	e.t.Helper()
	code, b, _ := e.rest(method, path, body)
	if code != http.StatusOK {
		e.t.Fatalf("%s %s: HTTP %d: %s", method, path, code, b)
	}
	if out != nil {
		if err := protojson.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
}

// restErr sends a REST request and wants an HTTP error with grpc-gateway's status body of code whose
// message mentions every part; it returns the status.
func (e *env) restErr(method, path, body string, httpCode int, code codes.Code, parts ...string) *status.Status {
	e.t.Helper()
	got, b, _ := e.rest(method, path, body)
	return wantHTTPError(e.t, got, b, httpCode, code, parts...)
}

func wantHTTPError(t testing.TB, got int, b []byte, httpCode int, code codes.Code, parts ...string) *status.Status {
	t.Helper()
	if got != httpCode {
		t.Fatalf("want HTTP %d, got %d: %s", httpCode, got, b)
	}
	var sp spb.Status
	if err := protojson.Unmarshal(b, &sp); err != nil {
		t.Fatalf("error body is not a status: %v: %s", err, b)
	}
	st := status.FromProto(&sp)
	wantCode(t, st.Err(), code, parts...)
	return st
}

// jsonString quotes s for a JSON body.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// sessionCall binds a session RPC (whose response holds the session) to its context and request,
// for tables of calls.
func sessionCall[Req any, Resp interface{ GetSession() *chorusv1.Session }](ctx context.Context,
	rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) func() (*chorusv1.Session, error) {
	return func() (*chorusv1.Session, error) {
		r, err := rpc(ctx, req)
		return r.GetSession(), err
	}
}

// errCall binds an RPC to its context and request and keeps only its error, for tables of calls.
func errCall[Req, Resp any](ctx context.Context, rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) func() error {
	return func() error {
		_, err := rpc(ctx, req)
		return err
	}
}
