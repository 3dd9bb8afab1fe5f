package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/metrics"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/internal/telemetry"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestPartitionGaugesMatchTheStore queues tasks in a real Valkey, completes some, and checks the
// scraped gauges against the truth.
func TestPartitionGaugesMatchTheStore(t *testing.T) {
	t.Parallel()
	st, err := valkeystore.New(valkeystore.Config{Client: valkeytest.Start(t).Client(t), KeyPrefix: "m:"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tel, err := telemetry.New(ctx, telemetry.Config{ServiceName: "test", Getenv: func(string) string { return "" }, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(ctx)
	unregister, err := metrics.RegisterPartitionGauges(tel.MeterProvider.Meter("chorus"), st, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unregister()

	if err := st.DeclarePartitions(ctx, []string{"gpu"}); err != nil {
		t.Fatal(err)
	}
	sess, err := st.CreateSession(ctx, store.SessionSpec{DefaultTaskOptions: &chorusv1.TaskOptions{Partition: "gpu"}})
	if err != nil {
		t.Fatal(err)
	}
	specs := make([]store.TaskSpec, 5)
	for i := range specs {
		specs[i] = store.TaskSpec{Method: "m"}
	}
	if _, err := st.SubmitTasks(ctx, sess.SessionId, store.SubmitBatch{Tasks: specs}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.Claim(ctx, store.ClaimRequest{Partition: "gpu", AgentID: "a", Max: 2, LeaseTTL: time.Minute})
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	if err := st.Complete(ctx, store.Completion{Lease: claimed[0].Lease}); err != nil {
		t.Fatal(err)
	}
	body := scrape(t, tel)
	for _, want := range []string{
		`chorus_partition_queue_depth{partition="gpu"} 3`,
		`chorus_partition_tasks{partition="gpu",status="completed"} 1`,
		`chorus_partition_tasks{partition="gpu",status="dispatched"} 1`,
		`chorus_partition_tasks{partition="gpu",status="queued"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, sess.SessionId) {
		t.Error("a session id became a metric label")
	}
	if t.Failed() {
		t.Logf("scraped:\n%s", grep(body, "chorus_"))
	}
}

func scrape(t *testing.T, tel *telemetry.Telemetry) string {
	rec := httptest.NewRecorder()
	tel.MetricsHandler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
