// Command worker is the Go example worker. It serves the conformance methods every Chorus example
// worker serves (echo, sha256, fail, sleep, fanout with its reducer concat) and flaky, a test method
// that fails retryably on its first attempt and echoes its payload on later ones. The agent launches
// it; it reads its connection settings from the environment (see the worker SDK).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/chorus-hpc/chorus/sdks/go/worker"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := worker.FromEnv()
	cfg.Logger = log
	w, err := worker.New(cfg)
	if err != nil {
		log.Error("cannot start the worker", "error", err)
		os.Exit(2)
	}
	w.HandleBytes("echo", func(_ context.Context, t *worker.Task) ([]byte, error) { return t.Payload, nil })
	w.HandleBytes("sha256", func(_ context.Context, t *worker.Task) ([]byte, error) {
		sum := sha256.Sum256(t.Payload)
		return []byte(hex.EncodeToString(sum[:])), nil
	})
	w.HandleBytes("fail", func(_ context.Context, t *worker.Task) ([]byte, error) {
		return nil, worker.Permanent(errors.New(string(t.Payload))) // the conformance fail is final
	})
	w.HandleBytes("sleep", sleep)
	w.HandleBytes("flaky", func(_ context.Context, t *worker.Task) ([]byte, error) {
		if t.Attempt == 1 {
			return nil, errors.New("flaky: attempt 1 fails on purpose") // a plain error: retryable by default
		}
		return t.Payload, nil
	})
	w.Handle("fanout", fanout)
	w.HandleBytes("concat", concat)
	w.HandleBytes("mc_reduce", mcReduce) // the demo's reducer (montecarlo.go)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := w.Run(ctx); err != nil {
		log.Error("worker stopped", "error", err)
		os.Exit(1)
	}
}

// sleep waits for payload milliseconds (or until cancelled), reporting progress 0.5 "half way" after
// half the time, and returns the payload.
func sleep(ctx context.Context, t *worker.Task) ([]byte, error) {
	ms, err := strconv.Atoi(string(t.Payload))
	if err != nil || ms < 0 {
		return nil, worker.Permanent(fmt.Errorf("sleep: payload %q is not a number of milliseconds", t.Payload))
	}
	// Both waits aim at instants fixed at the start, so a late first wake-up does not lengthen the
	// whole sleep.
	start, total := time.Now(), time.Duration(ms)*time.Millisecond
	if err := waitUntil(ctx, start.Add(total/2)); err != nil {
		return nil, err
	}
	if err := t.Progress(0.5, "half way"); err != nil {
		return nil, err
	}
	if err := waitUntil(ctx, start.Add(total)); err != nil {
		return nil, err
	}
	return t.Payload, nil
}

// waitUntil waits until the instant at, or returns the cancellation cause if ctx ends first.
func waitUntil(ctx context.Context, at time.Time) error {
	timer := time.NewTimer(time.Until(at))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// fanout submits N sha256 subtasks on "0".."N-1" and a concat reducer over their outputs, and hands
// its own expected output to the reducer.
func fanout(ctx context.Context, t *worker.Task) ([]worker.Output, error) {
	n, err := strconv.Atoi(string(t.Payload))
	if err != nil || n < 0 {
		return nil, worker.Permanent(fmt.Errorf("fanout: payload %q is not a count", t.Payload))
	}
	if len(t.ExpectedOutputIDs) != 1 {
		return nil, worker.Permanent(fmt.Errorf("fanout: expects one output, got %d", len(t.ExpectedOutputIDs)))
	}
	ids, err := t.NewResults(ctx, n)
	if err != nil {
		return nil, err
	}
	subs := make([]worker.Subtask, 0, n+1)
	for i, id := range ids {
		subs = append(subs, worker.Subtask{Method: "sha256", Payload: []byte(strconv.Itoa(i)), ExpectedOutputIDs: []string{id}})
	}
	subs = append(subs, worker.Subtask{Method: "concat", DataDependencies: ids, ExpectedOutputIDs: t.ExpectedOutputIDs})
	if _, err := t.Submit(ctx, subs...); err != nil {
		return nil, err
	}
	return nil, nil
}

// concat returns its inputs concatenated in order.
func concat(_ context.Context, t *worker.Task) ([]byte, error) {
	var buf bytes.Buffer
	for _, in := range t.Inputs {
		b, err := in.Bytes()
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}
