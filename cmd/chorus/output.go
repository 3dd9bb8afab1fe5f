package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// clientFlags are the flags of every command that talks to a gateway.
type clientFlags struct {
	addr    string
	output  string
	timeout time.Duration
	sec     clientSecurity
}

func (c *clientFlags) register(f *flags) {
	f.StringVar(&c.addr, "addr", "127.0.0.1:7070", "gateway gRPC address, or several comma-separated (calls fail over between them)")
	c.sec.register(f)
	f.StringVar(&c.output, "output", "table", "output format: table or json")
	f.DurationVar(&c.timeout, "timeout", 0, "give up after this long (0: no limit)")
}

func (c *clientFlags) check() error {
	if c.output != "table" && c.output != "json" {
		return fmt.Errorf("%w: --output must be table or json, not %q", errUsage, c.output)
	}
	return nil
}

// withSession connects (see connect), runs do with the handle of session id and disconnects.
func (c *clientFlags) withSession(ctx context.Context, id string, do func(context.Context, *client.Session) error) error {
	cl, ctx, done, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer done()
	return do(ctx, cl.Session(id))
}

// connect dials the gateway and checks it answers, so an unreachable gateway is reported at once with
// its address rather than as a timeout later.
func (c *clientFlags) connect(ctx context.Context) (*client.Client, context.Context, context.CancelFunc, error) {
	if err := c.check(); err != nil {
		return nil, nil, nil, err
	}
	cancel := context.CancelFunc(func() {})
	if c.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	opts, err := c.sec.dialOptions()
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	cl, err := client.Dial(ctx, c.addr, opts...)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	if _, err := cl.Partitions(pctx); err != nil {
		cl.Close()
		cancel()
		if code := status.Code(err); code == codes.Unauthenticated || code == codes.PermissionDenied {
			return nil, nil, nil, fmt.Errorf("the gateway at %s refused the credentials (set --token or CHORUS_TOKEN): %v", c.addr, err)
		}
		return nil, nil, nil, fmt.Errorf("cannot reach the gateway at %s (is it running? set --addr or CHORUS_ADDR): %v", c.addr, err)
	}
	return cl, ctx, func() { cl.Close(); cancel() }, nil
}

var jsonOut = protojson.MarshalOptions{EmitUnpopulated: false}

// printJSON writes messages as JSON: one message as an object, several as an array. protojson varies
// its spacing from build to build on purpose; the output is re-indented with encoding/json so it is
// byte-for-byte stable (two-space indent, "key": value).
func printJSON(w io.Writer, msgs ...proto.Message) error {
	var raw []byte
	if len(msgs) == 1 {
		b, err := jsonOut.Marshal(msgs[0])
		if err != nil {
			return err
		}
		raw = b
	} else {
		raw = append(raw, '[')
		for i, m := range msgs {
			b, err := jsonOut.Marshal(m)
			if err != nil {
				return err
			}
			if i > 0 {
				raw = append(raw, ',')
			}
			raw = append(raw, b...)
		}
		raw = append(raw, ']')
	}
	return writeJSON(w, raw)
}

// writeJSON writes a JSON document with a stable layout.
func writeJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("formatting JSON output: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// printList prints a listing: with --output json the list response asJSON, else a table of header
// with the columns cols gives for each item.
func printList[T any](env *cliEnv, cf *clientFlags, asJSON proto.Message, items []T, header []string, cols func(T) []any) error {
	if cf.output == "json" {
		return printJSON(env.stdout, asJSON)
	}
	tw := table(env.stdout, header...)
	for _, it := range items {
		row(tw, cols(it)...)
	}
	return tw.Flush()
}

func table(w io.Writer, header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	return tw
}

func row(tw *tabwriter.Writer, cols ...any) {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(tw, strings.Join(s, "\t"))
}

// shortEnum turns SESSION_STATUS_RUNNING into running.
func shortEnum(s fmt.Stringer, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), prefix))
}

