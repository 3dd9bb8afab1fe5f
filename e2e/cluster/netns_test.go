package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"

	"github.com/chorus-hpc/chorus/internal/valkeyproc"
	"github.com/chorus-hpc/chorus/sdks/go/client"
)

// netns is a network namespace joined to the host by a veth pair: the host side holds host, the
// namespace side ns (a /30 between them); the namespace has no other interface, not even lo up.
type netns struct {
	name string
	host string // host side address
	ns   string // namespace side address
}

// newNetns creates network namespaces and veth pairs, or skips the test when the machine refuses
// them (no root, no CAP_SYS_ADMIN, no ip command). t.Cleanup deletes them.
func newNetns(t *testing.T, n int) []netns {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("network namespaces: the ip command (iproute2) is not installed")
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	tag := hex.EncodeToString(b[:])
	// A random 10.x.y.0 block so that parallel runs do not collide; namespace i uses y+i.
	x, y := 100+int(b[0])%100, int(b[1])%200
	var out []netns
	for i := range n {
		ns := netns{name: fmt.Sprintf("chorus-%s-%d", tag, i),
			host: fmt.Sprintf("10.%d.%d.1", x, y+i), ns: fmt.Sprintf("10.%d.%d.2", x, y+i)}
		hostIf, nsIf := fmt.Sprintf("cv%sh%d", tag, i), fmt.Sprintf("cv%sn%d", tag, i)
		if msg, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
			if i == 0 {
				t.Skipf("network namespaces: this machine refuses them (ip netns add: %v: %s); the test needs root or CAP_SYS_ADMIN", err, strings.TrimSpace(string(msg)))
			}
			t.Fatalf("ip netns add %s: %v: %s", ns.name, err, msg)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns.name).Run() })
		for _, args := range [][]string{
			{"link", "add", hostIf, "type", "veth", "peer", "name", nsIf},
			{"link", "set", nsIf, "netns", ns.name},
			{"addr", "add", ns.host + "/30", "dev", hostIf},
			{"link", "set", hostIf, "up"},
			{"-n", ns.name, "addr", "add", ns.ns + "/30", "dev", nsIf},
			{"-n", ns.name, "link", "set", nsIf, "up"},
		} {
			if msg, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, msg)
			}
		}
		t.Cleanup(func() { _ = exec.Command("ip", "link", "del", hostIf).Run() })
		out = append(out, ns)
	}
	return out
}

// dialer returns a gRPC dialer whose connections are made from inside namespace name: a socket
// belongs to the namespace of the thread that created it, so the dial runs on a locked OS thread
// moved into the namespace, and the thread is discarded afterwards.
func (n netns) dialer() func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		type result struct {
			c   net.Conn
			err error
		}
		ch := make(chan result, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			f, err := os.Open(filepath.Join("/var/run/netns", n.name))
			if err != nil {
				ch <- result{err: err}
				return
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
				ch <- result{err: fmt.Errorf("entering network namespace %s: %w", n.name, err)}
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			ch <- result{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}

// TestAgentsInNetworkNamespaces runs each agent in its own network namespace, reaching Valkey over
// a veth pair's address (not loopback), and the client in a third namespace, reaching the gateway
// the same way: nothing in Chorus may assume that its parts share a host.
func TestAgentsInNetworkNamespaces(t *testing.T) {
	needCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nss := newNetns(t, 3)
	agentNS, clientNS := nss[:2], nss[2]
	bins := buildBinaries(t)

	bind := []string{"--bind", "127.0.0.1"}
	for _, n := range nss {
		bind = append(bind, n.host)
	}
	vk, err := valkeyproc.Start(ctx, valkeyproc.Config{Dir: filepath.Join(t.TempDir(), "valkey"),
		ExtraArgs: append(bind, "--protected-mode", "no")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = vk.Stop(sctx)
	})
	_, port, _ := net.SplitHostPort(vk.Addr())
	objects := filepath.Join(t.TempDir(), "objects") // one filesystem: namespaces isolate only the network
	storeAt := func(host string) []string {
		return []string{"--valkey-addr", net.JoinHostPort(host, port), "--objstore", "local", "--objstore-dir", objects}
	}

	// Inside a namespace, loopback leads nowhere: the agents can only use the veth addresses.
	if out, err := exec.CommandContext(ctx, "ip", "netns", "exec", agentNS[0].name, "valkey-cli", "-h", "127.0.0.1", "-p", port, "ping").CombinedOutput(); err == nil && strings.Contains(string(out), "PONG") {
		t.Fatalf("namespace %s reaches Valkey on 127.0.0.1: the namespace does not isolate the network", agentNS[0].name)
	}

	gw := startGateway(ctx, t, "gateway", bins, clientNS.host, storeAt("127.0.0.1"))
	if !strings.HasPrefix(gw.grpcAddr, clientNS.host+":") {
		t.Fatalf("gateway listens on %s; want %s", gw.grpcAddr, clientNS.host)
	}
	for i, n := range agentNS {
		startAgent(ctx, t, fmt.Sprintf("agent-%d (netns %s)", i, n.name), []string{"ip", "netns", "exec", n.name},
			bins, writeAgentConfig(t, bins, 2, agentExtra), storeAt(n.host))
	}
	c, err := client.Dial(ctx, gw.grpcAddr, client.WithDialOptions(grpc.WithContextDialer(clientNS.dialer())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	w := &workload{t: t, clients: []*client.Client{c}, n: 30, inflight: 8, retryFor: 30 * time.Second}
	stats := w.run(ctx)
	if len(stats.lost) > 0 {
		t.Errorf("no fault, yet %d graphs lost data", len(stats.lost))
	}
	// Both agents served: each reports its partition's heartbeat from its own namespace.
	parts, err := c.Partitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if p.GetPartitionId() == "go" && len(p.GetAgents()) != 2 {
			t.Errorf("partition go lists %d live agents; want the 2 namespaced ones", len(p.GetAgents()))
		}
	}
	t.Logf("2 agents in network namespaces %s and %s (Valkey at %s and %s), client in %s → gateway %s: %d sessions, %d tasks in %.1fs",
		agentNS[0].name, agentNS[1].name, agentNS[0].host, agentNS[1].host, clientNS.name, gw.grpcAddr, 30, stats.tasks, stats.wall.Seconds())
}
