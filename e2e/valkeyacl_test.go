package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/chorus-hpc/chorus/internal/auth/authtest"
	"github.com/chorus-hpc/chorus/internal/testutil/freeport"
	"github.com/chorus-hpc/chorus/internal/valkeyproc"
	"github.com/chorus-hpc/chorus/sdks/go/client"
)

// valkeyACL is the ACL file documented in docs/security.md ("Valkey: ACL users"), with the test's
// passwords: Chorus's commands only, on Chorus's keys only, no channels; the agent cannot reach the
// tenants' quota keys; the default user may only PING.
func valkeyACL(gatewayPass, agentPass, adminPass string) string {
	common := "+hello +auth +ping +client|setinfo +client|setname +client|tracking +cluster|shards +cluster|slots +evalsha +eval " +
		"+exists +get +set +del +hget +hmget +hgetall +hset +hdel +hexists +hincrby " +
		"+lrange +rpush +ltrim +blpop +sadd +srem +smembers +sismember +smismember " +
		"+zadd +zrem +zcard +zrange +zrangebyscore +lpop +lmpop +lpush +xadd " +
		"+expire +unlink +hkeys +lindex +llen +scard +sscan +xrange +zremrangebyscore +spop"
	return strings.Join([]string{
		"user default on nopass resetchannels -@all +ping",
		"user chorus-gateway on >" + gatewayPass + " resetkeys ~{chorus:* ~chorus:* resetchannels -@all " + common + " +zrevrange +xread +xrevrange +fcall +function|load",
		"user chorus-agent on >" + agentPass + " resetkeys ~{chorus:s:* ~{chorus:p:* ~{chorus:a:* ~chorus:* resetchannels -@all " + common + " +fcall",
		"user admin on >" + adminPass + " ~* &* +@all",
	}, "\n") + "\n"
}

