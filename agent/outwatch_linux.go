//go:build linux

package agent

import (
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// outWatch tells whether an output folder is still empty without reading it: one inotify
// descriptor watches every output folder of the agent for new entries, and one read of it, made
// once for all the outcomes that arrived before it, says which folders got one. Checking each
// folder after its task cost two system calls per task (rewind, read entries); on zero-work tasks
// that was a fifth of the agent's CPU.
//
// A worker writes its output files before it reports the outcome, and the kernel queues the
// inotify event of an entry before the call that makes it returns: a read started after the outcome
// arrived sees the events of every entry the task made. An entry made and removed again still marks
// the folder (it is then read, as without a watch); a folder with no watch (inotify unavailable,
// its limit reached) or a queue that overflowed is read too.
type outWatch struct {
	fd  int // -1: no watching; every folder is read
	seq atomic.Uint64

	mu      sync.Mutex
	drained uint64           // seq when the last complete read of the descriptor started
	wds     map[int32]string // watch → folder
	watched map[string]int32 // folder → watch
	dirty   map[string]bool  // folders that got an entry since they were last known empty
}

func newOutWatch() *outWatch {
	w := &outWatch{fd: -1, wds: map[int32]string{}, watched: map[string]int32{}, dirty: map[string]bool{}}
	if fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC); err == nil {
		w.fd = fd
	}
	return w
}

// watchMask is every way an entry appears in a folder: created (files, folders, links, nodes) or
// moved in.
const watchMask = syscall.IN_CREATE | syscall.IN_MOVED_TO | syscall.IN_ONLYDIR

// add watches folder path, known to be empty. A nil watch watches nothing.
func (w *outWatch) add(path string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fd < 0 {
		return
	}
	wd, err := syscall.InotifyAddWatch(w.fd, path, watchMask)
	if err != nil {
		return // read it after each task instead
	}
	w.wds[int32(wd)] = path
	w.watched[path] = int32(wd)
	delete(w.dirty, path)
}

// stamp is taken when a worker reports an outcome: the folder of the task is judged by a read of the
// descriptor that starts after it (empty(path, stamp)).
func (w *outWatch) stamp() uint64 {
	if w == nil {
		return 0
	}
	return w.seq.Add(1)
}

// empty reports whether the watched folder path got no entry since it was last known empty, as
// of an outcome stamped st; false when it cannot tell (then read the folder, and reset it if empty).
func (w *outWatch) empty(path string, st uint64) bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.watched[path]; !ok || w.fd < 0 {
		return false
	}
	if w.drained < st && !w.drainLocked() {
		return false
	}
	return !w.dirty[path]
}

// reset records that folder path was read and found empty.
func (w *outWatch) reset(path string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	delete(w.dirty, path)
	w.mu.Unlock()
}

// forget stops watching folder path (it is being removed).
func (w *outWatch) forget(path string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	wd, ok := w.watched[path]
	if !ok || w.fd < 0 {
		return
	}
	_, _ = syscall.InotifyRmWatch(w.fd, uint32(wd))
	delete(w.watched, path)
	delete(w.wds, wd)
	delete(w.dirty, path)
}

// maxDrainReads bounds one drain: 64 reads of 8 KiB hold the whole kernel queue (16,384 events by
// default) many times over.
const maxDrainReads = 64

// drainLocked reads every queued event (w.mu held) and reports whether it could.
func (w *outWatch) drainLocked() bool {
	upTo := w.seq.Load() // before the read: the outcomes stamped so far are covered by it
	var buf [8192]byte
	for reads := 0; ; reads++ {
		if reads == maxDrainReads {
			// entries keep coming (a worker writing on and on): stop reading, judge by reading folders
			for path := range w.watched {
				w.dirty[path] = true
			}
			break
		}
		n, err := syscall.Read(w.fd, buf[:])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != nil || n <= 0 {
			return false
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			switch {
			case ev.Mask&syscall.IN_Q_OVERFLOW != 0:
				for path := range w.watched {
					w.dirty[path] = true
				}
			case ev.Mask&syscall.IN_IGNORED != 0:
				if path, ok := w.wds[ev.Wd]; ok {
					delete(w.wds, ev.Wd)
					delete(w.watched, path)
					delete(w.dirty, path)
				}
			default:
				if path, ok := w.wds[ev.Wd]; ok {
					w.dirty[path] = true
				}
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
	w.drained = upTo
	return true
}

// close stops watching: every folder is read from then on.
func (w *outWatch) close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fd >= 0 {
		_ = syscall.Close(w.fd)
		w.fd = -1
	}
}
