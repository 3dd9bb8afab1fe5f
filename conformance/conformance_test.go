package conformance_test

import (
	"testing"
	"time"
)

// capacity is the announced capacity of the one worker process of each conformance stack.
const capacity = 2

// caseTimeout bounds one case: a hang fails with what the case waited for.
const caseTimeout = 2 * time.Minute

// TestConformance runs every case on every language. A language's cases run one after the other on
// one stack (they watch its single worker process: its concurrency, its pid); languages run in
// parallel.
func TestConformance(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(*testing.T, *stack)
	}{
		{"methods", testMethods},
		{"large_payload_and_output", testLarge},
		{"progress", testProgress},
		{"cancel_running_sleep", testCancel},
		{"capacity", testCapacity},
		{"fanout_100", testFanout},
		{"worker_crash_retried", testCrash},
	}
	for _, l := range languages {
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			s := startStack(t, l, capacity)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, s) })
			}
		})
	}
}
