package worker

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"go.opentelemetry.io/otel/trace"
)

// Environment variables the agent sets for each worker process.
const (
	EnvSocket   = "CHORUS_AGENT_SOCKET"
	EnvToken    = "CHORUS_WORKER_TOKEN"
	EnvCapacity = "CHORUS_WORKER_CAPACITY"
)

// Config configures a Worker.
type Config struct {
	// Socket is the path of the agent's Unix socket. Required (FromEnv reads CHORUS_AGENT_SOCKET).
	Socket string
	// Token authenticates this process to the agent. Required (FromEnv reads CHORUS_WORKER_TOKEN).
	Token string
	// Capacity is how many tasks run at once. Default 1 (FromEnv reads CHORUS_WORKER_CAPACITY).
	Capacity int
	// Logger receives the SDK's log lines. Default: slog.Default().
	Logger *slog.Logger
	// TracerProvider makes each task's span, a child of the agent's span for the task (from the
	// traceparent in AssignTask). Default: built from the OTEL_* environment variables when they
	// configure an exporter (service name OTEL_SERVICE_NAME, else "chorus-worker-go"), else none.
	TracerProvider trace.TracerProvider
}

// FromEnv returns the Config the agent describes in the environment. Values that are missing or
// malformed are left empty and reported by New.
func FromEnv() Config {
	c := Config{Socket: os.Getenv(EnvSocket), Token: os.Getenv(EnvToken)}
	if v := os.Getenv(EnvCapacity); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			c.Capacity = n
		} else {
			c.Capacity = -1
		}
	}
	return c
}

func (c *Config) validate() error {
	if c.Socket == "" {
		return fmt.Errorf("worker: no agent socket: set %s (the agent does this when it launches the worker)", EnvSocket)
	}
	if c.Token == "" {
		return fmt.Errorf("worker: no token: set %s (the agent does this when it launches the worker)", EnvToken)
	}
	if c.Capacity < 0 {
		return fmt.Errorf("worker: capacity %d is not valid: %s must be a positive integer", c.Capacity, EnvCapacity)
	}
	if c.Capacity == 0 {
		c.Capacity = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}
