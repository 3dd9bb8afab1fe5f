package agent

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"gopkg.in/yaml.v3"

	"github.com/chorus-hpc/chorus/internal/clock"
	"github.com/chorus-hpc/chorus/internal/store"
	"github.com/chorus-hpc/chorus/internal/validate"
)

// Transports between the agent and its worker processes.
const (
	// TransportGRPC: the worker dials the agent's Unix socket and opens the WorkerService stream.
	TransportGRPC = "grpc"
	// TransportStdio: the same messages as one proto3-JSON object per line, worker→agent on the
	// worker's stdout, agent→worker on its stdin; stderr is the worker's log.
	TransportStdio = "stdio"
)

// Config configures an Agent. Zero fields take the documented defaults.
type Config struct {
	// AgentID names the agent in leases and heartbeats. An agent with the same id across restarts
	// hands back its previous run's leases when it starts, so a crash costs no lease TTL: two live
	// agents must never share an id. Default: "<hostname>-<hash of runtime_dir>" when RuntimeDir is
	// set (the folder is locked, so no two live agents share it), else "<hostname>-<pid>-<random>".
	AgentID string `yaml:"agent_id"`
	// Hostname is reported in heartbeats. Default: os.Hostname().
	Hostname string `yaml:"hostname"`
	// RuntimeDir holds the agent's Unix socket and the private folder of each worker process. Its
	// path must be short (a Unix socket path is at most 107 bytes). Default: a new folder under the
	// system temp folder, removed when Run returns.
	RuntimeDir string `yaml:"runtime_dir"`
	// Partitions the agent serves, each with its workers. At least one.
	Partitions []PartitionConfig `yaml:"partitions"`
	// LeaseTTL is how long a lease lasts unless renewed; a task held by a dead agent runs again
	// after it. Default 30s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// RenewInterval is how often leases are renewed (one batch per round). A renewal also tells the
	// agent which of its tasks were cancelled, so this bounds how long a cancel takes to reach a
	// running task. Default the smaller of LeaseTTL/3 and 1s.
	RenewInterval time.Duration `yaml:"renew_interval"`
	// ClaimBatch is the most tasks leased in one claim. Default (0): half a partition's slots
	// (processes × capacity), at least 64: an agent of 2,000 slots filled its first wave with 256 at a
	// time in 0.5 s, each claim waiting behind the submissions on Valkey; one claim script costs
	// about the same per task whatever its size.
	ClaimBatch int `yaml:"claim_batch"`
	// WaitTimeout bounds one blocking wait for work when the queue is empty. Default 5s.
	WaitTimeout time.Duration `yaml:"wait_timeout"`
	// DrainDeadline is how long running tasks may take to finish once Run's context ends; tasks
	// still running then are handed back to the queue and the workers are killed. Default 30s.
	DrainDeadline time.Duration `yaml:"drain_deadline"`
	// InlineLimit is the largest data sent inline to and from workers; larger data travels as files
	// in the worker's private folder. Default 64 KiB.
	InlineLimit int64 `yaml:"inline_limit"`
	// MaxResultSize is the largest data a worker may return for one result (output or created
	// result); larger data fails the task with a data error. Default 4 GiB (the gateway's default
	// largest upload).
	MaxResultSize int64 `yaml:"max_result_size"`
	// RequeueInterval is how often the agent takes back expired leases of its partitions (any
	// agent may). Default LeaseTTL/2.
	RequeueInterval time.Duration `yaml:"requeue_interval"`
	// HeartbeatInterval is how often the agent reports its presence per partition (kept for 3
	// intervals); every half interval the agent looks for agents whose heartbeat lapsed to take
	// back their leases: a dead agent's tasks are queued again 2-3.5 intervals after its death.
	// Default 1s.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// ReconcileInterval is how often the agent runs one bounded reconciler pass per partition
	// (repairing index entries lost in a crash, finishing cancellations in the background). Any agent
	// may. Default 2s.
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
	// PingInterval is how often a connected worker is pinged. Default 5s.
	PingInterval time.Duration `yaml:"ping_interval"`
	// PingTimeout: a worker silent for this long is killed and restarted. Default 30s.
	PingTimeout time.Duration `yaml:"ping_timeout"`
	// HelloTimeout: a worker process that has not said Hello this long after it started is killed
	// and restarted. Default 60s.
	HelloTimeout time.Duration `yaml:"hello_timeout"`
	// CancelGrace is how long a worker may take to stop a cancelled or timed-out task before the
	// agent kills the process. Default 30s.
	CancelGrace time.Duration `yaml:"cancel_grace"`
	// RestartBackoff is the first delay before restarting a worker that exited; it doubles on each
	// quick exit up to MaxRestartBackoff. Defaults 100ms and 30s.
	RestartBackoff    time.Duration `yaml:"restart_backoff"`
	MaxRestartBackoff time.Duration `yaml:"max_restart_backoff"`
	// Logger receives the agent's logs and the workers' log lines. Default slog.Default().
	Logger *slog.Logger `yaml:"-"`
	// TracerProvider makes the agent's spans of each task (queue wait, run, fetching inputs, storing
	// outputs), continuing the trace stored with the task. Default: otel's global one.
	TracerProvider trace.TracerProvider `yaml:"-"`
	// MeterProvider receives the queue-wait and run-duration histograms, retries, lease expirations
	// and worker utilization. Default: otel's global one.
	MeterProvider metric.MeterProvider `yaml:"-"`
	// Propagator reads a task's stored trace context (its traceparent and tracestate) to continue the
	// trace, and writes the run span's into the worker's AssignTask. Default W3C trace context.
	Propagator propagation.TextMapPropagator `yaml:"-"`
	// Clock tells the time and drives the agent's timers: lease renewals, requeues, heartbeats,
	// pings, hello and max-duration timeouts, cancel grace, drain deadline, restart and retry
	// backoffs, and stall detection (a clock.Fake moves them all without sleeping). Default the wall
	// clock.
	Clock clock.Clock `yaml:"-"`

	stableID bool // the id is the agent's own across restarts (configured or derived)
}

