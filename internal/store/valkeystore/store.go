package valkeystore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/valkey-io/valkey-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/chorus-hpc/chorus/internal/store"
)

// Store is the Valkey implementation of store.Store.
type Store struct {
	cfg     Config
	client  valkey.Client
	keys    keys
	scripts *scripts

	// defaults caches each session's immutable default task options and weight.
	mu       sync.Mutex
	defaults map[string]sessionDefaults

	tracer trace.Tracer

	// tails are the claims' index updates still running, hints the reads that follow a wake-up
	// (tails.go).
	tails tails
	hints hints
	// noted are the (session, partition) pairs this store noted lately (reconcile.go).
	noted notedParts
	// depths are the partitions' last depth readings (tails.go).
	depths depths
}

var _ store.Store = (*Store)(nil)

// New returns a Store on cfg.Client. It does not contact the server (see Ping).
func New(cfg Config) (*Store, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s, err := loadScripts(len(cfg.KeyPrefix), cfg.Clock.Now, !cfg.NoFunctionLoad)
	if err != nil {
		return nil, err
	}
	return &Store{cfg: cfg, client: cfg.Client, keys: keys{prefix: cfg.KeyPrefix}, scripts: s, defaults: map[string]sessionDefaults{},
		tracer: cfg.TracerProvider.Tracer("github.com/chorus-hpc/chorus/internal/store/valkeystore")}, nil
}

// Open connects a valkey-go client with opt and returns a Store on it (cfg.Client is that client);
// the client is closed again when the Store cannot be made.
func Open(opt valkey.ClientOption, cfg Config) (*Store, error) {
	c, err := valkey.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to Valkey at %s: %w", strings.Join(opt.InitAddress, ","), err)
	}
	cfg.Client = c
	s, err := New(cfg)
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Do(ctx, s.client.B().Ping().Build()).Error(); err != nil {
		return fmt.Errorf("valkeystore: Valkey does not answer PING: %w", err)
	}
	return nil
}

// Close waits for the claims' index updates still running, then closes the client.
func (s *Store) Close() {
	s.tails.close()
	s.client.Close()
}

func (s *Store) nowMS() int64 { return s.cfg.Clock.Now().UnixMilli() }

func (s *Store) now() time.Time { return s.cfg.Clock.Now() }

// run executes a session script with the session's meta key as KEYS[1].
// Calls made within a trace (the context holds a span) get a client span named after the script.
func (s *Store) run(ctx context.Context, l *valkey.Lua, sessionID string, args []string, extraKeys ...string) valkey.ValkeyResult {
	return s.runThen(ctx, l, sessionID, args, extraKeys, nil)[0]
}

// runThen is run followed, in the same round trip, by the commands of then (their results follow the
// script's). On one server they run after the script, in order; on a Cluster they may run on other
// nodes, in any order.
func (s *Store) runThen(ctx context.Context, l *valkey.Lua, sessionID string, args, extraKeys []string, then *pipeline) []valkey.ValkeyResult {
	keys := append([]string{s.keys.meta(sessionID)}, extraKeys...)
	if trace.SpanFromContext(ctx).SpanContext().IsValid() {
		var span trace.Span
		ctx, span = s.tracer.Start(ctx, "valkey "+s.scripts.names[l], trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system.name", "valkey"), attribute.String("db.operation.name", s.scripts.operation(l)),
				attribute.String("chorus.session_id", sessionID)))
		defer span.End()
		res := s.exec(ctx, l, keys, args, then)
		if err := res[0].Error(); err != nil && !valkey.IsValkeyNil(err) {
			span.SetStatus(codes.Error, err.Error())
		}
		return res
	}
	return s.exec(ctx, l, keys, args, then)
}

// exec runs script l, then the commands of then, in one round trip. When l had to run again
// (its script or function was missing on the server), the commands of then ran before it: when they
// are all script calls, they are sent again, after it.
func (s *Store) exec(ctx context.Context, l *valkey.Lua, keys, args []string, then *pipeline) []valkey.ValkeyResult {
	var pl pipeline
	s.scripts.call(&pl, s.client, l, keys, args)
	if then != nil {
		pl.append(then)
	}
	res := s.scripts.do(ctx, s.client, &pl)
	if !pl.rerun[0] || len(res) < 2 {
		return res
	}
	var again pipeline
	for i := 1; i < len(res); i++ {
		sc, ok := pl.calls[i]
		if !ok {
			return res // a plain command cannot be sent again (valkey-go recycles it)
		}
		s.scripts.call(&again, s.client, sc.l, sc.keys, sc.args)
	}
	copy(res[1:], s.scripts.do(ctx, s.client, &again))
	return res
}

// runMulti executes one script for several sessions in one round trip (pipelined).
func (s *Store) runMulti(ctx context.Context, l *valkey.Lua, execs []valkey.LuaExec) []valkey.ValkeyResult {
	if trace.SpanFromContext(ctx).SpanContext().IsValid() {
		var span trace.Span
		ctx, span = s.tracer.Start(ctx, "valkey "+s.scripts.names[l], trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system.name", "valkey"), attribute.String("db.operation.name", s.scripts.operation(l)),
				attribute.Int("chorus.sessions", len(execs))))
		defer span.End()
	}
	return s.scripts.execMulti(ctx, s.client, l, execs)
}

// scriptReply is a script's reply of n values; what says what the call was doing, for errors.
func scriptReply(r valkey.ValkeyResult, n int, what, script string) ([]valkey.ValkeyMessage, error) {
	vals, err := r.ToArray()
	if err != nil {
		return nil, storeErr(what, err)
	}
	if len(vals) != n {
		return nil, storeErr(what, errBadReply(script, len(vals)))
	}
	return vals, nil
}

