package agent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/agent"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	c, err := agent.ParseConfig([]byte(`
agent_id: a1
lease_ttl: 10s
renew_interval: 2s
claim_batch: 16
partitions:
  - name: python-cpu
    command: python3
    args: ["-m", "chorus.worker.example"]
    processes: 4
    capacity: 2
    transport: stdio
    env: {PYTHONUNBUFFERED: "1"}
    dir: /srv/work
`))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if c.AgentID != "a1" || c.LeaseTTL != 10*time.Second || c.RenewInterval != 2*time.Second || c.ClaimBatch != 16 {
		t.Errorf("top-level fields not read: %+v", c)
	}
	p := c.Partitions[0]
	if p.Name != "python-cpu" || p.Command != "python3" || len(p.Args) != 2 || p.Processes != 4 || p.Capacity != 2 ||
		p.Transport != "stdio" || p.Env["PYTHONUNBUFFERED"] != "1" || p.Dir != "/srv/work" {
		t.Errorf("partition fields not read: %+v", p)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"lease_ttl: 10s\n", "no partitions"},
		{"partitions: [{name: go}]\n", "command is required"},
		{"partitions: [{name: go, command: w, transport: http}]\n", "transport \"http\" is not supported"},
		{"partitions: [{name: 'bad name', command: w}]\n", "must be 1-64 letters"},
		{"partitions: [{name: go, command: w}, {name: go, command: w}]\n", "listed twice"},
		{"lease_ttl: 1s\nrenew_interval: 2s\npartitions: [{name: go, command: w}]\n", "shorter than lease_ttl"},
	} {
		c, err := agent.ParseConfig([]byte(tc.yaml))
		if err == nil {
			err = agent.Validate(c)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.yaml, err, tc.want)
		}
	}
	if _, err := agent.ParseConfig([]byte("leese_ttl: 1s\n")); err == nil || !strings.Contains(err.Error(), "leese_ttl") {
		t.Errorf("an unknown field is not reported: %v", err)
	}
}
