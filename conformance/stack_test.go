package conformance_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/agent"
	"github.com/chorus-hpc/chorus/gateway"
	"github.com/chorus-hpc/chorus/internal/store/valkeystore"
	"github.com/chorus-hpc/chorus/sdks/go/client"
	"github.com/chorus-hpc/chorus/stack/stacktest"
)

// stack is one language's Chorus: a valkey-server, the gateway and an agent running in this process,
// the agent serving one partition (named after the language) with one worker process.
type stack struct {
	lang      language
	capacity  int
	agent     *agent.Agent
	client    *client.Client
	workerDir string // the worker process's working folder: how the suite tells its process apart
	objDir    string // the local object store's folder
}

// workerAvailable skips the test of a language whose worker needs a build step unless
// CHORUS_CONFORMANCE=1 (a plain `go test ./...` runs the Go cases only), and fails it when the worker
// is missing.
func workerAvailable(tb testing.TB, l language) {
	tb.Helper()
	if l.NeedsBuild && os.Getenv(requireAllEnv) != "1" {
		tb.Skipf("the %s example worker needs a build step: run `make test-conformance` to build every worker and run every language", l.Name)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err = l.worker(root); err != nil {
		tb.Fatalf("the %s example worker is not available: %v", l.Name, err)
	}
}

// startStack starts a stack for l with one worker process of the given capacity; everything stops
// when the test ends.
func startStack(tb testing.TB, l language, capacity int) *stack {
	tb.Helper()
	workerAvailable(tb, l)
	root := stacktest.RepoRoot(tb)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("language", l.Name)
	s := stacktest.Start(tb, stacktest.Config{
		Gateway: gateway.Config{DeclaredPartitions: []string{l.Name}, WatchBlock: time.Second, Logger: log},
		Store:   valkeystore.Config{KeyPrefix: "conformance:", Logger: log},
	})
	// The agent's Unix socket lives in RuntimeDir: keep its path short.
	runtimeDir, err := os.MkdirTemp("", "chc-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(runtimeDir) })
	workerDir := filepath.Join(tb.TempDir(), "worker-cwd")
	if err := os.Mkdir(workerDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	part, err := l.partition(root, workerDir, capacity)
	if err != nil {
		tb.Fatal(err)
	}
	ag := s.StartAgent(agent.Config{
		RuntimeDir: runtimeDir,
		Partitions: []agent.PartitionConfig{part},
		// A worker that ignores a cancellation keeps its slot for CancelGrace before it is killed:
		// make that longer than any test, so the cancellation case sees it (the process would not
		// be the same one, and the slot would stay taken).
		CancelGrace: time.Hour,
		// Cancellations reach a running task at the next lease renewal (default every 10s).
		RenewInterval:  500 * time.Millisecond,
		RestartBackoff: 20 * time.Millisecond,
		DrainDeadline:  5 * time.Second,
		Logger:         log,
	}, nil)
	return &stack{lang: l, capacity: capacity, agent: ag.Agent, client: s.Client(), workerDir: workerDir, objDir: s.ObjectsDir}
}

// session creates a session whose tasks run in the language's partition.
func (s *stack) session(tb testing.TB, ctx context.Context) *client.Session {
	tb.Helper()
	sess, err := s.client.CreateSession(ctx, client.SessionOptions{Partition: s.lang.Name})
	if err != nil {
		tb.Fatalf("create a session: %v", err)
	}
	return sess
}

// watchedSleep submits one sleep task of ms milliseconds into a new session whose events it
// watches, within the context of one case.
func (s *stack) watchedSleep(t *testing.T, ms string) (context.Context, *client.Session, *events, *client.TaskHandle) {
	t.Helper()
	ctx := testContext(t, caseTimeout)
	sess := s.session(t, ctx)
	ev := watchEvents(t, ctx, sess)
	g := client.NewGraph()
	h := g.Task("sleep", []byte(ms))
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatalf("submit: %v", err)
	}
	return ctx, sess, ev, h
}

// testContext bounds one case so that a hang fails with a message instead of the package timeout.
func testContext(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

func (s *stack) String() string { return fmt.Sprintf("%s (capacity %d)", s.lang.Name, s.capacity) }
