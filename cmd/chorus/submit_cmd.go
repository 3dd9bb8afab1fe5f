package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/gen/chorus/v1"
	"github.com/chorus-hpc/chorus/sdks/go/client"
)

func runSubmit(ctx context.Context, env *cliEnv, args []string) error {
	var cf clientFlags
	fs := newFlags(env, "submit", "")
	cf.register(fs)
	var (
		session     = fs.String("session", "", "session to submit into (required)")
		method      = fs.String("method", "", "method the worker runs, e.g. sha256 (required)")
		payload     = fs.String("payload", "", "payload: text, @file to read a file, or @- for standard input")
		partition   = fs.String("partition", "", "partition (default: the session's)")
		priority    = fs.Int("priority", -1, "priority 0-9 (-1: the session's)")
		retries     = fs.Int("max-retries", -1, "retries (-1: the session's)")
		maxDuration = fs.Duration("max-duration", 0, "longest attempt (0: the session's)")
		count       = fs.Int("count", 1, "submit this many identical tasks")
		wait        = fs.Bool("wait", false, "wait for the tasks and print their outputs")
		deps        stringList
		opts        = keyValues{}
	)
	fs.Var(&deps, "depends", "result ids the task reads (comma-separated or repeated)")
	fs.Var(opts, "option", "free-form option key=value for the worker (repeatable)")
	if err := fs.parse(args); err != nil {
		return err
	}
	switch {
	case *session == "":
		return fmt.Errorf("%w: --session is required (create one with 'chorus session create')", errUsage)
	case *method == "":
		return fmt.Errorf("%w: --method is required", errUsage)
	case *count < 1:
		return fmt.Errorf("%w: --count must be at least 1", errUsage)
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	data, err := readPayload(env, *payload)
	if err != nil {
		return err
	}
	var topts []client.TaskOption
	if len(deps) > 0 {
		topts = append(topts, client.DependsOn(deps...))
	}
	if *partition != "" {
		topts = append(topts, client.Partition(*partition))
	}
	if *priority >= 0 {
		topts = append(topts, client.Priority(int32(*priority)))
	}
	if *retries >= 0 {
		topts = append(topts, client.MaxRetries(int32(*retries)))
	}
	if *maxDuration > 0 {
		topts = append(topts, client.MaxDuration(*maxDuration))
	}
	for k, v := range opts {
		topts = append(topts, client.Option(k, v))
	}
	cl, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	g := client.NewGraph()
	handles := make([]*client.TaskHandle, *count)
	for i := range handles {
		handles[i] = g.Task(*method, data, topts...)
	}
	s := cl.Session(*session)
	start := time.Now()
	submitted, err := s.Submit(ctx, g)
	if err != nil {
		return err
	}
	if !*wait {
		if cf.output == "json" {
			return printJSON(env.stdout, &chorusv1.SubmitTasksResponse{Tasks: submitted})
		}
		tw := table(env.stdout, "TASK", "OUTPUT", "STATUS")
		for i, t := range submitted {
			row(tw, t.GetTaskId(), handles[i].Output(), taskStatus(t.GetStatus()))
		}
		return tw.Flush()
	}
	outputs := make([]string, len(handles))
	for i, h := range handles {
		outputs[i] = h.Output()
	}
	bar := newProgress(env.stderr, "tasks", len(outputs))
	outcomes, err := s.Wait(ctx, outputs, func(client.Outcome) { bar.add(1) })
	bar.finish()
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	failed := 0
	results := make([][]byte, len(outcomes))
	for i, o := range outcomes {
		if o.Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
			failed++
			continue
		}
		if results[i], err = s.DownloadBytes(ctx, o.ResultID); err != nil {
			return err
		}
	}
	if cf.output == "json" {
		for i, o := range outcomes {
			fmt.Fprintf(env.stdout, "{\"taskId\":%q,\"resultId\":%q,\"status\":%q,\"reason\":%q,\"output\":%q}\n",
				handles[i].ID, o.ResultID, resultStatus(o.Status), o.Reason, string(results[i]))
		}
	} else if len(outcomes) == 1 && failed == 0 {
		env.stdout.Write(results[0])
		if len(results[0]) > 0 && results[0][len(results[0])-1] != '\n' && isTerminal(env.stdout) {
			fmt.Fprintln(env.stdout)
		}
	} else {
		tw := table(env.stdout, "TASK", "STATUS", "OUTPUT")
		for i, o := range outcomes {
			out := o.Reason
			if o.Status == chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
				out = preview(results[i])
			}
			row(tw, handles[i].ID, resultStatus(o.Status), out)
		}
		tw.Flush()
		fmt.Fprintf(env.stderr, "%d tasks in %s (%.0f tasks/s), %d failed\n", len(outcomes), elapsed.Round(time.Millisecond), float64(len(outcomes))/elapsed.Seconds(), failed)
	}
	if failed > 0 {
		if len(outcomes) == 1 {
			return fmt.Errorf("task %s failed: %s", handles[0].ID, outcomes[0].Reason)
		}
		return fmt.Errorf("%d of %d tasks failed", failed, len(outcomes))
	}
	return nil
}

// readPayload reads "@file", "@-" (stdin) or returns the text itself.
func readPayload(env *cliEnv, v string) ([]byte, error) {
	switch {
	case v == "@-":
		b, err := io.ReadAll(env.stdin)
		if err != nil {
			return nil, fmt.Errorf("reading the payload from standard input: %w", err)
		}
		return b, nil
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, fmt.Errorf("reading the payload file: %w", err)
		}
		return b, nil
	default:
		return []byte(v), nil
	}
}

// preview shows data as text when it is printable, else its size.
func preview(b []byte) string {
	const max = 60
	for _, c := range b {
		if (c < 32 && c != '\t') || c == 127 {
			return fmt.Sprintf("<%d bytes>", len(b))
		}
	}
	s := string(b)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