// values are a script reply's values, read by position; a value of another type reads as "" or 0.
type values []valkey.ValkeyMessage

func (v values) str(i int) string { s, _ := v[i].ToString(); return s }
func (v values) num(i int) int64  { n, _ := v[i].AsInt64(); return n }

// errBadReply reports a script reply of an unexpected shape.
func errBadReply(what string, n int) error {
	return fmt.Errorf("%s answered with an unexpected shape (%d values)", what, n)
}

// retryIndex runs f, an idempotent write of a partition-wide index (the partition's keys live in
// another slot than the session's, so on a Valkey Cluster they may sit on another node), until it
// succeeds, ctx ends, or Config.IndexRetry has passed. The session-side write before it is already
// committed: giving up at the first error would leave the session's ready work unindexed, and no
// agent would find it (a master failing over answers errors for a few seconds). Script errors with
// a code are not retried.
func (s *Store) retryIndex(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(s.cfg.IndexRetry) // wall time: the outage is real even under a test clock
	wait := 50 * time.Millisecond
	for {
		err := f()
		if err == nil || !store.IsUnclear(err) || errors.Is(err, context.Canceled) ||
			errors.Is(err, context.DeadlineExceeded) || !time.Now().Add(wait).Before(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

var scriptCodes = map[string]store.Code{
	"NOT_FOUND":           store.CodeNotFound,
	"ALREADY_EXISTS":      store.CodeAlreadyExists,
	"FAILED_PRECONDITION": store.CodeFailedPrecondition,
	"RESOURCE_EXHAUSTED":  store.CodeResourceExhausted,
	"INVALID_ARGUMENT":    store.CodeInvalidArgument,
	"LEASE_LOST":          store.CodeLeaseLost,
}

// decode returns what read returns. Its error, named by what, goes to *err unless an earlier one is
// there: the replies of one DoMulti are decoded in a row, then *err checked once.
func decode[T any](err *error, read func() (T, error), what string) T {
	v, e := read()
	if e != nil && *err == nil {
		*err = storeErr(what, e)
	}
	return v
}

// storeErr turns a script's error reply "CODE message" into a *store.Error; Valkey refusing the
// store's user (aclRefusal) becomes CodeMisconfigured; other errors (network, server) become
// CodeUnavailable with what was being done.
func storeErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var ve *valkey.ValkeyError
	if errors.As(err, &ve) {
		if se := codedError(ve.Error()); se != nil {
			return se
		}
		if se := aclRefusal(what, ve.Error()); se != nil {
			return se
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &store.Error{Code: store.CodeUnavailable, Message: fmt.Sprintf("%s: Valkey call failed: %v", what, err)}
}

// codedError parses a script's refusal "CODE message" (a code of scriptCodes), or returns nil.
func codedError(msg string) *store.Error {
	if code, rest, ok := strings.Cut(msg, " "); ok {
		if c, ok := scriptCodes[code]; ok {
			return &store.Error{Code: c, Message: rest}
		}
	}
	return nil
}

// aclRefusal recognises Valkey refusing the store's user, or returns nil: a command or key its ACL
// does not allow ("NOPERM User chorus has no permissions to run the 'spop' command"; a script's call
// so refused answers "ERR ACL failure in script: User ... command script: <sha>, on @user_script:12."),
// or credentials Valkey does not accept ("WRONGPASS ...", or "NOAUTH ..." when none were given),
// which a reconnection meets after the user's password changed. Such a call fails the same way until
// an operator changes the ACL or Chorus's settings, so it is CodeMisconfigured, not CodeUnavailable:
// retrying cannot help, and the message says what Valkey refused and where the ACL is documented.
func aclRefusal(what, msg string) *store.Error {
	const aclDoc = `docs/security.md, "Valkey: ACL users and TLS"`
	denied := ""
	switch {
	case strings.HasPrefix(msg, "NOPERM "):
		denied = strings.TrimPrefix(msg, "NOPERM ")
	case strings.Contains(msg, "ACL failure in script: "):
		_, denied, _ = strings.Cut(msg, "ACL failure in script: ")
		denied, _, _ = strings.Cut(denied, " script: ") // the script's sha and line
	case strings.HasPrefix(msg, "WRONGPASS "), strings.HasPrefix(msg, "NOAUTH "):
		return &store.Error{Code: store.CodeMisconfigured, Message: fmt.Sprintf(
			"%s: Valkey did not accept Chorus's credentials (%s): check --valkey-user and --valkey-password "+
				"(or CHORUS_VALKEY_PASSWORD) against the Valkey ACL (%s)", what, msg, aclDoc)}
	default:
		return nil
	}
	return &store.Error{Code: store.CodeMisconfigured, Message: fmt.Sprintf(
		"%s: Valkey's ACL refused Chorus's user (%s): give the user the commands and keys listed in %s",
		what, denied, aclDoc)}
}

func itoa(i int64) string { return fmt.Sprint(i) }

type valkeyCmd = valkey.Completed

// hmgets reads the same fields of several hashes in one round trip: a reply per key, in order.
func (s *Store) hmgets(ctx context.Context, fields []string, keys ...string) []valkey.ValkeyResult {
	cmds := make([]valkeyCmd, len(keys))
	for i, k := range keys {
		cmds[i] = s.client.B().Hmget().Key(k).Field(fields...).Build()
	}
	return s.client.DoMulti(ctx, cmds...)
}

func valkeyNil(err error) bool { return valkey.IsValkeyNil(err) }
