package bench

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/valkey-io/valkey-go"
)

// commandStat is one line of INFO commandstats.
type commandStat struct {
	calls, usec int64
}

// commandStats reads INFO commandstats: command → calls and server CPU time.
func commandStats(ctx context.Context, vc valkey.Client) (map[string]commandStat, error) {
	info, err := vc.Do(ctx, vc.B().Info().Section("commandstats").Build()).ToString()
	if err != nil {
		return nil, fmt.Errorf("INFO commandstats: %w", err)
	}
	out := map[string]commandStat{}
	for _, line := range strings.Split(info, "\n") {
		name, fields, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		var st commandStat
		for _, f := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "calls":
				st.calls = n
			case "usec":
				st.usec = n
			}
		}
		out[strings.TrimPrefix(name, "cmdstat_")] = st
	}
	return out, nil
}

// ValkeyCommand is a command's share of Valkey's work during a run.
type ValkeyCommand struct {
	Command      string  `json:"command"`
	CallsPerTask float64 `json:"calls_per_task"`
	UsecPerTask  float64 `json:"usec_per_task"`
	UsecPerCall  float64 `json:"usec_per_call"`
}

// commandDelta returns the commands that ran between two snapshots, most expensive first.
func commandDelta(before, after map[string]commandStat, tasks int) []ValkeyCommand {
	var out []ValkeyCommand
	for name, a := range after {
		b := before[name]
		calls, usec := a.calls-b.calls, a.usec-b.usec
		if calls <= 0 || tasks <= 0 {
			continue
		}
		out = append(out, ValkeyCommand{Command: name, CallsPerTask: float64(calls) / float64(tasks),
			UsecPerTask: float64(usec) / float64(tasks), UsecPerCall: float64(usec) / float64(calls)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UsecPerTask > out[j].UsecPerTask })
	return out
}
