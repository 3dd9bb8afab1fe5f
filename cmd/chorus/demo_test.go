package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chorus-hpc/chorus/internal/testutil/freeport"
)

// portPair returns a free loopback port p whose neighbour p+delta is free too (Jaeger's second port).
func portPair(t *testing.T, delta int) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		p := freeport.Get(t)
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+delta)); err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no pair of free loopback ports")
	return 0
}

// demoRoot makes the test's checkout (the folder of bin/chorus) look like a built one for the demo:
// bin/jaeger and workers/python of this repository, and its .venv Python.
func demoRoot(t *testing.T) (python string) {
	t.Helper()
	repo, _ := filepath.Abs("../..")
	python = filepath.Join(repo, ".venv", "bin", "python")
	jaeger := filepath.Join(repo, "bin", "jaeger")
	for _, p := range []string{python, jaeger} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: run 'make python-venv jaeger-build' (make test-go does)", p)
		}
	}
	root := filepath.Dir(filepath.Dir(chorusBin))
	os.MkdirAll(filepath.Join(root, "workers"), 0o755)
	for link, target := range map[string]string{
		filepath.Join(root, "bin", "jaeger"):     jaeger,
		filepath.Join(root, "workers", "python"): filepath.Join(repo, "workers", "python"),
	} {
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink(target, link); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
		}
	}
	return python
}

// TestDemoStaysUpWithWorkingLinks runs `chorus dev --demo --jaeger` as `make demo` does (on free
// loopback ports): after the job it prints the links and stays up, and the trace link answers with
// the job's spans until Ctrl-C.
func TestDemoStaysUpWithWorkingLinks(t *testing.T) {
	python := demoRoot(t)
	otlp, ui := portPair(t, 1), portPair(t, -1)
	data := t.TempDir()
	cmd := exec.Command(chorusBin, "dev", "--demo", "--demo-tasks", "20", "--jaeger", "--python", python,
		"--jaeger-otlp-addr", fmt.Sprintf("127.0.0.1:%d", otlp), "--jaeger-ui-addr", fmt.Sprintf("127.0.0.1:%d", ui),
		"--data-dir", data, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()
	traceURL := make(chan string, 1)
	var out bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`Trace as JSON\s+(\S+)`)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				traceURL <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	var url string
	select {
	case url = <-traceURL:
	case err := <-done:
		t.Fatalf("chorus dev --demo exited before printing the links (%v):\nstdout:\n%s\nstderr:\n%s", err, out.String(), stderr.String())
	case <-time.After(5 * time.Minute):
		t.Fatalf("no trace link after 5 minutes:\nstdout:\n%s\nstderr:\n%s", out.String(), stderr.String())
	}
	if want := fmt.Sprintf("http://127.0.0.1:%d/api/traces/", ui); !strings.HasPrefix(url, want) {
		t.Fatalf("trace link %s, want one under %s", url, want)
	}
	// The stack is still up after the job: the link answers with the job's spans.
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("the trace link is dead: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"operationName":"demo job"`)) {
		t.Fatalf("trace link: %s\n%.500s", resp.Status, body)
	}
	// Jaeger listens on loopback only.
	cfg, _ := os.ReadFile(filepath.Join(data, "jaeger.yaml"))
	if n := strings.Count(string(cfg), "endpoint: 127.0.0.1:"); n != 4 || strings.Contains(string(cfg), "0.0.0.0") {
		t.Fatalf("jaeger.yaml does not bind every endpoint to loopback:\n%s", cfg)
	}
	// Ctrl-C stops everything cleanly.
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chorus dev after Ctrl-C: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("chorus dev did not stop within 60s of Ctrl-C:\n%s", stderr.String())
	}
	if _, err := http.Get(url); err == nil {
		t.Fatal("Jaeger still answers after chorus dev stopped")
	}
	// nor does it leave its agent's runtime folder behind
	if dir := filepath.Join(os.TempDir(), fmt.Sprintf("chorus-dev-%d", cmd.Process.Pid)); fileExists(dir) {
		t.Fatalf("chorus dev left its agent's runtime folder %s", dir)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestDevJaegerPortTaken: when a Jaeger port is taken, dev says so and stops instead of carrying on
// without traces.
func TestDevJaegerPortTaken(t *testing.T) {
	demoRoot(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ui := portPair(t, -1)
	wantFail(t, nil, 1, fmt.Sprintf("cannot start Jaeger: %s (its OTLP/gRPC receiver) is taken", l.Addr()),
		"dev", "--jaeger", "--jaeger-otlp-addr", l.Addr().String(), "--jaeger-ui-addr", fmt.Sprintf("127.0.0.1:%d", ui),
		"--data-dir", t.TempDir(), "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
}
