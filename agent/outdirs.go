package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// takeOutDir returns an empty output folder in the worker's private folder: a recycled one, or a
// new one.
func (pr *proc) takeOutDir() (string, error) {
	pr.mu.Lock()
	if n := len(pr.outDirs); n > 0 {
		d := pr.outDirs[n-1]
		pr.outDirs = pr.outDirs[:n-1]
		pr.mu.Unlock()
		return d, nil
	}
	pr.outSeq++
	d := filepath.Join(pr.dir, "out", strconv.Itoa(pr.outSeq))
	pr.mu.Unlock()
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("create an output folder for the worker: %w", err)
	}
	return d, nil
}

// putOutDir gives an output folder back after its task. It is recycled when the worker is done with
// it and it is empty (the common case: outputs travelled inline); otherwise it is removed.
func (pr *proc) putOutDir(d string, reuse bool) {
	if reuse && isEmptyDir(d) {
		pr.mu.Lock()
		if len(pr.outDirs) < 64 {
			pr.outDirs = append(pr.outDirs, d)
			pr.mu.Unlock()
			return
		}
		pr.mu.Unlock()
	}
	_ = os.RemoveAll(d)
}

func isEmptyDir(d string) bool {
	f, err := os.Open(d)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF)
}
