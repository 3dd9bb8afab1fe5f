package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// submitFlags are `chorus submit`'s flags.
type submitFlags struct {
	session, method, payload, partition *string
	priority, retries, count            *int
	maxDuration                         *time.Duration
	wait                                *bool
	deps                                stringList
	opts                                keyValues
}

func (f *submitFlags) register(fs *flags) {
	f.session = fs.String("session", "", "session to submit into (required)")
	f.method = fs.String("method", "", "method the worker runs, e.g. sha256 (required)")
	f.payload = fs.String("payload", "", "payload: text, @file to read a file, or @- for standard input")
	f.partition = fs.String("partition", "", "partition (default: the session's)")
	f.priority = fs.Int("priority", -1, "priority 0-9 (-1: the session's)")
	f.retries = fs.Int("max-retries", -1, "retries (-1: the session's)")
	f.maxDuration = fs.Duration("max-duration", 0, "longest attempt (0: the session's)")
	f.count = fs.Int("count", 1, "submit this many identical tasks")
	f.wait = fs.Bool("wait", false, "wait for the tasks and print their outputs")
	f.opts = keyValues{}
	fs.Var(&f.deps, "depends", "result ids the task reads (comma-separated or repeated)")
	fs.Var(f.opts, "option", "free-form option key=value for the worker (repeatable)")
}

// check reports a missing or wrong flag.
func (f *submitFlags) check(fs *flags) error {
	switch {
	case *f.session == "":
		return fmt.Errorf("%w: --session is required (create one with 'chorus session create')", errUsage)
	case *f.method == "":
		return fmt.Errorf("%w: --method is required", errUsage)
	case *f.count < 1:
		return fmt.Errorf("%w: --count must be at least 1", errUsage)
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	return nil
}

// taskOptions are the options the flags set (an unset flag leaves the session's default).
func (f *submitFlags) taskOptions() []client.TaskOption {
	var topts []client.TaskOption
	if len(f.deps) > 0 {
		topts = append(topts, client.DependsOn(f.deps...))
	}
	if *f.partition != "" {
		topts = append(topts, client.Partition(*f.partition))
	}
	if *f.priority >= 0 {
		topts = append(topts, client.Priority(int32(*f.priority)))
	}
	if *f.retries >= 0 {
		topts = append(topts, client.MaxRetries(int32(*f.retries)))
	}
	if *f.maxDuration > 0 {
		topts = append(topts, client.MaxDuration(*f.maxDuration))
	}
	for k, v := range f.opts {
		topts = append(topts, client.Option(k, v))
	}
	return topts
}

func runSubmit(ctx context.Context, env *cliEnv, args []string) error {
	var (
		cf clientFlags
		sf submitFlags
	)
	fs := newFlags(env, "submit", "")
	cf.register(fs)
	sf.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := sf.check(fs); err != nil {
		return err
	}
	data, err := readPayload(env, *sf.payload)
	if err != nil {
		return err
	}
	topts := sf.taskOptions()
	cl, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	g := client.NewGraph()
	handles := make([]*client.TaskHandle, *sf.count)
	for i := range handles {
		handles[i] = g.Task(*sf.method, data, topts...)
	}
	s := cl.Session(*sf.session)
	start := time.Now()
	submitted, err := s.Submit(ctx, g)
	if err != nil {
		return err
	}
	if !*sf.wait {
		return printSubmitted(env, &cf, submitted, handles)
	}
	return waitAndPrint(ctx, env, &cf, s, handles, start)
}

// printSubmitted prints the submitted tasks and their outputs' result ids.
func printSubmitted(env *cliEnv, cf *clientFlags, submitted []*chorusv1.SubmittedTask, handles []*client.TaskHandle) error {
	if cf.output == "json" {
		return printJSON(env.stdout, &chorusv1.SubmitTasksResponse{Tasks: submitted})
	}
	tw := table(env.stdout, "TASK", "OUTPUT", "STATUS")
	for i, t := range submitted {
		row(tw, t.GetTaskId(), handles[i].Output(), taskStatus(t.GetStatus()))
	}
	return tw.Flush()
}

// waitAndPrint waits for the tasks' outputs with a progress bar, downloads the completed ones and
// prints them: the data itself for one task, else a table and a summary line (JSON lines with -o json).
func waitAndPrint(ctx context.Context, env *cliEnv, cf *clientFlags, s *client.Session, handles []*client.TaskHandle, start time.Time) error {
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
	switch {
	case cf.output == "json":
		for i, o := range outcomes {
			fmt.Fprintf(env.stdout, "{\"taskId\":%q,\"resultId\":%q,\"status\":%q,\"reason\":%q,\"output\":%q}\n",
				handles[i].ID, o.ResultID, resultStatus(o.Status), o.Reason, string(results[i]))
		}
	case len(outcomes) == 1 && failed == 0:
		env.stdout.Write(results[0])
		if len(results[0]) > 0 && results[0][len(results[0])-1] != '\n' && isTerminal(env.stdout) {
			fmt.Fprintln(env.stdout)
		}
	default:
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
