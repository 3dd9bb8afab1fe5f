package conformance_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// goWorker is the Go example worker built by TestMain (goWorkerErr says why it could not be).
var (
	goWorker    string
	goWorkerErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chorus-conformance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance: create a temp folder:", err)
		os.Exit(1)
	}
	goWorker = filepath.Join(dir, "chorus-worker-go")
	if out, err := exec.Command("go", "build", "-o", goWorker, "github.com/chorus-hpc/chorus/workers/go").CombinedOutput(); err != nil {
		goWorkerErr = fmt.Errorf("building the Go example worker (go build ./workers/go) failed: %v\n%s", err, out)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}
