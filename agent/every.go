package agent

import (
	"context"
	"time"

	"github.com/chorus-hpc/chorus/internal/clock"
)

// every calls round after each tick of a ticker of period on clk, and each time kick (when not nil)
// receives, until ctx ends.
func every(ctx context.Context, clk clock.Clock, period time.Duration, kick <-chan struct{}, round func()) {
	t := clock.NewTicker(clk, period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-kick:
		}
		round()
	}
}
