package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/chorus-hpc/chorus/gateway"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func TestPartitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	list, err := e.partitions.ListPartitions(e.ctx, &chorusv1.ListPartitionsRequest{})
	if err != nil {
		t.Fatalf("ListPartitions: %v", err)
	}
	found := false
	for _, p := range list.GetPartitions() {
		found = found || (p.GetPartitionId() == declared && p.GetDeclared())
	}
	if !found {
		t.Fatalf("ListPartitions = %v; want declared %s", list.GetPartitions(), declared)
	}
	got, err := e.partitions.GetPartition(e.ctx, &chorusv1.GetPartitionRequest{PartitionId: declared})
	if err != nil || got.GetPartition().GetPartitionId() != declared {
		t.Fatalf("GetPartition = %v, %v", got, err)
	}
	_, err = e.partitions.GetPartition(e.ctx, &chorusv1.GetPartitionRequest{PartitionId: "nowhere"})
	wantCode(t, err, codes.NotFound, "nowhere")
	_, err = e.partitions.GetPartition(e.ctx, &chorusv1.GetPartitionRequest{PartitionId: "-x"})
	wantCode(t, err, codes.InvalidArgument, "partition_id")

	var rl chorusv1.ListPartitionsResponse
	e.restOK("GET", "/v1/partitions", "", &rl)
	if len(rl.GetPartitions()) != len(list.GetPartitions()) {
		t.Fatalf("GET partitions = %v, want %v", rl.GetPartitions(), list.GetPartitions())
	}
	var rg chorusv1.GetPartitionResponse
	e.restOK("GET", "/v1/partitions/"+declared, "", &rg)
	if !rg.GetPartition().GetDeclared() {
		t.Fatalf("GET partition = %v", rg.GetPartition())
	}
	e.restErr("GET", "/v1/partitions/nowhere", "", http.StatusNotFound, codes.NotFound, "nowhere")
}

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	hc, err := healthpb.NewHealthClient(e.conn).Check(e.ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health check = %v, %v", hc, err)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		code, body, _ := e.rest("GET", path, "")
		if code != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
			t.Fatalf("GET %s: HTTP %d %q", path, code, body)
		}
	}
	code, body, hdr := e.rest("GET", "/openapi.json", "")
	var doc struct {
		Swagger string                     `json:"swagger"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if code != http.StatusOK || hdr.Get("Content-Type") != "application/json" || json.Unmarshal(body, &doc) != nil ||
		doc.Paths["/v1/sessions/{sessionId}/tasks:batchCreate"] == nil && doc.Paths["/v1/sessions/{session_id}/tasks:batchCreate"] == nil {
		t.Fatalf("GET /openapi.json: HTTP %d, %d paths", code, len(doc.Paths))
	}

	// Reflection lists the chorus services.
	rs, err := reflectionpb.NewServerReflectionClient(e.conn).ServerReflectionInfo(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	rr, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range rr.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"chorus.v1.SessionService", "chorus.v1.TaskService", "chorus.v1.ResultService", "chorus.v1.EventService", "chorus.v1.PartitionService", "grpc.health.v1.Health"} {
		if !strings.Contains(strings.Join(names, ","), want) {
			t.Fatalf("reflection lists %v, not %s", names, want)
		}
	}

	// Every answer carries a request id; a client's own is kept.
	_, _, hdr = e.rest("GET", "/v1/sessions/snope", "")
	if hdr.Get("X-Request-Id") == "" {
		t.Fatalf("no X-Request-Id on an error answer")
	}
	// Unknown routes answer grpc-gateway's status JSON too.
	code, body, _ = e.rest("GET", "/v1/nothing-here", "")
	if code != http.StatusNotFound || !strings.Contains(string(body), `"code"`) {
		t.Fatalf("unknown route: HTTP %d %s", code, body)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	st, objs := newStores(t)
	for _, tc := range []struct {
		name string
		cfg  gateway.Config
		want string
	}{
		{"chunk", gateway.Config{ChunkSize: 5 << 20}, "ChunkSize"},
		{"batch", gateway.Config{MaxBatch: 10001}, "MaxBatch"},
		{"partition", gateway.Config{DeclaredPartitions: []string{"bad name"}}, "bad name"},
		{"address", gateway.Config{GRPCAddr: "127.0.0.1:notaport"}, "127.0.0.1:notaport"},
		{"jaeger", gateway.Config{JaegerURL: "ftp://jaeger:16686"}, "JaegerURL"},
	} {
		cfg := tc.cfg
		if cfg.HTTPAddr == "" {
			cfg.HTTPAddr = "127.0.0.1:0"
		}
		if cfg.GRPCAddr == "" {
			cfg.GRPCAddr = "127.0.0.1:0"
		}
		gw, err := gateway.New(cfg, st, objs)
		if err == nil {
			_ = gw.Close()
			t.Fatalf("%s: New accepted %+v", tc.name, tc.cfg)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: error %q does not mention %q", tc.name, err, tc.want)
		}
	}
	if _, err := gateway.New(gateway.Config{}, nil, objs); err == nil {
		t.Fatalf("New accepted a nil store")
	}
}
