package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
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
	f.StringVar(&c.addr, "addr", "127.0.0.1:7070", "gateway gRPC address")
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

var jsonOut = protojson.MarshalOptions{Multiline: true, Indent: "  ", EmitUnpopulated: false}

// printJSON writes messages as JSON: one message as an object, several as an array.
func printJSON(w io.Writer, msgs ...proto.Message) error {
	if len(msgs) == 1 {
		b, err := jsonOut.Marshal(msgs[0])
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	fmt.Fprintln(w, "[")
	for i, m := range msgs {
		b, err := jsonOut.Marshal(m)
		if err != nil {
			return err
		}
		sep := ","
		if i == len(msgs)-1 {
			sep = ""
		}
		fmt.Fprintf(w, "%s%s\n", indent(string(b)), sep)
	}
	_, err := fmt.Fprintln(w, "]")
	return err
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

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

// progress draws a progress bar with rate and ETA on a terminal, and nothing elsewhere.
type progress struct {
	w      io.Writer
	total  int
	done   int
	start  time.Time
	last   time.Time
	active bool
	label  string
}

func newProgress(w io.Writer, label string, total int) *progress {
	return &progress{w: w, total: total, start: time.Now(), active: isTerminal(w), label: label}
}

func (p *progress) add(n int) {
	p.done += n
	if !p.active || (time.Since(p.last) < 100*time.Millisecond && p.done < p.total) {
		return
	}
	p.last = time.Now()
	elapsed := time.Since(p.start).Seconds()
	rate := float64(p.done) / max(elapsed, 1e-9)
	eta := "-"
	if rate > 0 && p.done < p.total {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = width * p.done / p.total
	}
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d  %.0f/s  ETA %s   ", p.label, strings.Repeat("█", filled), strings.Repeat("░", width-filled), p.done, p.total, rate, eta)
}

func (p *progress) finish() {
	if p.active {
		p.last = time.Time{}
		p.add(0)
		fmt.Fprintln(p.w)
	}
}
