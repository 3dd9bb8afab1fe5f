package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	workerv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/worker/v1"
)

func TestNewNeedsTheAgentsSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Token: "t"}, EnvSocket},
		{Config{Socket: "/s"}, EnvToken},
		{Config{Socket: "/s", Token: "t", Capacity: -1}, EnvCapacity},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): error %v, want one naming %s", tc.cfg, err, tc.want)
		}
	}
	w, err := New(Config{Socket: "/s", Token: "t"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if w.cfg.Capacity != 1 {
		t.Errorf("default capacity %d, want 1", w.cfg.Capacity)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvSocket, "/run/agent.sock")
	t.Setenv(EnvToken, "secret")
	t.Setenv(EnvCapacity, "4")
	c := FromEnv()
	if c.Socket != "/run/agent.sock" || c.Token != "secret" || c.Capacity != 4 {
		t.Errorf("FromEnv() = %+v", c)
	}
	t.Setenv(EnvCapacity, "four")
	if c := FromEnv(); c.Capacity >= 0 {
		t.Errorf("a malformed capacity gives %d, want it reported by New", c.Capacity)
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	base := errors.New("database busy")
	err := fmt.Errorf("load prices: %w", Retryable(base))
	if !IsRetryable(err) || !errors.Is(err, base) || err.Error() != "load prices: database busy" {
		t.Errorf("wrapped retryable error: retryable %v, is base %v, message %q", IsRetryable(err), errors.Is(err, base), err)
	}
	if Retryable(nil) != nil || Permanent(nil) != nil {
		t.Error("Retryable(nil) or Permanent(nil) is not nil")
	}
}

// An error a handler returns is retryable unless marked Permanent, so max_retries applies to it.
func TestErrorsAreRetryableUnlessPermanent(t *testing.T) {
	t.Parallel()
	base := errors.New("database busy")
	if !IsRetryable(base) {
		t.Error("a plain error is not retryable; want retryable by default")
	}
	perm := fmt.Errorf("parse deck: %w", Permanent(errors.New("line 3 is malformed")))
	if IsRetryable(perm) || perm.Error() != "parse deck: line 3 is malformed" {
		t.Errorf("a wrapped permanent error: retryable %v, message %q; want final with its message", IsRetryable(perm), perm)
	}
	if !IsRetryable(Retryable(Permanent(base))) {
		t.Error("Retryable around Permanent is not retryable")
	}
}

func TestTaskTraceContext(t *testing.T) {
	t.Parallel()
	a := &workerv1.AssignTask{Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Tracestate: "k=v"}
	sc := trace.SpanContextFromContext(taskTraceContext(context.Background(), a))
	if !sc.IsValid() || !sc.IsRemote() || sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		sc.SpanID().String() != "00f067aa0ba902b7" || sc.TraceState().String() != "k=v" {
		t.Fatalf("extracted %+v", sc)
	}
	for _, tp := range []string{"", "00-not-a-trace-01"} {
		a := &workerv1.AssignTask{Traceparent: tp}
		if sc := trace.SpanContextFromContext(taskTraceContext(context.Background(), a)); sc.IsValid() {
			t.Errorf("traceparent %q gave span context %+v", tp, sc)
		}
	}
}
