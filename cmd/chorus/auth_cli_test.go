package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var tokenLine = regexp.MustCompile(`^\s+export CHORUS_TOKEN=(\S+)`)

// TestDevAuth: `chorus dev --auth` prints a token of tenant dev; the CLI without it is refused with
// a message about credentials, with it works; a token of another tenant minted by `chorus token`
// sees none of dev's sessions and gets NOT_FOUND on one.
func TestDevAuth(t *testing.T) {
	data := t.TempDir()
	cmd := exec.Command(chorusBin, "dev", "--auth", "--data-dir", data, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "warn")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &devProc{cmd: cmd, log: &bytes.Buffer{}, done: make(chan struct{})}
	var token string
	ready := make(chan struct{})
	var mu sync.Mutex
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			d.log.WriteString(line + "\n")
			if m := addrLine.FindStringSubmatch(line); m != nil {
				d.addr = m[1]
			}
			if m := tokenLine.FindStringSubmatch(line); m != nil {
				token = m[1]
			}
			if strings.HasPrefix(line, "More tokens:") {
				close(ready)
			}
			mu.Unlock()
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-d.done
	})
	select {
	case <-ready:
	case <-d.done:
		t.Fatalf("chorus dev --auth exited at start:\n%s", d.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("chorus dev --auth printed no token in 60s:\n%s", d.log)
	}
	mu.Lock()
	tok := token
	mu.Unlock()

	wantFail(t, d, 1, "refused the credentials", "session", "list")
	sid := jsonField(t, mustChorus(t, d, "session", "create", "--partition", "go", "--output", "json", "--token", tok), "sessionId")
	if out := mustChorus(t, d, "session", "list", "--token", tok); !strings.Contains(out, sid) {
		t.Fatalf("tenant dev does not list its session %s:\n%s", sid, out)
	}
	other := strings.TrimSpace(mustChorus(t, nil, "token", "--secret-file", filepath.Join(data, "auth", "jwt-secret"), "--tenant", "acme"))
	if out := mustChorus(t, d, "session", "list", "--token", other); strings.Contains(out, sid) {
		t.Fatalf("tenant acme lists tenant dev's session:\n%s", out)
	}
	wantFail(t, d, 1, "does not exist", "session", "get", sid, "--token", other)
}
