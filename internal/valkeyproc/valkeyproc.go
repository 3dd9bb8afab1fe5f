// Package valkeyproc runs a private valkey-server process: for `chorus dev` (data kept in a folder,
// AOF on, so a restart resumes every session) and for tests.
package valkeyproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config says how to run the server.
type Config struct {
	// Binary is the valkey-server to run; default "valkey-server" from PATH.
	Binary string
	// Dir holds the data (AOF, RDB) and the log; required.
	Dir string
	// Port to listen on (127.0.0.1 only); 0 picks a free one.
	Port int
	// AppendOnly turns the AOF on (appendfsync everysec): acknowledged writes survive a crash of the
	// process, at most one second of writes is lost if the machine dies.
	AppendOnly bool
	// ExtraArgs are passed to valkey-server as they are (e.g. "--maxmemory", "2gb").
	ExtraArgs []string
	// StartTimeout bounds the wait for the server to answer; default 15s.
	StartTimeout time.Duration
}

// Proc is a running valkey-server.
type Proc struct {
	cmd  *exec.Cmd
	addr string
	dir  string
	done chan struct{} // closed once the process has exited; err is then set
	err  error
}

// InstallHint says how to get valkey-server when it is missing.
const InstallHint = "valkey-server is not installed: on Debian bookworm run `scripts/install-system.sh core` " +
	"(it adds bookworm-backports and runs `apt-get install -t bookworm-backports valkey-server`), or `make deps`"

// Start launches the server and waits until it answers PING.
func Start(ctx context.Context, cfg Config) (*Proc, error) {
	if cfg.Dir == "" {
		return nil, errors.New("valkeyproc: Dir is required")
	}
	if cfg.Binary == "" {
		cfg.Binary = "valkey-server"
	}
	bin, err := exec.LookPath(cfg.Binary)
	if err != nil {
		return nil, errors.New(InstallHint)
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 15 * time.Second
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("valkeyproc: data folder: %w", err)
	}
	port := cfg.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	args := []string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", cfg.Dir,
		"--logfile", filepath.Join(cfg.Dir, "valkey.log"), "--daemonize", "no", "--save", "",
		"--protected-mode", "yes",
	}
	if cfg.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "everysec")
	} else {
		args = append(args, "--appendonly", "no")
	}
	args = append(args, cfg.ExtraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = cfg.Dir
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("valkeyproc: starting %s: %w", bin, err)
	}
	p := &Proc{cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: cfg.Dir, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(cfg.StartTimeout)
	for {
		if err := ping(p.addr); err == nil {
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("valkeyproc: valkey-server exited at start (%v); see %s", p.err, filepath.Join(cfg.Dir, "valkey.log"))
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("valkeyproc: valkey-server did not answer within %s; see %s", cfg.StartTimeout, filepath.Join(cfg.Dir, "valkey.log"))
		}
	}
}

// Addr returns "127.0.0.1:port".
func (p *Proc) Addr() string { return p.addr }

// Stop asks the server to shut down (flushing the AOF) and waits for it, killing it when ctx ends.
func (p *Proc) Stop(ctx context.Context) error {
	if conn, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
		_, _ = conn.Write([]byte("*1\r\n$8\r\nSHUTDOWN\r\n"))
		conn.Close()
	} else {
		_ = p.cmd.Process.Signal(os.Interrupt)
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		p.kill()
		return fmt.Errorf("valkeyproc: valkey-server did not stop in time; killed it")
	}
}

// Kill ends the server at once with SIGKILL (no AOF flush, no replica hand-over), as a crash would,
// and waits for it to exit.
func (p *Proc) Kill() {
	p.kill()
}

// Pid is the server's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

func (p *Proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("valkeyproc: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ping sends PING in RESP and expects +PONG.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected answer %q", strings.TrimSpace(line))
	}
	return nil
}
