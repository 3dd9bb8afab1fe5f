package main

import (
	"context"
	"encoding/json"
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
	graph, progress                     *string
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
	f.graph = fs.String("graph", "", "submit the tasks of a graph file, YAML or JSON: inputs (name: text or {file: path}) and tasks (name, method, payload, depends: [names], outputs: [names]); the CLI makes the ids")
	f.progress = fs.String("progress", "auto", "progress line on standard error while --wait waits: auto (on a terminal), always, never")
	f.opts = keyValues{}
	fs.Var(&f.deps, "depends", "result ids the task reads (comma-separated or repeated)")
	fs.Var(f.opts, "option", "free-form option key=value for the worker (repeatable)")
}

// check reports a missing or wrong flag.
func (f *submitFlags) check(fs *flags) error {
	switch {
	case *f.session == "":
		return fmt.Errorf("%w: --session is required (create one with 'chorus session create')", errUsage)
	case *f.graph != "" && (*f.method != "" || *f.payload != "" || *f.count != 1 || len(f.deps) > 0):
		return fmt.Errorf("%w: --graph takes the tasks from its file: drop --method, --payload, --count and --depends", errUsage)
	case *f.method == "" && *f.graph == "":
		return fmt.Errorf("%w: --method is required (or --graph FILE)", errUsage)
	case *f.count < 1:
		return fmt.Errorf("%w: --count must be at least 1", errUsage)
	case *f.progress != "auto" && *f.progress != "always" && *f.progress != "never":
		return fmt.Errorf("%w: --progress must be auto, always or never, not %q", errUsage, *f.progress)
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
	topts := sf.taskOptions()
	var (
		g       *client.Graph
		handles []*client.TaskHandle
		names   []string // graph files name their tasks
	)
	if *sf.graph != "" {
		// --partition, --priority, --option... apply to every task; the file's own settings win.
		bg, err := loadGraph(*sf.graph, topts...)
		if err != nil {
			return err
		}
		g = bg.graph
		for _, t := range bg.tasks {
			handles = append(handles, t.handle)
			names = append(names, t.name)
		}
	} else {
		data, err := readPayload(env, *sf.payload)
		if err != nil {
			return err
		}
		g = client.NewGraph()
		handles = make([]*client.TaskHandle, *sf.count)
		for i := range handles {
			handles[i] = g.Task(*sf.method, data, topts...)
		}
	}
	cl, ctx, done, err := cf.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	s := cl.Session(*sf.session)
	start := time.Now()
	submitted, err := s.Submit(ctx, g)
	if err != nil {
		return err
	}
	if !*sf.wait {
		return printSubmitted(env, &cf, submitted, handles, names)
	}
	return waitAndPrint(ctx, env, &cf, s, handles, names, *sf.progress, start)
}

// printSubmitted prints the submitted tasks and their outputs' result ids.
// Tasks of a graph file are shown with their names.
func printSubmitted(env *cliEnv, cf *clientFlags, submitted []*chorusv1.SubmittedTask, handles []*client.TaskHandle, names []string) error {
	if cf.output == "json" {
		if names == nil {
			return printJSON(env.stdout, &chorusv1.SubmitTasksResponse{Tasks: submitted})
		}
		type named struct {
			Name    string   `json:"name"`
			TaskID  string   `json:"taskId"`
			Outputs []string `json:"outputs"`
		}
		list := make([]named, len(handles))
		for i, h := range handles {
			list[i] = named{names[i], h.ID, h.Outputs()}
		}
		raw, err := json.Marshal(map[string]any{"tasks": list})
		if err != nil {
			return err
		}
		return writeJSON(env.stdout, raw)
	}
	if names != nil {
		tw := table(env.stdout, "NAME", "TASK", "OUTPUT", "STATUS")
		for i, t := range submitted {
			row(tw, names[i], t.GetTaskId(), handles[i].Output(), taskStatus(t.GetStatus()))
		}
		return tw.Flush()
	}
	tw := table(env.stdout, "TASK", "OUTPUT", "STATUS")
	for i, t := range submitted {
		row(tw, t.GetTaskId(), handles[i].Output(), taskStatus(t.GetStatus()))
	}
	return tw.Flush()
}

// waitAndPrint waits for the tasks' outputs with a progress bar, downloads the completed ones and
// prints them: the data itself for one task, else a table and a summary line (JSON lines with -o json).
// The progress line (mode auto, always or never) is redrawn on a timer with the session's counts.
func waitAndPrint(ctx context.Context, env *cliEnv, cf *clientFlags, s *client.Session, handles []*client.TaskHandle, names []string, mode string, start time.Time) error {
	outputs := make([]string, len(handles))
	for i, h := range handles {
		outputs[i] = h.Output()
	}
	bar := newProgress(env.stderr, "tasks", len(outputs))
	switch mode {
	case "always":
		bar.active = true
	case "never":
		bar.active = false
	}
	bar.counts = func(ctx context.Context) (*chorusv1.TaskCounts, error) {
		info, err := s.Get(ctx)
		return info.GetTaskCounts(), err
	}
	bar.run(ctx)
	outcomes, err := s.Wait(ctx, outputs, func(o client.Outcome) {
		if o.Status == chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
			bar.add(1, 0)
		} else {
			bar.add(1, 1)
		}
	})
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
	label := func(i int) string {
		if names != nil {
			return names[i]
		}
		return handles[i].ID
	}
	switch {
	case cf.output == "json":
		type line struct {
			Name     string `json:"name,omitempty"`
			TaskID   string `json:"taskId"`
			ResultID string `json:"resultId"`
			Status   string `json:"status"`
			Reason   string `json:"reason,omitempty"`
			Output   string `json:"output"`
		}
		enc := json.NewEncoder(env.stdout)
		for i, o := range outcomes {
			l := line{TaskID: handles[i].ID, ResultID: o.ResultID, Status: resultStatus(o.Status), Reason: o.Reason, Output: string(results[i])}
			if names != nil {
				l.Name = names[i]
			}
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
	case len(outcomes) == 1 && failed == 0:
		env.stdout.Write(results[0])
		if len(results[0]) > 0 && results[0][len(results[0])-1] != '\n' && isTerminal(env.stdout) {
			fmt.Fprintln(env.stdout)
		}
	default:
		first := "TASK"
		if names != nil {
			first = "NAME"
		}
		tw := table(env.stdout, first, "STATUS", "OUTPUT")
		for i, o := range outcomes {
			out := o.Reason
			if o.Status == chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
				out = preview(results[i])
			}
			row(tw, label(i), resultStatus(o.Status), out)
		}
		tw.Flush()
		fmt.Fprintf(env.stderr, "%d tasks in %s (%.0f tasks/s), %d failed\n", len(outcomes), elapsed.Round(time.Millisecond), float64(len(outcomes))/elapsed.Seconds(), failed)
	}
	if failed > 0 {
		if len(outcomes) == 1 {
			return fmt.Errorf("task %s failed: %s", label(0), outcomes[0].Reason)
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