// PartitionConfig describes one partition the agent serves and the workers that run its tasks.
type PartitionConfig struct {
	// Name of the partition, e.g. "go" or "python-cpu". Required.
	Name string `yaml:"name"`
	// Command is the worker executable (looked up in PATH). Required.
	Command string `yaml:"command"`
	// Args are its arguments.
	Args []string `yaml:"args"`
	// Processes is how many worker processes to run. Default 1.
	Processes int `yaml:"processes"`
	// Capacity is how many tasks each process is expected to run at once; it is passed as
	// CHORUS_WORKER_CAPACITY, and the capacity a worker announces in Hello is what counts. Default 1.
	Capacity int `yaml:"capacity"`
	// Prefetch is how many tasks the agent leases ahead for each process beyond the capacity it
	// announced, with their data fetched, so the worker waits for nothing between tasks and the agent
	// leases in batches rather than one task per finished task. Default: the announced capacity, so
	// that a worker whose tasks all end together (equal-length tasks end in waves) finds its next ones
	// here. With many agents and few long tasks, a smaller prefetch leaves fewer tasks waiting at a busy
	// agent while another one idles.
	Prefetch int `yaml:"prefetch"`
	// Transport is "grpc" (default) or "stdio".
	Transport string `yaml:"transport"`
	// Env is added to the agent's environment for the worker processes.
	Env map[string]string `yaml:"env"`
	// Dir is the worker processes' working folder. Default: the agent's.
	Dir string `yaml:"dir"`
}

// LoadConfig reads a YAML config file. Durations are written like "30s" or "500ms". Defaults are
// applied by New.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read the agent config: %w", err)
	}
	return ParseConfig(b)
}

// ParseConfig parses a YAML agent config; unknown fields are an error.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("parse the agent config: %w", err)
	}
	return c, nil
}

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	if len(c.Partitions) == 0 {
		return c, errors.New("agent config: no partitions: list at least one under partitions")
	}
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
	}
	switch {
	case c.AgentID != "":
		c.stableID = true
	case c.RuntimeDir != "":
		c.AgentID, c.stableID = derivedAgentID(c.Hostname, c.RuntimeDir), true
	default:
		c.AgentID = fmt.Sprintf("%s-%d-%s", c.Hostname, os.Getpid(), store.NewID()[16:])
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.LeaseTTL, 30*time.Second)
	def(&c.RenewInterval, min(c.LeaseTTL/3, time.Second))
	def(&c.WaitTimeout, 5*time.Second)
	def(&c.DrainDeadline, 30*time.Second)
	def(&c.RequeueInterval, c.LeaseTTL/2)
	def(&c.HeartbeatInterval, time.Second)
	def(&c.ReconcileInterval, 2*time.Second)
	def(&c.PingInterval, 5*time.Second)
	def(&c.PingTimeout, 30*time.Second)
	def(&c.HelloTimeout, 60*time.Second)
	def(&c.CancelGrace, 30*time.Second)
	def(&c.RestartBackoff, 100*time.Millisecond)
	def(&c.MaxRestartBackoff, 30*time.Second)
	if c.InlineLimit == 0 {
		c.InlineLimit = 64 << 10
	}
	if c.MaxResultSize == 0 {
		c.MaxResultSize = 4 << 30
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.TracerProvider == nil {
		c.TracerProvider = otel.GetTracerProvider()
	}
	if c.MeterProvider == nil {
		c.MeterProvider = otel.GetMeterProvider()
	}
	if c.Propagator == nil {
		c.Propagator = propagation.TraceContext{}
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.LeaseTTL < 0 || c.RenewInterval <= 0 || c.RenewInterval >= c.LeaseTTL {
		return c, fmt.Errorf("agent config: renew_interval (%s) must be positive and shorter than lease_ttl (%s)", c.RenewInterval, c.LeaseTTL)
	}
	if c.ClaimBatch < 0 || c.InlineLimit < 0 || c.MaxResultSize < 0 {
		return c, errors.New("agent config: claim_batch, inline_limit and max_result_size must not be negative")
	}
	c.Partitions = append([]PartitionConfig(nil), c.Partitions...)
	seen := map[string]bool{}
	for i := range c.Partitions {
		p := &c.Partitions[i]
		if err := validate.Partition(p.Name); err != nil {
			return c, fmt.Errorf("agent config: partition %d: %w", i, err)
		}
		if seen[p.Name] {
			return c, fmt.Errorf("agent config: partition %q is listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.Command == "" {
			return c, fmt.Errorf("agent config: partition %q: command is required (the worker executable)", p.Name)
		}
		if p.Processes == 0 {
			p.Processes = 1
		}
		if p.Capacity == 0 {
			p.Capacity = 1
		}
		if p.Processes < 0 || p.Capacity < 0 {
			return c, fmt.Errorf("agent config: partition %q: processes and capacity must be positive", p.Name)
		}
		switch p.Transport {
		case "":
			p.Transport = TransportGRPC
		case TransportGRPC, TransportStdio:
		default:
			return c, fmt.Errorf("agent config: partition %q: transport %q is not supported: use grpc or stdio", p.Name, p.Transport)
		}
	}
	return c, nil
}

// Validate checks a config as New does, without creating an agent.
func Validate(c Config) error {
	_, err := c.withDefaults()
	return err
}
