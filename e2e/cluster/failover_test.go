package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/testutil/proctest"
	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
	"github.com/chorus-hpc/chorus/sdks/go/client"
)

const (
	sessionsPerRun = 200
	inflight       = 16
	keyPrefix      = "chorus:"
	// agentExtra shortens leases so that work held through the failover comes back in seconds.
	agentExtra = "lease_ttl: 5s\n"
)

// TestClusterFailover runs 200 sessions of mixed graphs through two gateways and two agents on a
// Valkey Cluster of three masters with one replica each, and crashes (SIGKILL) a third of the way
// through the master that serves the partition's keys (its ready index, leases index and wake-up
// list) and a third of the sessions: the harshest single failure. Every graph must end with every output checked and every task
// COMPLETED; acknowledged data that a crash loses (Valkey replicates asynchronously) is counted,
// must belong to the crashed master's slots, and its graph is run again.
func TestClusterFailover(t *testing.T) {
	needCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	bins := buildBinaries(t)
	vc := valkeytest.StartClusterWith(t, valkeytest.ClusterOptions{Replicas: 1, NodeTimeout: 2 * time.Second})
	// Registered before the processes start, this cleanup runs after theirs: a failure's diagnosis
	// is the last thing the test prints.
	diag := &diagnosis{}
	t.Cleanup(func() {
		if t.Failed() {
			diag.report(t, vc)
		}
	})
	store := []string{"--valkey-addr", strings.Join(vc.Addrs, ","), "--key-prefix", keyPrefix,
		"--objstore", "local", "--objstore-dir", filepath.Join(t.TempDir(), "objects")}
	clients := startChorus(ctx, t, bins, store)

	partSlot := keySlot(ctx, t, vc.Addrs[0], "{"+keyPrefix+"p:go}:ready")
	var (
		killOnce sync.Once
		killed   = make(chan killInfo, 1)
	)
	w := &workload{t: t, clients: clients, n: sessionsPerRun, inflight: inflight, retryFor: 90 * time.Second,
		stallAfter: 150 * time.Second, diag: diag,
		onDone: func(done int) {
			if done < sessionsPerRun/3 {
				return
			}
			killOnce.Do(func() {
				diag.notef("%d of %d graphs done when the master was crashed", done, sessionsPerRun)
				go func() { killed <- crashMaster(ctx, t, vc, partSlot, diag) }()
			})
		}}
	stats := w.run(ctx)
	var k killInfo
	select {
	case k = <-killed:
	case <-ctx.Done():
		t.Fatal("the master was never crashed")
	}
	if t.Failed() {
		return
	}

	// Sessions spread over the shards: count them per master (as the cluster stands now).
	nodes, err := valkeytest.Nodes(ctx, k.survivor)
	if err != nil {
		t.Fatal(err)
	}
	perShard := map[string]int{}
	for _, sid := range stats.sessions {
		perShard[sessionOwner(ctx, t, k.survivor, nodes, sid)]++
	}
	if len(perShard) != 3 {
		t.Errorf("the 200 sessions landed on %d shards (%v); want all 3", len(perShard), perShard)
	}
	// Anything lost must have been written to the crashed master's slots.
	for _, l := range stats.lost {
		if owner := sessionOwner(ctx, t, k.survivor, nodes, l.session); owner != k.promoted {
			t.Errorf("graph %d lost %s in session %s on shard %s, which did not fail over (crashed %s, promoted %s)",
				l.graph, l.what, l.session, owner, k.killed, k.promoted)
		}
	}
	t.Logf("Valkey Cluster (3 masters + 3 replicas), 2 gateways, 2 agents × 2 Go workers: %d sessions (%v), %d tasks in %.1fs = %.0f tasks/s",
		sessionsPerRun, stats.kindCounts, stats.tasks, stats.wall.Seconds(), float64(stats.tasks)/stats.wall.Seconds())
	t.Logf("sessions per shard: %v", perShard)
	t.Logf("failover: master %s SIGKILLed at +%.1fs; replica %s promoted after %.1fs; client calls retried: %d %v, the longest for %.1fs; task attempts re-run: %d",
		k.killed, k.at.Sub(k.start).Seconds(), k.promoted, k.promotion.Seconds(), stats.retries, stats.retryCodes, stats.maxOutage.Seconds(), stats.reruns)
	t.Logf("acknowledged writes lost with the crashed master: %d graph(s) %v", len(stats.lost), stats.lost)
	t.Logf("load: %s", loadAvg())
}

