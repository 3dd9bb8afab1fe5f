package main

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chorus-hpc/chorus/sdks/go/client"
)

// graphFile is what `chorus submit --graph FILE` reads (YAML, or JSON, which is YAML too): inputs and
// tasks linked by names; the CLI makes the result ids and resolves the names.
//
//	partition: go                  # default partition of every task (else the session's)
//	inputs:                        # data uploaded before the tasks: name → text, or {file: path}
//	  greeting: hello
//	tasks:
//	  - name: a                    # unique among inputs, tasks and outputs
//	    method: sha256
//	    payload: hello             # text; or payload_file: path
//	  - name: both
//	    method: concat
//	    depends: [a, greeting]     # inputs, tasks (their first output) or named outputs
//	    outputs: [joined]          # names of its outputs (default: one, named after the task)
//	    max_retries: 0             # also partition, priority, max_duration ("30s"), options {k: v}
type graphFile struct {
	Partition string                `yaml:"partition"`
	Inputs    map[string]graphInput `yaml:"inputs"`
	Tasks     []graphTask           `yaml:"tasks"`
}

type graphInput struct {
	Text string `yaml:"text"`
	File string `yaml:"file"`
}

// UnmarshalYAML accepts an input as plain text or as {text: ...} / {file: path}.
func (in *graphInput) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		in.Text = n.Value
		return nil
	}
	type plain graphInput
	return n.Decode((*plain)(in))
}

type graphTask struct {
	Name        string            `yaml:"name"`
	Method      string            `yaml:"method"`
	Payload     string            `yaml:"payload"`
	PayloadFile string            `yaml:"payload_file"`
	Depends     []string          `yaml:"depends"`
	Outputs     []string          `yaml:"outputs"`
	Partition   string            `yaml:"partition"`
	Priority    *int32            `yaml:"priority"`
	MaxRetries  *int32            `yaml:"max_retries"`
	MaxDuration string            `yaml:"max_duration"`
	Options     map[string]string `yaml:"options"`
}

// namedTask is a task of a built graph with its name.
type namedTask struct {
	name   string
	handle *client.TaskHandle
}

// builtGraph is a graph file turned into a client graph: its tasks in file order, and every name's
// result id.
type builtGraph struct {
	graph *client.Graph
	tasks []namedTask
	ids   map[string]string
}

// loadGraph reads and checks a graph file; relative file paths in it are relative to the file.
// defaults are options of every task, before the file's own.
func loadGraph(path string, defaults ...client.TaskOption) (*builtGraph, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the graph file: %w", err)
	}
	var gf graphFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&gf); err != nil {
		return nil, fmt.Errorf("%w: graph file %s: %v", errUsage, path, err)
	}
	return gf.build(filepath.Dir(path), defaults)
}

func (gf *graphFile) build(dir string, defaults []client.TaskOption) (*builtGraph, error) {
	if len(gf.Tasks) == 0 {
		return nil, fmt.Errorf("%w: the graph file has no tasks", errUsage)
	}
	b := &graphBuilder{builtGraph: &builtGraph{graph: client.NewGraph(), ids: map[string]string{}}, dir: dir}
	if err := b.addInputs(gf.Inputs); err != nil {
		return nil, err
	}
	// Names first (a task may depend on one declared after it), then the tasks.
	outs, err := b.nameOutputs(gf.Tasks)
	if err != nil {
		return nil, err
	}
	for i, t := range gf.Tasks {
		if t.Partition == "" {
			t.Partition = gf.Partition
		}
		if err := b.addTask(t, outs[i], defaults); err != nil {
			return nil, err
		}
	}
	return b.builtGraph, nil
}

// graphBuilder builds a graph file's client graph, reading the files it names relative to dir.
type graphBuilder struct {
	*builtGraph
	dir string
}

func (b *graphBuilder) read(p string) ([]byte, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(b.dir, p)
	}
	return os.ReadFile(p)
}

