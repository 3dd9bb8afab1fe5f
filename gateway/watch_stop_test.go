package gateway_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/chorus-hpc/chorus/gateway"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestShutdownEndsBlockedWatchesAtOnce stops a gateway whose watches block on the store for a
// minute (and whose shutdown grace is a minute): each open watch ends with UNAVAILABLE carrying in
// its chorus-cursor trailer the cursor of the last event it sent, and the watch resumed from that
// cursor on another gateway misses and repeats nothing. The stop time is logged, not asserted.
func TestShutdownEndsBlockedWatchesAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *gateway.Config) { c.WatchBlock, c.ShutdownGrace = time.Minute, time.Minute })
	sid := e.session()
	if _, err := e.results.CreateResults(e.ctx, &chorusv1.CreateResultsRequest{SessionId: sid, Results: []*chorusv1.ResultSpec{{ResultId: "a", Data: []byte("x")}}}); err != nil {
		t.Fatalf("CreateResults: %v", err)
	}
	full, _, cancel := e.watch(sid, "")
	defer cancel()
	idle, _, cancelIdle := e.watch(sid, "$")
	defer cancelIdle()
	next(t, full) // the watch is open and past its first read
	resp, err := e.httpc.Get(e.base + "/v1/sessions/" + sid + "/events?cursor=$")
	if err != nil {
		t.Fatalf("REST watch: %v", err)
	}
	restDone := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(resp.Body); restDone <- b }()
	start := time.Now()
	if err := e.stop(); err != nil {
		t.Fatalf("Run after shutdown: %v", err)
	}
	t.Logf("the gateway stopped %s after it was told to, with 3 watches (2 gRPC, 1 REST) blocked on the store", time.Since(start).Round(time.Millisecond))
	if b := <-restDone; !strings.Contains(string(b), "resume the watch from cursor") {
		t.Fatalf("the REST watch ended with %q; want an error line saying where to resume", b)
	}
	var resume string
	for i, s := range []chorusv1.EventService_WatchEventsClient{full, idle} {
		last := ""
		var err error
		for err == nil {
			var resp *chorusv1.WatchEventsResponse
			if resp, err = s.Recv(); err == nil {
				last = resp.GetEvent().GetCursor()
			}
		}
		wantCode(t, err, codes.Unavailable, "resume the watch from cursor")
		got := s.Trailer().Get("chorus-cursor")
		if len(got) != 1 || got[0] == "" || (last != "" && got[0] != last) {
			t.Fatalf("watch %d: trailer chorus-cursor = %v; want the cursor of the last event sent (%q)", i, got, last)
		}
		if i == 0 {
			resume = got[0]
		}
	}

	// Resume on another gateway sharing the store.
	cfg := testConfig()
	gw2, err := gateway.New(cfg, e.st, e.objs)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	ctx, stop2 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw2.Run(ctx) }()
	defer func() { stop2(); <-done }()
	conn, err := grpc.NewClient(gw2.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	defer conn.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	resumed, err := chorusv1.NewEventServiceClient(conn).WatchEvents(wctx, &chorusv1.WatchEventsRequest{SessionId: sid, Cursor: resume})
	if err != nil {
		t.Fatalf("WatchEvents on the second gateway: %v", err)
	}
	if _, err := chorusv1.NewResultServiceClient(conn).CreateResults(wctx, &chorusv1.CreateResultsRequest{SessionId: sid, Results: []*chorusv1.ResultSpec{{ResultId: "b", Data: []byte("y")}}}); err != nil {
		t.Fatalf("CreateResults on the second gateway: %v", err)
	}
	ev := next(t, resumed)
	if id := ev.GetResultStatus().GetResultId(); id != "b" {
		t.Fatalf("first event after resuming: %v; want result b's (nothing missed, nothing repeated)", ev)
	}
}