// TestStandaloneBaseline runs the same workload with no fault on one valkey-server, and
// TestClusterBaseline on the cluster of TestClusterFailover, for the throughputs side by side.
func TestStandaloneBaseline(t *testing.T) {
	needCluster(t)
	vk := valkeytest.Start(t)
	baseline(t, "single Valkey", vk.Addr)
}

func TestClusterBaseline(t *testing.T) {
	needCluster(t)
	vc := valkeytest.StartClusterWith(t, valkeytest.ClusterOptions{Replicas: 1, NodeTimeout: 2 * time.Second})
	baseline(t, "Valkey Cluster (3 masters + 3 replicas)", strings.Join(vc.Addrs, ","))
}

func baseline(t *testing.T, what, addrs string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bins := buildBinaries(t)
	store := []string{"--valkey-addr", addrs, "--key-prefix", keyPrefix,
		"--objstore", "local", "--objstore-dir", filepath.Join(t.TempDir(), "objects")}
	clients := startChorus(ctx, t, bins, store)
	w := &workload{t: t, clients: clients, n: sessionsPerRun, inflight: inflight, retryFor: 30 * time.Second}
	stats := w.run(ctx)
	if len(stats.lost) > 0 || stats.reruns > 0 || stats.retries > 0 {
		t.Errorf("%s, no fault: %d graphs lost data, %d attempts re-run, %d calls retried %v; want none",
			what, len(stats.lost), stats.reruns, stats.retries, stats.retryCodes)
	}
	t.Logf("%s, 2 gateways, 2 agents × 2 Go workers, no fault: %d sessions (%v), %d tasks in %.1fs = %.0f tasks/s",
		what, sessionsPerRun, stats.kindCounts, stats.tasks, stats.wall.Seconds(), float64(stats.tasks)/stats.wall.Seconds())
	t.Logf("load: %s", loadAvg())
}

