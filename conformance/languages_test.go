package conformance_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/chorus-hpc/chorus/agent"
)

// requireAllEnv, set to 1, makes a language whose example worker is not built a failure instead of a
// skip (make test-conformance sets it after building every worker).
const requireAllEnv = "CHORUS_CONFORMANCE"

// language is one example worker the suite runs: how the agent starts it.
type language struct {
	// Name is the language and the name of its partition.
	Name string
	// worker returns the command and arguments of the example worker, or an error naming what to
	// build when it is missing.
	worker func(root string) (cmd string, args []string, err error)
	// Transport is the agent ⇄ worker transport ("grpc" or "stdio").
	Transport string
	// NeedsBuild is false for Go, whose worker the suite builds itself.
	NeedsBuild bool
}

// languages are the example workers, in the order they are reported.
var languages = []language{
	{Name: "go", Transport: "grpc", worker: func(string) (string, []string, error) {
		if goWorkerErr != nil {
			return "", nil, goWorkerErr
		}
		return goWorker, nil, nil
	}},
	{Name: "python", Transport: "grpc", NeedsBuild: true, worker: func(root string) (string, []string, error) {
		py := filepath.Join(root, ".venv", "bin", "python")
		script := filepath.Join(root, "workers", "python", "worker.py")
		if err := needFile(py, "make python-venv"); err != nil {
			return "", nil, err
		}
		if out, err := exec.Command(py, "-c", "import chorus.worker").CombinedOutput(); err != nil {
			return "", nil, fmt.Errorf("%s cannot import chorus.worker (run `make python-venv`): %v\n%s", py, err, out)
		}
		return py, []string{script}, needFile(script, "a checkout with workers/python")
	}},
	{Name: "cpp", Transport: "grpc", NeedsBuild: true, worker: func(root string) (string, []string, error) {
		bin := filepath.Join(root, "workers", "cpp", "build", "chorus-worker-cpp")
		return bin, nil, needFile(bin, "make cpp-build")
	}},
	{Name: "csharp", Transport: "stdio", NeedsBuild: true, worker: func(root string) (string, []string, error) {
		exe := filepath.Join(root, "workers", "csharp", "build", "chorus-worker-csharp.exe")
		if err := needFile(exe, "make csharp-build"); err != nil {
			return "", nil, err
		}
		mono, err := exec.LookPath("mono")
		if err != nil {
			return "", nil, fmt.Errorf("mono is not installed (run `make csharp-build`, which installs it): %w", err)
		}
		return mono, []string{exe}, nil
	}},
}

func needFile(p, how string) error {
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return fmt.Errorf("%s is missing: run `%s`", p, how)
	}
	return nil
}

// partition returns the agent partition serving this language with one worker process at capacity.
func (l language) partition(root, dir string, capacity int) (agent.PartitionConfig, error) {
	cmd, args, err := l.worker(root)
	if err != nil {
		return agent.PartitionConfig{}, err
	}
	return agent.PartitionConfig{Name: l.Name, Command: cmd, Args: args, Processes: 1, Capacity: capacity,
		Transport: l.Transport, Dir: dir}, nil
}
