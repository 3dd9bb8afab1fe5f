// Package valkeystore is the Valkey implementation of store.Store on valkey-go. Every key of a
// session carries the session's hash tag and every multi-key operation is one Lua script (lua/*.lua),
// so it runs unchanged on one Valkey or on a Valkey Cluster. See keys.go for the layout.
package valkeystore

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/valkey-io/valkey-go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/chorus-hpc/chorus/internal/clock"
)

// Config configures a Store. Zero fields take the documented defaults.
type Config struct {
	// Client is the valkey-go client (standalone or cluster); required. Close closes it.
	Client valkey.Client
	// KeyPrefix starts every key, so several Chorus installations (or tests) share one Valkey;
	// default "chorus:".
	KeyPrefix string
	// LeaseTTL is used when ClaimRequest.LeaseTTL is 0; default 30s.
	LeaseTTL time.Duration
	// RetryBackoffBase is the delay before the first retry; it doubles per attempt up to
	// RetryBackoffMax, and each delay is jittered to [d/2, d). Defaults 1s and 5m.
	RetryBackoffBase time.Duration
	RetryBackoffMax  time.Duration
	// DefaultMaxRetries applies when neither the task nor its session sets max_retries; default 3.
	DefaultMaxRetries int32
	// MaxInlineSize bounds an inline payload or inline result data in bytes; default 1 MiB.
	MaxInlineSize int
	// MaxBatchSize bounds the tasks of one SubmitTasks call; default 10000.
	MaxBatchSize int
	// IndexRetry bounds how long a partition-index write that follows a committed session write
	// (marking a session's new ready work) is retried on server errors, e.g. while a Valkey
	// Cluster master fails over; default 15s. Negative: no retry.
	IndexRetry time.Duration
	// ChunkSize bounds the tasks or results one script looks at when a session is cancelled or
	// purged (the rest is done in further bounded steps); default 1000.
	ChunkSize int
	// PurgedRetention is how long a purged session's record still answers GetSession (as PURGED)
	// before it expires; default 24h.
	PurgedRetention time.Duration
	// Clock tells the time for leases, backoffs and record times; default clock.Real{}.
	Clock clock.Clock
	// NoFunctionLoad: the store never loads its function library (FUNCTION LOAD); it calls the hot
	// scripts with FCALL once another process (a gateway) has loaded it, and with EVALSHA until
	// then. Agents set it: FUNCTION LOAD can replace any library, so the documented ACL grants it to
	// gateways only, whose rights include the agents' (docs/security.md).
	NoFunctionLoad bool
	// Logger; default slog.Default().
	Logger *slog.Logger
	// TracerProvider makes the spans of script calls made within a trace; default otel's global one.
	TracerProvider trace.TracerProvider
}

func (c *Config) setDefaults() error {
	if c.Client == nil {
		return errors.New("valkeystore: Config.Client is required (a valkey-go client)")
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = "chorus:"
	}
	if c.TracerProvider == nil {
		c.TracerProvider = otel.GetTracerProvider()
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 30 * time.Second
	}
	if c.RetryBackoffBase == 0 {
		c.RetryBackoffBase = time.Second
	}
	if c.RetryBackoffMax == 0 {
		c.RetryBackoffMax = 5 * time.Minute
	}
	if c.DefaultMaxRetries == 0 {
		c.DefaultMaxRetries = 3
	}
	if c.IndexRetry == 0 {
		c.IndexRetry = 15 * time.Second
	}
	if c.MaxInlineSize == 0 {
		c.MaxInlineSize = 1 << 20
	}
	if c.MaxBatchSize == 0 {
		c.MaxBatchSize = 10000
	}
	if c.ChunkSize <= 0 {
		c.ChunkSize = 1000
	}
	if c.PurgedRetention <= 0 {
		c.PurgedRetention = 24 * time.Hour
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.LeaseTTL < time.Millisecond || c.RetryBackoffBase < 0 || c.RetryBackoffMax < c.RetryBackoffBase {
		return fmt.Errorf("valkeystore: invalid durations (lease ttl %s, backoff base %s, backoff max %s): need ttl ≥ 1ms and 0 ≤ base ≤ max",
			c.LeaseTTL, c.RetryBackoffBase, c.RetryBackoffMax)
	}
	if c.DefaultMaxRetries < 0 {
		return fmt.Errorf("valkeystore: DefaultMaxRetries %d is negative", c.DefaultMaxRetries)
	}
	return nil
}