// startChorus starts two gateways and two agents on store and returns a client per gateway.
func startChorus(ctx context.Context, t *testing.T, bins proctest.Binaries, store []string) []*client.Client {
	t.Helper()
	var clients []*client.Client
	for i := range 2 {
		gw := startGateway(ctx, t, fmt.Sprintf("gateway-%d", i), bins, "127.0.0.1", store)
		c, err := client.Dial(ctx, gw.grpcAddr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		clients = append(clients, c)
	}
	for i := range 2 {
		startAgent(ctx, t, fmt.Sprintf("agent-%d", i), nil, bins, writeAgentConfig(t, bins, 2, agentExtra), store)
	}
	return clients
}

// killInfo says which master was crashed and how the cluster recovered.
type killInfo struct {
	start     time.Time
	at        time.Time
	killed    string // address of the crashed master
	promoted  string // address of its replica, master now
	survivor  string // a node still running
	promotion time.Duration
}

// promotionLimit bounds the wait for the crashed master's replica to take over (a node timeout of
// 2s makes it a matter of seconds).
const promotionLimit = 90 * time.Second

// crashMaster SIGKILLs the master serving slot and waits until its replica serves its slots.
func crashMaster(ctx context.Context, t *testing.T, vc *valkeytest.Cluster, slot int, diag *diagnosis) killInfo {
	k := killInfo{start: time.Now()}
	nodes, err := valkeytest.Nodes(ctx, vc.Addrs[0])
	if err != nil {
		t.Error(err)
		return k
	}
	victim := valkeytest.Owner(nodes, slot)
	if victim == nil {
		t.Errorf("no master serves slot %d", slot)
		return k
	}
	var replica valkeytest.Node
	for _, n := range nodes {
		if n.Of == victim.ID {
			replica = n
		}
	}
	for _, n := range nodes {
		if n.Addr != victim.Addr && n.Addr != replica.Addr {
			k.survivor = n.Addr
			break
		}
	}
	if replica.Addr == "" {
		t.Errorf("crashed master %s has no replica in CLUSTER NODES", victim.Addr)
		return k
	}
	k.killed, k.promoted = victim.Addr, replica.Addr
	k.at = time.Now()
	vc.Kill(t, victim.Addr)
	diag.notef("master %s (slot %d) SIGKILLed at %s; waiting for replica %s", victim.Addr, slot, k.at.Format("15:04:05.000"), replica.Addr)
	limit := time.NewTimer(promotionLimit)
	defer limit.Stop()
	for {
		ns, err := valkeytest.Nodes(ctx, k.survivor)
		if err == nil {
			for _, n := range ns {
				if n.Addr == replica.Addr && n.Master && len(n.Slots) > 0 {
					k.promotion = time.Since(k.at)
					diag.notef("replica %s promoted after %.1fs", replica.Addr, k.promotion.Seconds())
					return k
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Errorf("replica %s of crashed master %s was not promoted before the test's deadline", replica.Addr, victim.Addr)
			return k
		case <-limit.C:
			t.Errorf("replica %s of crashed master %s was not promoted within %s", replica.Addr, victim.Addr, promotionLimit)
			return k
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// diagnosis gathers what a failed failover run needs to be understood, and prints it last.
type diagnosis struct {
	mu    sync.Mutex
	notes []string
}

// notef records a timed note.
func (d *diagnosis) notef(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notes = append(d.notes, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
}

// report logs the notes, the cluster as every live node sees it, and the partition's indexes.
func (d *diagnosis) report(t *testing.T, vc *valkeytest.Cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var b strings.Builder
	d.mu.Lock()
	for _, n := range d.notes {
		b.WriteString("  " + n + "\n")
	}
	d.mu.Unlock()
	var live string
	for _, addr := range vc.Addrs {
		ns, err := valkeytest.Nodes(ctx, addr)
		if err != nil {
			fmt.Fprintf(&b, "  node %s: %v\n", addr, err)
			continue
		}
		live = addr
		var roles []string
		for _, n := range ns {
			role := "replica of " + n.Of
			if n.Master {
				role = fmt.Sprintf("master of %v", n.Slots)
			}
			if n.Failed {
				role += " (failed)"
			}
			roles = append(roles, n.Addr+" "+n.ID[:8]+" "+role)
		}
		fmt.Fprintf(&b, "  node %s sees: %s\n", addr, strings.Join(roles, "; "))
	}
	if live != "" {
		tag := "{" + keyPrefix + "p:go}"
		for _, c := range [][]string{{"zcard", tag + ":ready"}, {"zrange", tag + ":ready", "0", "4", "withscores"},
			{"scard", tag + ":sessions"}, {"scard", tag + ":active"}, {"zcard", tag + ":leases"}, {"zcard", tag + ":delayed"},
			{"llen", tag + ":wake"}, {"hgetall", tag + ":tot"}, {"hkeys", tag + ":agents"}} {
			host, port, _ := strings.Cut(live, ":")
			out, err := exec.CommandContext(ctx, "valkey-cli", append([]string{"-c", "-h", host, "-p", port}, c...)...).CombinedOutput()
			fmt.Fprintf(&b, "  %s: %s%v\n", strings.Join(c, " "), strings.Join(strings.Fields(string(out)), " "), errOrEmpty(err))
		}
	}
	t.Logf("diagnosis of the failed failover run:\n%s", b.String())
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// sessionOwner returns the address of the master serving session sid's slot.
func sessionOwner(ctx context.Context, t *testing.T, addr string, nodes []valkeytest.Node, sid string) string {
	t.Helper()
	slot := keySlot(ctx, t, addr, "{"+keyPrefix+"s:"+sid+"}:m")
	n := valkeytest.Owner(nodes, slot)
	if n == nil {
		t.Fatalf("no master serves slot %d", slot)
	}
	return n.Addr
}

// keySlot asks the node at addr for key's hash slot.
func keySlot(ctx context.Context, t *testing.T, addr, key string) int {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	out, err := exec.CommandContext(ctx, "valkey-cli", "-h", host, "-p", port, "cluster", "keyslot", key).Output()
	if err != nil {
		t.Fatalf("CLUSTER KEYSLOT %s: %v", key, err)
	}
	var slot int
	if _, err := fmt.Sscan(string(out), &slot); err != nil {
		t.Fatalf("CLUSTER KEYSLOT %s answered %q", key, out)
	}
	return slot
}

func loadAvg() string {
	out, err := exec.Command("uptime").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