// TestValkeyACLAndTLS runs a gateway and an agent on a valkey-server that requires ACL users and
// TLS (certificates made by the test): tasks run, Valkey logs no refused command of theirs, and the
// agent's credentials are refused every command and key Chorus does not need.
func TestValkeyACLAndTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bins := buildBinaries(t)

	dir := t.TempDir()
	ca := authtest.NewCA(t, "valkey")
	srv := ca.Server(t, "valkey")
	aclFile := filepath.Join(dir, "users.acl")
	authtest.WriteFile(t, aclFile, []byte(valkeyACL("gw-pass-0123456789", "agent-pass-0123456789", "admin-pass-0123456789")))
	tlsPort := freeport.Get(t)
	vk, err := valkeyproc.Start(ctx, valkeyproc.Config{Dir: filepath.Join(dir, "valkey"), ExtraArgs: []string{
		"--aclfile", aclFile, "--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", srv.CertFile,
		"--tls-key-file", srv.KeyFile, "--tls-ca-cert-file", ca.File, "--tls-auth-clients", "no"}})
	if err != nil {
		t.Fatalf("starting valkey-server with an ACL file and TLS: %v", err)
	}
	tlsAddr := "127.0.0.1:" + strconv.Itoa(tlsPort)
	admin := newValkeyClient(t, tlsAddr, ca, "admin", "admin-pass-0123456789")
	t.Cleanup(func() {
		_ = admin.Do(context.Background(), admin.B().Arbitrary("SHUTDOWN", "NOSAVE").Build()).Error()
		admin.Close()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = vk.Stop(sctx)
	})

	store := func(user, pass string) []string {
		return []string{"--valkey-addr", tlsAddr, "--valkey-user", user, "--valkey-password", pass,
			"--valkey-ca-file", ca.File, "--objstore", "local", "--objstore-dir", filepath.Join(dir, "objects")}
	}
	c := &cluster{bins: bins, objDir: filepath.Join(dir, "objects")}
	c.gateway = startProc(t, "gateway", bins.Chorus, append([]string{"gateway",
		"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--partitions", "go"}, store("chorus-gateway", "gw-pass-0123456789")...)...)
	m := c.gateway.WaitFor(ctx, t, gatewayAddrs)
	c.grpcAddr = m[1]
	c.store = store("chorus-agent", "agent-pass-0123456789")
	c.agent = c.startAgent(ctx, t, "agent", "go", "")

	cl, err := client.Dial(ctx, c.grpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	sess, err := cl.CreateSession(ctx, client.SessionOptions{Partition: "go"})
	if err != nil {
		t.Fatal(err)
	}
	g := client.NewGraph()
	var handles []*client.TaskHandle
	for i := range 20 {
		handles = append(handles, g.Task("sha256", []byte(strconv.Itoa(i))))
	}
	if _, err := sess.Submit(ctx, g); err != nil {
		t.Fatal(err)
	}
	for i, h := range handles {
		out, err := sess.WaitAndDownload(ctx, h.Output())
		if err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
		sum := sha256.Sum256([]byte(strconv.Itoa(i)))
		if string(out) != hex.EncodeToString(sum[:]) {
			t.Fatalf("task %d: output %q", i, out)
		}
	}
	// The session ends and is purged: the purge's scripts run under the gateway's user too.
	if _, err := sess.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Purge(ctx); err != nil {
		t.Fatalf("purging the session under the documented ACL: %v", err)
	}
	// Nothing Chorus did was refused (a refusal the code retried or logged would be listed here).
	if log, err := admin.Do(ctx, admin.B().Arbitrary("ACL", "LOG").Build()).ToAny(); err != nil || len(log.([]any)) != 0 {
		t.Fatalf("ACL LOG after the run (%v), want no entry: %v", err, log)
	}

	agent := newValkeyClient(t, tlsAddr, ca, "chorus-agent", "agent-pass-0123456789")
	defer agent.Close()
	for _, cmd := range [][]string{
		{"FLUSHALL"}, {"CONFIG", "SET", "appendonly", "no"}, {"KEYS", "*"}, {"SCAN", "0"}, {"FLUSHDB"}, {"CLIENT", "KILL", "ID", "1"}, {"BGSAVE"},
		{"ACL", "LIST"}, {"SCRIPT", "FLUSH"}, {"SHUTDOWN"}, {"MONITOR"}, {"PUBLISH", "x", "y"},
		{"FUNCTION", "LOAD", "#!lua name=evil\nredis.register_function('evil', function() return 1 end)"}, {"FUNCTION", "FLUSH"},
		{"GET", "another-app:secret"}, {"ZCARD", "{chorus:t:acme}:live"},
		{"EVAL", "return redis.call('FLUSHALL')", "0"},
		{"EVAL", "return redis.call('GET', KEYS[1])", "1", "another-app:secret"},
	} {
		err := agent.Do(ctx, agent.B().Arbitrary(cmd...).Build()).Error()
		if err == nil || !strings.Contains(err.Error(), "NOPERM") && !strings.Contains(err.Error(), "permission") {
			t.Errorf("the agent's user ran %v: %v, want NOPERM", cmd, err)
		}
	}
	if err := agent.Do(ctx, agent.B().Hget().Key("{chorus:s:"+sess.ID+"}:m").Field("st").Build()).Error(); err != nil {
		t.Errorf("the agent's user cannot read a session's meta: %v", err)
	}
	// Without credentials only PING works (on the plain port, which the health check uses).
	conn, err := net.DialTimeout("tcp", vk.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("*2\r\n$3\r\nGET\r\n$15\r\nchorus:sessions\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.HasPrefix(line, "-NOPERM") {
		t.Errorf("an unauthenticated GET: %q, %v; want -NOPERM", line, err)
	}
	fmt.Fprintln(os.Stderr, "valkey ACL and TLS: 20 tasks completed; every forbidden command refused")
}

func newValkeyClient(t *testing.T, addr string, ca *authtest.CA, user, pass string) valkey.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	c, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{addr}, Username: user, Password: pass,
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}, DisableCache: true})
	if err != nil {
		t.Fatalf("connecting to Valkey as %q: %v", user, err)
	}
	return c
}
