package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

const sessionUsage = `create|get|list|pause|resume|close|cancel|purge [session-id]`

func runSession(ctx context.Context, env *cliEnv, args []string) error {
	c, err := subcommand(env, "session", sessionUsage, "", args, "create", "get", "list", "pause", "resume", "close", "cancel", "purge")
	if c == nil {
		return err
	}
	switch c.verb {
	case "create":
		return sessionCreate(ctx, env, &c.cf, c.fs, c.args)
	case "list":
		return sessionList(ctx, env, &c.cf, c.fs, c.args)
	case "get", "pause", "resume", "close", "cancel", "purge":
		return sessionAct(ctx, env, &c.cf, c.fs, c.verb, c.args)
	default:
		return fmt.Errorf("%w: unknown session subcommand %q (want %s)", errUsage, c.verb, sessionUsage)
	}
}

// sessionCreate is `chorus session create`: a session with the given task defaults, then shown.
func sessionCreate(ctx context.Context, env *cliEnv, cf *clientFlags, fs *flags, args []string) error {
	var (
		partition   = fs.String("partition", "", "default partition of the session's tasks")
		priority    = fs.Int("priority", -1, "default task priority 0-9 (-1: server default)")
		retries     = fs.Int("max-retries", -1, "default retries per task (-1: server default)")
		maxDuration = fs.Duration("max-duration", 0, "default longest attempt (0: no limit)")
		weight      = fs.Int("weight", 1, "fair-share weight against other sessions, 1-100")
		labels      = keyValues{}
	)
	fs.Var(labels, "label", "label key=value (repeatable)")
	if err := fs.parse(args); err != nil {
		return err
	}
	cl, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := checkPartition(ctx, cl, *partition); err != nil {
		return err
	}
	o := client.SessionOptions{Partition: *partition, MaxDuration: *maxDuration, Weight: int32(*weight), Labels: labels}
	if *priority >= 0 {
		p := int32(*priority)
		o.Priority = &p
	}
	if *retries >= 0 {
		r := int32(*retries)
		o.MaxRetries = &r
	}
	s, err := cl.CreateSession(ctx, o)
	if err != nil {
		return err
	}
	return showSession(ctx, env, cf, s)
}

// sessionList is `chorus session list`: a table (or JSON) of the sessions, optionally of one status.
func sessionList(ctx context.Context, env *cliEnv, cf *clientFlags, fs *flags, args []string) error {
	status := fs.String("status", "", "only sessions in this status: running, paused, closed, cancelled, purged")
	if err := fs.parse(args); err != nil {
		return err
	}
	st, err := parseEnum(*status, "SESSION_STATUS_", chorusv1.SessionStatus_value)
	if err != nil {
		return err
	}
	cl, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	list, err := cl.ListSessions(ctx, chorusv1.SessionStatus(st))
	if err != nil {
		return err
	}
	return printList(env, cf, &chorusv1.ListSessionsResponse{Sessions: list}, list, []string{"SESSION", "STATUS", "PARTITION", "WEIGHT", "CREATED"},
		func(s *chorusv1.Session) []any {
			return []any{s.GetSessionId(), sessionStatus(s.GetStatus()), orDash(s.GetDefaultTaskOptions().GetPartition()), s.GetWeight(), when(s.GetCreateTime())}
		})
}

// sessionAct is `chorus session get|pause|resume|close|cancel|purge ID`: the verb's call (none for
// get), then the session as it is afterwards.
func sessionAct(ctx context.Context, env *cliEnv, cf *clientFlags, fs *flags, verb string, args []string) error {
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: chorus session %s takes one session id", errUsage, verb)
	}
	cl, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	s := cl.Session(fs.Arg(0))
	act := map[string]func(context.Context) (*chorusv1.Session, error){
		"pause": s.Pause, "resume": s.Resume, "close": s.Close, "cancel": s.Cancel, "purge": s.Purge,
	}[verb]
	if act != nil {
		if _, err := act(ctx); err != nil {
			return err
		}
	}
	return showSession(ctx, env, cf, s)
}

func showSession(ctx context.Context, env *cliEnv, cf *clientFlags, s *client.Session) error {
	sess, err := s.Get(ctx)
	if err != nil {
		return err
	}
	if cf.output == "json" {
		return printJSON(env.stdout, sess)
	}
	c := sess.GetTaskCounts()
	tw := table(env.stdout, "SESSION", "STATUS", "PARTITION", "PENDING", "QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")
	row(tw, sess.GetSessionId(), sessionStatus(sess.GetStatus()), orDash(sess.GetDefaultTaskOptions().GetPartition()),
		c.GetPending(), c.GetQueued(), c.GetDispatched()+c.GetRunning(), c.GetCompleted(), c.GetFailed(), c.GetCancelled())
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// parseEnum accepts "running", "RUNNING" or "SESSION_STATUS_RUNNING"; "" is 0 (any).
func parseEnum(v, prefix string, values map[string]int32) (int32, error) {
	if v == "" {
		return 0, nil
	}
	name := strings.ToUpper(v)
	if !strings.HasPrefix(name, prefix) {
		name = prefix + name
	}
	n, ok := values[name]
	if !ok || n == 0 {
		var names []string
		for k, x := range values {
			if x != 0 {
				names = append(names, strings.ToLower(strings.TrimPrefix(k, prefix)))
			}
		}
		return 0, fmt.Errorf("%w: unknown value %q (want one of %s)", errUsage, v, strings.Join(names, ", "))
	}
	return n, nil
}

// checkPartition fails when the gateway knows no partition named p (declared in its configuration or
// served by a live agent), listing those it knows; "" (no default partition) passes.
func checkPartition(ctx context.Context, cl *client.Client, p string) error {
	if p == "" {
		return nil
	}
	parts, err := cl.Partitions(ctx)
	if err != nil {
		return err
	}
	known := make([]string, 0, len(parts))
	for _, part := range parts {
		if part.GetPartitionId() == p {
			return nil
		}
		known = append(known, part.GetPartitionId())
	}
	sort.Strings(known)
	if len(known) == 0 {
		return fmt.Errorf("partition %q is unknown: the gateway declares no partition and no agent is running", p)
	}
	return fmt.Errorf("partition %q is unknown; known partitions: %s", p, strings.Join(known, ", "))
}
