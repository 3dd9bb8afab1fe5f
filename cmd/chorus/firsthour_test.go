package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestCLIFirstHour checks what a new user meets first: clear errors with one prefix, a short hint for
// a mistyped flag, partitions checked at session creation, stable JSON, graphs from a file, and a
// progress line that is drawn before the first task ends.
func TestCLIFirstHour(t *testing.T) {
	d := startDev(t, t.TempDir())

	// Partitions are checked when a session is created.
	wantFail(t, d, 1, `partition "nosuch" is unknown; known partitions: go`, "session", "create", "--partition", "nosuch")

	// A mistyped flag: one line with the closest flag, not the whole usage.
	_, errs, code := chorus(t, d, "session", "create", "--partiton", "go")
	if code != 2 || strings.TrimSpace(errs) != "chorus session: unknown flag --partiton: did you mean --partition? ('chorus session create --help' lists the flags)" {
		t.Fatalf("mistyped flag: exit %d, stderr %q", code, errs)
	}

	// Stable JSON: the layout encoding/json gives (protojson's spacing varies between builds).
	out := mustChorus(t, d, "session", "create", "--partition", "go", "--output", "json")
	var canon bytes.Buffer
	if err := json.Indent(&canon, []byte(compact(t, out)), "", "  "); err != nil {
		t.Fatal(err)
	}
	if out != canon.String()+"\n" {
		t.Fatalf("session create --output json is not in the stable layout:\n%s", out)
	}
	sid := jsonField(t, out, "sessionId")

	// One error prefix: the command, then what failed, no "chorus:" stutter.
	closed := jsonField(t, mustChorus(t, d, "session", "create", "--partition", "go", "--output", "json"), "sessionId")
	mustChorus(t, d, "session", "close", closed)
	_, errs, code = chorus(t, d, "submit", "--session", closed, "--method", "echo")
	if code != 1 || !strings.HasPrefix(errs, "chorus submit: submit tasks: ") || strings.Contains(errs, "chorus: ") {
		t.Fatalf("error of a submit into a closed session: exit %d, %q", code, errs)
	}

	// A graph from a YAML file: inputs and tasks linked by names, ids made by the CLI.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "part.txt"), []byte("from a file"), 0o644)
	yamlGraph := filepath.Join(dir, "graph.yaml")
	os.WriteFile(yamlGraph, []byte(`
inputs:
  greeting: hello
  part: {file: part.txt}
tasks:
  - name: joined
    method: concat
    depends: [hashed, greeting, part]
  - name: hashed
    method: sha256
    payload: hello
  - name: echoed
    method: echo
    payload: as is
    outputs: [copy]
`), 0o644)
	lines := strings.Split(strings.TrimSpace(mustChorus(t, d, "submit", "--session", sid, "--graph", yamlGraph, "--wait", "--output", "json")), "\n")
	got := map[string]string{}
	for _, l := range lines {
		var r struct{ Name, Status, Output string }
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Status != "completed" {
			t.Fatalf("graph result %q: %v", l, err)
		}
		got[r.Name] = r.Output
	}
	const helloHash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if got["hashed"] != helloHash || got["joined"] != helloHash+"hellofrom a file" || got["echoed"] != "as is" || len(got) != 3 {
		t.Fatalf("graph outputs = %q", got)
	}
	// The same format in JSON; a name that is nowhere is refused before anything is sent.
	jsonGraph := filepath.Join(dir, "graph.json")
	os.WriteFile(jsonGraph, []byte(`{"tasks": [{"name": "a", "method": "echo", "payload": "x"}, {"name": "b", "method": "concat", "depends": ["a", "c"]}, {"name": "c", "method": "echo", "payload": "y"}]}`), 0o644)
	if out := mustChorus(t, d, "submit", "--session", sid, "--graph", jsonGraph, "--wait"); !strings.Contains(out, "b     completed  xy") {
		t.Fatalf("JSON graph: %s", out)
	}
	os.WriteFile(jsonGraph, []byte(`{"tasks": [{"name": "a", "method": "echo", "depends": ["nosuch"]}]}`), 0o644)
	wantFail(t, d, 2, `task "a" depends on "nosuch", which is no input, task or output of the graph (names: a)`, "submit", "--session", sid, "--graph", jsonGraph)

	// The progress line is drawn at once (0/3 before any task ends), then on a timer, and ends at 3/3.
	_, errs, code = chorus(t, d, "submit", "--session", sid, "--method", "sleep", "--payload", "300", "--count", "3", "--wait", "--progress", "always")
	frames := strings.Split(errs, "\r")
	if code != 0 || !strings.Contains(frames[1], " 0/3 ") || !strings.Contains(errs, " 3/3 ") || !strings.Contains(errs, "completed 3  failed 0") {
		t.Fatalf("progress: exit %d, stderr %q", code, errs)
	}

	// dev --help: --jaeger is a switch, shown without an argument name.
	_, errs, _ = chorus(t, nil, "dev", "--help")
	if !strings.Contains(errs, "\n  -jaeger\n") {
		t.Fatalf("dev --help shows --jaeger as taking an argument:\n%s", errs)
	}
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return b.String()
}

// TestProgressLine renders the progress line at fixed times: counts by status, rate and ETA.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{label: "tasks", total: 40, start: start}
	if got := p.line(start); !strings.Contains(got, " 0/40 ") || !strings.Contains(got, "completed 0  failed 0  0.0/s  ETA -") {
		t.Fatalf("before any task ended: %q", got)
	}
	p.add(10, 2)
	p.session = &chorusv1.TaskCounts{Pending: 5, Queued: 20, Running: 3, Dispatched: 2}
	got := p.line(start.Add(5 * time.Second))
	for _, want := range []string{" 10/40 ", "pending 5  queued 20  running 5", "completed 8  failed 2", "2.0/s", "ETA 15s", "(5s)"} {
		if !strings.Contains(got, want) {
			t.Fatalf("line %q lacks %q", got, want)
		}
	}
	p.set(40, 40)
	if got := p.line(start.Add(20 * time.Second)); !strings.Contains(got, "ETA 0s") || !strings.Contains(got, "["+strings.Repeat("█", 24)+"]") {
		t.Fatalf("at the end: %q", got)
	}
}
