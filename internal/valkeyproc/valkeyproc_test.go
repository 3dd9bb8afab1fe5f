package valkeyproc_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/valkeyproc"
)

// do sends one command in RESP and returns the first line of the answer.
func do(t *testing.T, addr string, args ...string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	conn.Write([]byte(b.String()))
	r := bufio.NewReader(conn)
	line, _ := r.ReadString('\n')
	if strings.HasPrefix(line, "$") && line != "$-1\r\n" {
		line, _ = r.ReadString('\n')
	}
	return strings.TrimSpace(line)
}

// TestRestartKeepsData checks that data written before a stop is there after a restart on the same
// folder (AOF), which is what `chorus dev` relies on to resume sessions.
func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	p, err := valkeyproc.Start(ctx, valkeyproc.Config{Dir: dir, AppendOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := do(t, p.Addr(), "SET", "k", "v1"); got != "+OK" {
		t.Fatalf("SET answered %q", got)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	p2, err := valkeyproc.Start(ctx, valkeyproc.Config{Dir: dir, AppendOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Stop(sctx)
	if got := do(t, p2.Addr(), "GET", "k"); got != "v1" {
		t.Fatalf("after restart GET k = %q, want v1", got)
	}
}

func TestMissingBinarySaysHowToInstall(t *testing.T) {
	t.Parallel()
	_, err := valkeyproc.Start(context.Background(), valkeyproc.Config{Dir: t.TempDir(), Binary: "no-such-valkey-server"})
	if err == nil || !strings.Contains(err.Error(), "apt-get install") {
		t.Fatalf("want an install hint, got %v", err)
	}
}
