package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// outDir is an output folder with a handle open on it, so that checking it is still empty after a
// task costs two system calls (seek, read entries) instead of an open, a read and a close.
type outDir struct {
	path string
	h    dirHandle
}

// takeOutDir returns an empty output folder in the worker's private folder: a recycled one, or a
// new one.
func (pr *proc) takeOutDir() (string, error) {
	pr.mu.Lock()
	if n := len(pr.outDirs); n > 0 {
		d := pr.outDirs[n-1]
		pr.outDirs = pr.outDirs[:n-1]
		pr.outBusy[d.path] = d
		pr.mu.Unlock()
		return d.path, nil
	}
	pr.outSeq++
	path := filepath.Join(pr.dir, "out", strconv.Itoa(pr.outSeq))
	pr.mu.Unlock()
	if err := os.MkdirAll(path, 0o700); err != nil {
		return "", fmt.Errorf("create an output folder for the worker: %w", err)
	}
	d := outDir{path: path, h: openDir(path)}
	pr.outWatch().add(path)
	pr.mu.Lock()
	pr.outBusy[path] = d
	pr.mu.Unlock()
	return path, nil
}

// outWatch is the agent's watch of output folders (nil when the agent does not run).
func (pr *proc) outWatch() *outWatch {
	if pr.p == nil || pr.p.a == nil {
		return nil
	}
	return pr.p.a.outWatch
}

// putOutDir gives an output folder back after its task. It is recycled when the worker is done with
// it and it is empty (the common case: outputs travelled inline); otherwise it is removed. stamp is
// the watch's stamp of the task's outcome (0: the folder was not handed to a worker).
func (pr *proc) putOutDir(path string, reuse bool, stamp uint64) {
	pr.mu.Lock()
	d, ok := pr.outBusy[path]
	delete(pr.outBusy, path)
	pr.mu.Unlock()
	if !ok {
		d = outDir{path: path, h: noDirHandle}
	}
	if reuse && pr.outEmpty(d, stamp) {
		pr.mu.Lock()
		if len(pr.outDirs) < pr.outKeepLocked() && !pr.outClosed {
			pr.outDirs = append(pr.outDirs, d)
			pr.mu.Unlock()
			return
		}
		pr.mu.Unlock()
	}
	d.h.close()
	pr.outWatch().forget(path)
	_ = os.RemoveAll(path)
}

// outEmpty reports whether output folder d is empty: by the watch when it can tell (no system
// call), else by reading the folder.
func (pr *proc) outEmpty(d outDir, stamp uint64) bool {
	w := pr.outWatch()
	if w.empty(d.path, stamp) {
		return true
	}
	if !d.h.empty(d.path) {
		return false
	}
	w.reset(d.path)
	return true
}

// outKeepLocked is how many output folders the worker keeps, in use or empty in the pool: as many as
// tasks it may hold at once (its capacity, as announced or configured, plus its prefetch), and at
// least minOutKeep.
func (pr *proc) outKeepLocked() int {
	if pr.p == nil {
		return minOutKeep
	}
	return max(minOutKeep, max(pr.capacity, pr.p.cfg.Capacity)+pr.prefetchLocked())
}

const minOutKeep = 64

// outDirsMadeLocked reports whether the worker has the output folders it may need at once.
func (pr *proc) outDirsMadeLocked() bool {
	return len(pr.outDirs)+len(pr.outBusy) >= pr.outKeepLocked()
}

// fillOutDirs creates empty output folders in the background until the worker has outKeepLocked of
// them (one runs at a time; it stops when the agent stops). A mkdir costs hundreds of microseconds on
// some file systems: a first wave of thousands of tasks paid them one after the other on the way to
// the workers (2,000 slots took a second to fill), and a pool smaller than the worker's slots paid a
// mkdir and a removal for every task.
func (pr *proc) fillOutDirs() {
	pr.mu.Lock()
	if pr.filling || pr.outClosed {
		pr.mu.Unlock()
		return
	}
	pr.filling = true
	pr.fillWG.Add(1)
	pr.mu.Unlock()
	go func() {
		defer pr.fillWG.Done()
		for {
			pr.mu.Lock()
			if pr.outClosed || pr.outDirsMadeLocked() {
				pr.filling = false
				pr.mu.Unlock()
				return
			}
			pr.outSeq++
			path := filepath.Join(pr.dir, "out", strconv.Itoa(pr.outSeq))
			pr.mu.Unlock()
			err := os.MkdirAll(path, 0o700)
			d := outDir{path: path, h: openDir(path)}
			if err == nil {
				pr.outWatch().add(path)
			}
			pr.mu.Lock()
			if err != nil || pr.outClosed {
				// takeOutDir reports a folder that cannot be made, when a task needs one
				pr.filling = false
				pr.mu.Unlock()
				d.h.close()
				pr.outWatch().forget(path)
				_ = os.RemoveAll(path)
				return
			}
			pr.outDirs = append(pr.outDirs, d)
			pr.mu.Unlock()
		}
	}()
}

// closeOutDirs closes the handles of the slot's output folders when the agent stops (after the
// background filler stopped); folders given back later are removed, not kept.
func (pr *proc) closeOutDirs() {
	pr.mu.Lock()
	pr.outClosed = true
	pr.mu.Unlock()
	pr.fillWG.Wait()
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for _, d := range pr.outDirs {
		d.h.close()
	}
	pr.outDirs = nil
}

// isEmptyDir reports whether the folder at path has no entry.
func isEmptyDir(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF)
}
