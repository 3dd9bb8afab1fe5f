package gateway_test

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// BenchmarkSubmitGRPCAuth is BenchmarkSubmitGRPC on a gateway with TLS and authentication: the
// caller proves who it is with an HS256 JWT on every call (jwt), or with its client certificate once
// per connection (mtls). The difference to BenchmarkSubmitGRPC is the cost of security per call:
// TLS record encryption, the token check, the tenant check of the session (cached) and the audit line.
func BenchmarkSubmitGRPCAuth(b *testing.B) {
	for _, mode := range []string{"jwt", "mtls"} {
		b.Run(mode, func(b *testing.B) {
			e := newSecEnv(b, "", nil)
			ctx := context.Background()
			sid := e.fixture(ctx).session
			conn := e.conn()
			if mode == "mtls" {
				c, err := grpc.NewClient(e.gw.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(e.tlsConfig(
					&pkix.Name{CommonName: "bench", Organization: []string{"tenant-a"}, OrganizationalUnit: []string{"user"}}))))
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				conn = c
			} else {
				ctx = e.ctxAs(ctx, "userA")
			}
			tasks := chorusv1.NewTaskServiceClient(conn)
			req := &chorusv1.SubmitTasksRequest{SessionId: sid, Tasks: []*chorusv1.TaskSpec{{Method: "echo", Payload: []byte("hello")}}}
			measure(b, func() {
				if _, err := tasks.SubmitTasks(ctx, req); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkSubmitRESTAuth is BenchmarkSubmitREST over HTTPS with an HS256 JWT on every call.
func BenchmarkSubmitRESTAuth(b *testing.B) {
	e := newSecEnv(b, "", nil)
	sid := e.fixture(context.Background()).session
	httpc := e.httpClient(e.tlsConfig(nil))
	url := "https://" + e.gw.HTTPAddr() + "/v1/sessions/" + sid + "/tasks:batchCreate"
	body := []byte(`{"tasks":[{"method":"echo","payload":"aGVsbG8="}]}`)
	measure(b, func() {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.tokens["userA"])
		wantOK(b)(httpc.Do(req))
	})
}
