// Package local is the object store of one machine: each object is a file under a folder. Writes are
// crash-safe: the data goes to a temporary file in the object's own folder, is flushed to disk, and is
// renamed over the object, so a reader or a crash sees the old object or the new one whole.
package local

import (
	"errors"
	"log/slog"
	"time"
)

// Config configures a Store.
type Config struct {
	// Dir is the folder that holds the objects; it is created when missing. Required. Several
	// processes on one machine (a gateway and agents) may share it.
	Dir string
	// StaleTempAge is how long a temporary file may go unwritten before New removes it as the
	// leftover of a crashed writer. Writers in progress update their file continuously, so they are
	// never this old. Default 15 minutes.
	StaleTempAge time.Duration
	// Logger receives the cleanup report. Default slog.Default().
	Logger *slog.Logger
}

// DefaultStaleTempAge is the default Config.StaleTempAge.
const DefaultStaleTempAge = 15 * time.Minute

func (c Config) withDefaults() (Config, error) {
	if c.Dir == "" {
		return c, errors.New("local object store: Config.Dir is empty; set it to the folder that should hold the objects")
	}
	if c.StaleTempAge < 0 {
		return c, errors.New("local object store: Config.StaleTempAge is negative; leave it 0 for the default of 15 minutes")
	}
	if c.StaleTempAge == 0 {
		c.StaleTempAge = DefaultStaleTempAge
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
