// Package demo is the job `make demo` runs: Monte-Carlo pricing of a European call option as a graph of
// thousands of Python pricing tasks (method mc_price), reduced by a tree of Go tasks (mc_reduce), with
// the answer checked against the Black–Scholes closed form.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/chorus-hpc/chorus/sdks/go/client"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// Config sizes the job.
type Config struct {
	// Tasks is the number of pricing tasks (default 2000).
	Tasks int
	// PathsPerTask is the number of simulated paths per pricing task (default 5000).
	PathsPerTask int
	// FanIn is how many partial results one reducer merges (default 50).
	FanIn int
	// PricePartition and ReducePartition run the two kinds of task (default "python" and "go").
	PricePartition, ReducePartition string
	// Progress receives a progress bar (nil: none).
	Progress func(done, total int)
}

// Option is the priced contract and its market.
type Option struct {
	S0    float64 `json:"s0"`
	K     float64 `json:"k"`
	R     float64 `json:"r"`
	Sigma float64 `json:"sigma"`
	T     float64 `json:"t"`
}

// The contract the demo prices.
var contract = Option{S0: 100, K: 105, R: 0.05, Sigma: 0.2, T: 1}

// pricePayload is the payload of one mc_price task.
type pricePayload struct {
	Option
	Paths int   `json:"paths"`
	Seed  int64 `json:"seed"`
}

// Partial is the output of mc_price and mc_reduce: sums over simulated discounted payoffs.
type Partial struct {
	N     int64   `json:"n"`
	Sum   float64 `json:"sum"`
	SumSq float64 `json:"sumsq"`
}

// Summary is what the demo reports.
type Summary struct {
	Session      string
	Tasks        int
	Wall         time.Duration
	TasksPerSec  float64
	P50, P99     time.Duration // task latency: submission to end
	Price        float64
	StdErr       float64
	BlackScholes float64
	Paths        int64
}

// BlackScholesCall is the closed-form price of a European call.
func BlackScholesCall(o Option) float64 {
	d1 := (math.Log(o.S0/o.K) + (o.R+o.Sigma*o.Sigma/2)*o.T) / (o.Sigma * math.Sqrt(o.T))
	d2 := d1 - o.Sigma*math.Sqrt(o.T)
	n := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	return o.S0*n(d1) - o.K*math.Exp(-o.R*o.T)*n(d2)
}

func (c *Config) defaults() {
	if c.Tasks <= 0 {
		c.Tasks = 2000
	}
	if c.PathsPerTask <= 0 {
		c.PathsPerTask = 5000
	}
	if c.FanIn <= 1 {
		c.FanIn = 50
	}
	if c.PricePartition == "" {
		c.PricePartition = "python"
	}
	if c.ReducePartition == "" {
		c.ReducePartition = "go"
	}
}

// Build returns the job's graph and the final output id.
func Build(cfg Config) (*client.Graph, string, error) {
	cfg.defaults()
	g := client.NewGraph()
	level := make([]string, 0, cfg.Tasks)
	for i := 0; i < cfg.Tasks; i++ {
		p, err := json.Marshal(pricePayload{Option: contract, Paths: cfg.PathsPerTask, Seed: int64(i) + 1})
		if err != nil {
			return nil, "", err
		}
		level = append(level, g.Task("mc_price", p, client.Partition(cfg.PricePartition), client.MaxRetries(3)).Output())
	}
	for len(level) > 1 {
		var next []string
		for i := 0; i < len(level); i += cfg.FanIn {
			deps := level[i:min(i+cfg.FanIn, len(level))]
			next = append(next, g.Task("mc_reduce", nil, client.DependsOn(deps...), client.Partition(cfg.ReducePartition)).Output())
		}
		level = next
	}
	return g, level[0], nil
}