// claim reserves name (of an input, a task or an output, as what says) or says why it cannot be.
func (b *graphBuilder) claim(name, what string) error {
	if name == "" {
		return fmt.Errorf("%w: graph file: %s without a name", errUsage, what)
	}
	if _, dup := b.ids[name]; dup {
		return fmt.Errorf("%w: graph file: the name %q is used twice", errUsage, name)
	}
	b.ids[name] = ""
	return nil
}

// addInputs adds the graph's inputs in the order of their names.
func (b *graphBuilder) addInputs(inputs map[string]graphInput) error {
	for _, name := range sortedKeys(inputs) {
		if err := b.claim(name, "an input"); err != nil {
			return err
		}
		in := inputs[name]
		data := []byte(in.Text)
		if in.File != "" {
			var err error
			if data, err = b.read(in.File); err != nil {
				return fmt.Errorf("graph file: input %q: %w", name, err)
			}
		}
		b.ids[name] = b.graph.Input(data)
	}
	return nil
}

// nameOutputs gives every task's outputs their result ids, and each task the id of its first output;
// it returns the ids of each task's outputs.
func (b *graphBuilder) nameOutputs(tasks []graphTask) ([][]string, error) {
	outs := make([][]string, len(tasks))
	for i, t := range tasks {
		if err := b.claim(t.Name, fmt.Sprintf("task #%d", i+1)); err != nil {
			return nil, err
		}
		if t.Method == "" {
			return nil, fmt.Errorf("%w: graph file: task %q has no method", errUsage, t.Name)
		}
		outNames := t.Outputs
		if len(outNames) == 0 {
			outNames = []string{t.Name}
		}
		for _, o := range outNames {
			id := client.NewID("out-")
			if o != t.Name {
				if err := b.claim(o, fmt.Sprintf("an output of task %q", t.Name)); err != nil {
					return nil, err
				}
			}
			b.ids[o] = id
			outs[i] = append(outs[i], id)
		}
		b.ids[t.Name] = outs[i][0]
	}
	return outs, nil
}

// addTask adds task t, whose outputs have the result ids outs, with the options of the file's defaults
// and its own.
func (b *graphBuilder) addTask(t graphTask, outs []string, defaults []client.TaskOption) error {
	payload := []byte(t.Payload)
	if t.PayloadFile != "" {
		var err error
		if payload, err = b.read(t.PayloadFile); err != nil {
			return fmt.Errorf("graph file: task %q: %w", t.Name, err)
		}
	}
	opts := append(append([]client.TaskOption{}, defaults...), client.Outputs(outs...))
	if len(t.Depends) > 0 {
		deps := make([]string, len(t.Depends))
		for j, d := range t.Depends {
			id, ok := b.ids[d]
			if !ok {
				return fmt.Errorf("%w: graph file: task %q depends on %q, which is no input, task or output of the graph (names: %s)",
					errUsage, t.Name, d, strings.Join(sortedKeys(b.ids), ", "))
			}
			deps[j] = id
		}
		opts = append(opts, client.DependsOn(deps...))
	}
	if t.Partition != "" {
		opts = append(opts, client.Partition(t.Partition))
	}
	if t.Priority != nil {
		opts = append(opts, client.Priority(*t.Priority))
	}
	if t.MaxRetries != nil {
		opts = append(opts, client.MaxRetries(*t.MaxRetries))
	}
	if t.MaxDuration != "" {
		d, err := time.ParseDuration(t.MaxDuration)
		if err != nil {
			return fmt.Errorf("%w: graph file: task %q: max_duration: %v", errUsage, t.Name, err)
		}
		opts = append(opts, client.MaxDuration(d))
	}
	for k, v := range t.Options {
		opts = append(opts, client.Option(k, v))
	}
	b.tasks = append(b.tasks, namedTask{name: t.Name, handle: b.graph.Task(t.Method, payload, opts...)})
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