func sessionStatus(s chorusv1.SessionStatus) string { return shortEnum(s, "SESSION_STATUS_") }
func taskStatus(s chorusv1.TaskStatus) string       { return shortEnum(s, "TASK_STATUS_") }
func resultStatus(s chorusv1.ResultStatus) string   { return shortEnum(s, "RESULT_STATUS_") }

func when(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().Local().Format("2006-01-02 15:04:05")
}

// isTerminal reports whether w is a terminal (progress bars are drawn only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress shows how a batch of tasks is doing on one line of a terminal, redrawn on a timer (not
// only when a task ends): a bar, the counts by status, the rate and the ETA. It draws nothing when
// the output is not a terminal, unless forced (--progress always).
type progress struct {
	w      io.Writer
	label  string
	active bool
	every  time.Duration
	// counts, when set, reads the session's task counts (queued, running...) every second.
	counts func(context.Context) (*chorusv1.TaskCounts, error)

	mu           sync.Mutex
	total        int
	done, failed int
	start        time.Time
	session      *chorusv1.TaskCounts
	stop         chan struct{}
	stopped      chan struct{}
}

func newProgress(w io.Writer, label string, total int) *progress {
	return &progress{w: w, label: label, total: total, start: time.Now(), active: isTerminal(w), every: 200 * time.Millisecond}
}

// run draws at once, then every p.every until finish; it returns at once when p is not active.
func (p *progress) run(ctx context.Context) {
	if !p.active || p.stop != nil {
		return
	}
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	p.draw()
	go func() {
		defer close(p.stopped)
		tick := time.NewTicker(p.every)
		defer tick.Stop()
		var lastCounts time.Time
		for {
			select {
			case <-p.stop:
				return
			case <-ctx.Done():
				return
			case now := <-tick.C:
				if p.counts != nil && now.Sub(lastCounts) >= time.Second {
					lastCounts = now
					cctx, cancel := context.WithTimeout(ctx, time.Second)
					if c, err := p.counts(cctx); err == nil {
						p.mu.Lock()
						p.session = c
						p.mu.Unlock()
					}
					cancel()
				}
				p.draw()
			}
		}
	}()
}

// setTotal changes the number of tasks to wait for.
func (p *progress) setTotal(n int) {
	p.mu.Lock()
	p.total = n
	p.mu.Unlock()
}

// set records done of total tasks ended.
func (p *progress) set(done, total int) {
	p.mu.Lock()
	p.done, p.total = done, total
	p.mu.Unlock()
}

// add records n more tasks ended, of which failed did not complete.
func (p *progress) add(n, failed int) {
	p.mu.Lock()
	p.done += n
	p.failed += failed
	p.mu.Unlock()
}

func (p *progress) draw() {
	p.mu.Lock()
	line := p.line(time.Now())
	p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
}

// line renders the progress at now (p.mu held).
func (p *progress) line(now time.Time) string {
	elapsed := now.Sub(p.start)
	rate := float64(p.done) / max(elapsed.Seconds(), 1e-9)
	eta := "-"
	switch {
	case p.total > 0 && p.done >= p.total:
		eta = "0s"
	case p.done > 0:
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	const width = 24
	filled := 0
	if p.total > 0 {
		filled = min(width, width*p.done/p.total)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s%s] %d/%d", p.label, strings.Repeat("█", filled), strings.Repeat("░", width-filled), p.done, p.total)
	if c := p.session; c != nil {
		fmt.Fprintf(&b, "  pending %d  queued %d  running %d", c.GetPending(), c.GetQueued(), c.GetDispatched()+c.GetRunning())
	}
	fmt.Fprintf(&b, "  completed %d  failed %d  %.1f/s  ETA %s  (%s)", p.done-p.failed, p.failed, rate, eta, elapsed.Round(time.Second))
	return b.String()
}

// finish stops the timer and leaves the last state on its line.
func (p *progress) finish() {
	if !p.active {
		return
	}
	if p.stop != nil {
		close(p.stop)
		<-p.stopped
		p.stop = nil
	}
	p.draw()
	fmt.Fprintln(p.w)
}
