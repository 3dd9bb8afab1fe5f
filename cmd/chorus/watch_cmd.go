package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

func runWatch(ctx context.Context, env *cliEnv, args []string) error {
	var cf clientFlags
	fs := newFlags(env, "watch", "")
	cf.register(fs)
	session := fs.requiredString("session", "session to watch (required)", "")
	cursor := fs.String("cursor", "", "resume after this cursor (empty: from the first event; $: from now)")
	var kinds stringList
	fs.Var(&kinds, "kinds", "only these kinds: task_status, result_status, session_status, task_progress")
	if err := fs.parse(args); err != nil {
		return err
	}
	var ks []chorusv1.EventKind
	for _, k := range kinds {
		n, err := parseEnum(k, "EVENT_KIND_", chorusv1.EventKind_value)
		if err != nil {
			return err
		}
		ks = append(ks, chorusv1.EventKind(n))
	}
	cl, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	w, err := cl.Session(*session).Watch(ctx, *cursor, ks...)
	if err != nil {
		return err
	}
	defer w.Close()
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			// --timeout or Ctrl-C ends the watch; gRPC may report its deadline a moment before ctx does.
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
				status.Code(err) == codes.DeadlineExceeded || status.Code(err) == codes.Canceled {
				return nil
			}
			return err
		}
		if cf.output == "json" {
			b, _ := protojson.Marshal(ev)
			fmt.Fprintln(env.stdout, string(b))
			continue
		}
		fmt.Fprintln(env.stdout, describeEvent(ev))
	}
}

func describeEvent(ev *chorusv1.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s ", ev.GetTime().AsTime().Local().Format("15:04:05.000"), ev.GetCursor())
	switch {
	case ev.GetTaskStatus() != nil:
		e := ev.GetTaskStatus()
		fmt.Fprintf(&b, "task %s %s", e.GetTaskId(), taskStatus(e.GetStatus()))
		if e.GetAttempt() > 0 {
			fmt.Fprintf(&b, " (attempt %d)", e.GetAttempt())
		}
		if m := e.GetError().GetMessage(); m != "" {
			fmt.Fprintf(&b, ": %s", m)
		}
	case ev.GetResultStatus() != nil:
		e := ev.GetResultStatus()
		fmt.Fprintf(&b, "result %s %s", e.GetResultId(), resultStatus(e.GetStatus()))
		if e.GetStatus() == chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
			fmt.Fprintf(&b, " (%d bytes)", e.GetSizeBytes())
		}
		if r := e.GetAbortReason(); r != "" {
			fmt.Fprintf(&b, ": %s", r)
		}
	case ev.GetSessionStatus() != nil:
		fmt.Fprintf(&b, "session %s", sessionStatus(ev.GetSessionStatus().GetStatus()))
	case ev.GetTaskProgress() != nil:
		e := ev.GetTaskProgress()
		fmt.Fprintf(&b, "task %s progress %.0f%% %s", e.GetTaskId(), e.GetFraction()*100, e.GetMessage())
	}
	return b.String()
}
