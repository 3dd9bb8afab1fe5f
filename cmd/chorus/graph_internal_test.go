package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeGraphFile writes text into the file name of dir and returns its path.
func writeGraphFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGraphFileMistakes checks that each mistake in a graph file is refused as a usage error that
// names what is wrong, before anything is submitted.
func TestGraphFileMistakes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct{ name, yaml, want string }{
		{"no tasks", "inputs: {x: a}\n", "the graph file has no tasks"},
		{"a task without a name", "tasks: [{method: echo}]\n", "task #1 without a name"},
		{"a task without a method", "tasks: [{name: a}]\n", `task "a" has no method`},
		{"a name used twice", "inputs: {a: x}\ntasks: [{name: a, method: echo}]\n", `the name "a" is used twice`},
		{"an output named like another task", "tasks: [{name: a, method: echo, outputs: [b]}, {name: b, method: echo}]\n", `the name "b" is used twice`},
		{"an unknown dependency", "tasks: [{name: a, method: echo, depends: [nosuch]}]\n", `task "a" depends on "nosuch"`},
		{"a bad duration", "tasks: [{name: a, method: echo, max_duration: soon}]\n", `task "a": max_duration`},
		{"an unknown field", "tasks: [{name: a, method: echo, retries: 3}]\n", "field retries not found"},
	} {
		_, err := loadGraph(writeGraphFile(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml", tc.yaml))
		if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want a usage error saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := loadGraph(filepath.Join(dir, "absent.yaml")); err == nil || !strings.Contains(err.Error(), "reading the graph file") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestGraphFileNames checks how names resolve: a task's first output carries the task's name, inputs
// and payloads are read relative to the file, and a task may depend on one declared after it.
func TestGraphFileNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeGraphFile(t, dir, "in.txt", "from a file")
	b, err := loadGraph(writeGraphFile(t, dir, "g.yaml", `partition: py
inputs:
  text: plain
  file: {file: in.txt}
tasks:
  - {name: join, method: concat, depends: [split, left, text], partition: go}
  - {name: split, method: split, depends: [file], outputs: [left, right]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.tasks) != 2 || b.tasks[0].name != "join" || b.tasks[1].name != "split" {
		t.Fatalf("tasks %v, want join then split", b.tasks)
	}
	if b.ids["split"] != b.ids["left"] || b.ids["left"] == b.ids["right"] || b.ids["text"] == "" || b.ids["file"] == "" {
		t.Fatalf("ids %v: want split's name on its first output, left and right apart, both inputs named", b.ids)
	}
	if got := b.tasks[1].handle.Outputs(); len(got) != 2 || got[0] != b.ids["left"] || got[1] != b.ids["right"] {
		t.Errorf("split's outputs %v, want left's and right's ids", got)
	}
	if got := b.tasks[0].handle.Outputs(); len(got) != 1 || got[0] != b.ids["join"] {
		t.Errorf("join's outputs %v, want one, named join", got)
	}
	for _, name := range []string{"join", "split", "left", "right", "text", "file"} {
		if b.ids[name] == "" {
			t.Errorf("name %q has no result id", name)
		}
	}
}
