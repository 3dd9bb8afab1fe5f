package gateway_test

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/objstore/local"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/testutil/syncbuf"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	"github.com/chorus-hpc/chorus/internal/valkeyproc"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestStoreDown stops Valkey under a running gateway: calls answer INTERNAL with a request id and no
// internals, the log has the cause under that id, and /readyz says not ready while /healthz stays ok.
func TestStoreDown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a bound, not an assertion
	defer cancel()
	proc, err := valkeyproc.Start(ctx, valkeyproc.Config{Dir: filepath.Join(t.TempDir(), "valkey")})
	if err != nil {
		t.Fatalf("starting valkey-server: %v", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = proc.Stop(ctx)
		}
	}()
	client, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{proc.Addr()}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	gw, logs, sessions := loggedGateway(t, client)
	if _, err := sessions.CreateSession(ctx, &chorusv1.CreateSessionRequest{}); err != nil {
		t.Fatalf("CreateSession with Valkey up: %v", err)
	}

	stopped = true
	if err := proc.Stop(ctx); err != nil {
		t.Fatalf("stopping valkey-server: %v", err)
	}
	_, err = sessions.CreateSession(ctx, &chorusv1.CreateSessionRequest{})
	// Valkey not answering is UNAVAILABLE (retry), with the request id and no internals.
	st2 := wantCode(t, err, codes.Unavailable, "the store did not answer in time (request id ")
	id, _, _ := strings.Cut(strings.TrimPrefix(st2.Message(), "the store did not answer in time (request id "), ")")
	if id == "" || strings.Contains(st2.Message(), proc.Addr()) {
		t.Fatalf("UNAVAILABLE message %q: want a request id and no internals", st2.Message())
	}
	if l := logs.String(); !strings.Contains(l, "request_id="+id) || !strings.Contains(l, "CreateSession") {
		t.Fatalf("the log does not record request %s:\n%s", id, l)
	}

	get := func(path string) int {
		resp, err := http.Get("http://" + gw.HTTPAddr() + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with Valkey down: HTTP %d", code)
	}
	if code := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz with Valkey down: HTTP %d", code)
	}
	resp, err := http.Post("http://"+gw.HTTPAddr()+"/v1/sessions", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("POST /v1/sessions with Valkey down: %v", err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	wantHTTPError(t, resp.StatusCode, b.Bytes(), http.StatusServiceUnavailable, codes.Unavailable, "request id "+resp.Header.Get("X-Request-Id"))
}

func TestRegisterFlags(t *testing.T) {
	t.Parallel()
	var cfg gateway.Config
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if cfg.GRPCAddr != gateway.DefaultGRPCAddr || cfg.InlineLimit != gateway.DefaultInlineLimit {
		t.Fatalf("defaults after RegisterFlags: %+v", cfg)
	}
	err := fs.Parse([]string{"--grpc-addr=127.0.0.1:9", "--inline-limit=1000", "--partitions=a,b", "--partitions= c,,", "--shutdown-grace=3s",
		"--jwt-public-key=k1.pem, k2.pem", "--jwt-public-key=k3.pem"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GRPCAddr != "127.0.0.1:9" || cfg.InlineLimit != 1000 || strings.Join(cfg.DeclaredPartitions, ",") != "a,b,c" || cfg.ShutdownGrace != 3*time.Second ||
		strings.Join(cfg.Auth.JWTPublicKeyFiles, ",") != "k1.pem,k2.pem,k3.pem" {
		t.Fatalf("after parsing: %+v", cfg)
	}
}

// TestStoreACLRefusal runs a gateway whose Valkey user may not run SPOP (which a purge needs): the
// purge answers INTERNAL, over gRPC and REST, with the store's message kept (the refused command and
// the documented ACL) and a request id, and the log has the refusal under that id.
func TestStoreACLRefusal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a bound, not an assertion
	defer cancel()
	srv := valkeytest.Start(t)
	admin := srv.Client(t)
	if err := admin.Do(ctx, admin.B().Arbitrary("ACL", "SETUSER", "chorus", "on", ">password-0123456789", "~*", "+@all", "-spop").Build()).Error(); err != nil {
		t.Fatalf("creating the ACL user: %v", err)
	}
	client, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{srv.Addr}, Username: "chorus",
		Password: "password-0123456789", DisableCache: true})
	if err != nil {
		t.Fatalf("connecting as the ACL user: %v", err)
	}
	t.Cleanup(client.Close)
	gw, logs, sessions := loggedGateway(t, client)
	created, err := sessions.CreateSession(ctx, &chorusv1.CreateSessionRequest{})
	if err != nil {
		t.Fatalf("CreateSession under an ACL that allows it: %v", err)
	}
	id := created.GetSession().GetSessionId()
	if _, err := sessions.CloseSession(ctx, &chorusv1.CloseSessionRequest{SessionId: id}); err != nil {
		t.Fatalf("CloseSession under an ACL that allows it: %v", err)
	}

	_, err = sessions.PurgeSession(ctx, &chorusv1.PurgeSessionRequest{SessionId: id})
	s := wantCode(t, err, codes.Internal, "'spop' command", "docs/security.md", "(request id ")
	rid, _, _ := strings.Cut(s.Message()[strings.LastIndex(s.Message(), "(request id ")+len("(request id "):], ")")
	if l := logs.String(); rid == "" || !strings.Contains(l, "request_id="+rid) || !strings.Contains(l, "spop") {
		t.Fatalf("the log does not record the refusal of request %q:\n%s", rid, l)
	}

	resp, err := http.Post("http://"+gw.HTTPAddr()+"/v1/sessions/"+id+":purge", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("POST :purge: %v", err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	wantHTTPError(t, resp.StatusCode, b.Bytes(), http.StatusInternalServerError, codes.Internal, "'spop' command", "docs/security.md")
}

// loggedGateway runs a gateway on a store over client, logging into a buffer the test reads, until
// the test ends; it returns the gateway, its log and a client of its session service.
func loggedGateway(t *testing.T, client valkey.Client) (*gateway.Server, *syncbuf.Buffer, chorusv1.SessionServiceClient) {
	t.Helper()
	st, err := valkeystore.New(valkeystore.Config{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := local.New(local.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	cfg := testConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	gw, err := gateway.New(cfg, st, objs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	conn, err := grpc.NewClient(gw.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return gw, logs, chorusv1.NewSessionServiceClient(conn)
}