// Run creates a session, submits the graph, waits for every task with a progress bar, checks the
// price against Black–Scholes and prints a summary to out. It fails when a task fails or the price is
// more than 5 standard errors away from the closed form.
func Run(ctx context.Context, cl *client.Client, cfg Config, out io.Writer) (*Summary, error) {
	cfg.defaults()
	g, final, err := Build(cfg)
	if err != nil {
		return nil, err
	}
	sess, err := cl.CreateSession(ctx, client.SessionOptions{Partition: cfg.PricePartition, Labels: map[string]string{"job": "demo-montecarlo"}})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "session %s: pricing a European call (S0=%g K=%g r=%g σ=%g T=%g) with %d Python tasks × %d paths, reduced by Go tasks\n",
		sess.ID, contract.S0, contract.K, contract.R, contract.Sigma, contract.T, cfg.Tasks, cfg.PathsPerTask)
	start := time.Now()
	submitted, err := sess.Submit(ctx, g)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(submitted))
	for _, t := range submitted {
		ids = append(ids, t.GetExpectedOutputIds()...)
	}
	done := 0
	outcomes, err := sess.Wait(ctx, ids, func(client.Outcome) {
		done++
		if cfg.Progress != nil {
			cfg.Progress(done, len(ids))
		}
	})
	if err != nil {
		return nil, err
	}
	wall := time.Since(start)
	for _, o := range outcomes {
		if o.Status != chorusv1.ResultStatus_RESULT_STATUS_COMPLETED {
			return nil, fmt.Errorf("demo: result %s %s: %s", o.ResultID, o.Status, o.Reason)
		}
	}
	data, err := sess.DownloadBytes(ctx, final)
	if err != nil {
		return nil, err
	}
	var p Partial
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("demo: final result is not a partial sum: %w (%q)", err, data)
	}
	if p.N != int64(cfg.Tasks)*int64(cfg.PathsPerTask) {
		return nil, fmt.Errorf("demo: the reduction counted %d paths, want %d", p.N, int64(cfg.Tasks)*int64(cfg.PathsPerTask))
	}
	s := &Summary{Session: sess.ID, Tasks: len(submitted), Wall: wall, TasksPerSec: float64(len(submitted)) / wall.Seconds(),
		Paths: p.N, BlackScholes: BlackScholesCall(contract)}
	s.Price = p.Sum / float64(p.N)
	variance := p.SumSq/float64(p.N) - s.Price*s.Price
	s.StdErr = math.Sqrt(math.Max(variance, 0) / float64(p.N))
	tasks, err := sess.Tasks(ctx, chorusv1.TaskStatus_TASK_STATUS_COMPLETED)
	if err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, len(tasks))
	for _, t := range tasks {
		if t.GetCreateTime() != nil && t.GetEndTime() != nil {
			lat = append(lat, t.GetEndTime().AsTime().Sub(t.GetCreateTime().AsTime()))
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		s.P50, s.P99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	fmt.Fprintf(out, "\n%d tasks in %s: %.0f tasks/s; task latency (submitted → done) p50 %s, p99 %s\n",
		s.Tasks, s.Wall.Round(time.Millisecond), s.TasksPerSec, s.P50.Round(time.Millisecond), s.P99.Round(time.Millisecond))
	fmt.Fprintf(out, "price %.4f ± %.4f (%d paths); Black–Scholes %.4f; difference %.2f standard errors\n",
		s.Price, s.StdErr, s.Paths, s.BlackScholes, math.Abs(s.Price-s.BlackScholes)/s.StdErr)
	if math.Abs(s.Price-s.BlackScholes) > 5*s.StdErr+1e-9 {
		return s, fmt.Errorf("demo: the Monte-Carlo price %.4f is more than 5 standard errors from Black–Scholes %.4f", s.Price, s.BlackScholes)
	}
	return s, nil
}

// Reduce merges partial sums (what mc_reduce computes).
func Reduce(parts ...Partial) Partial {
	var r Partial
	for _, p := range parts {
		r.N += p.N
		r.Sum += p.Sum
		r.SumSq += p.SumSq
	}
	return r
}
