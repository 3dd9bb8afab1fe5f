//go:build unix

package agent

import "syscall"

// dirHandle is an open directory (a file descriptor), or noDirHandle.
type dirHandle int

const noDirHandle dirHandle = -1

func openDir(path string) dirHandle {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return noDirHandle
	}
	return dirHandle(fd)
}

// empty reports whether the directory has no entry but "." and "..": it rewinds the handle and
// reads the first entries (without a handle, it opens path).
func (h dirHandle) empty(path string) bool {
	if h == noDirHandle {
		return isEmptyDir(path)
	}
	if _, err := syscall.Seek(int(h), 0, 0); err != nil {
		return false
	}
	var buf [1024]byte
	n, err := syscall.ReadDirent(int(h), buf[:])
	if err != nil {
		return false
	}
	_, count, _ := syscall.ParseDirent(buf[:n], 1, nil) // skips "." and ".."
	if count > 0 {
		return false
	}
	if len(buf)-n >= maxDirent {
		return true // the read had room for another entry: there is none
	}
	n, err = syscall.ReadDirent(int(h), buf[:])
	if err != nil {
		return false
	}
	_, count, _ = syscall.ParseDirent(buf[:n], 1, nil)
	return count == 0
}

// maxDirent is the size of the largest directory entry a read returns (a 255-byte name).
const maxDirent = 19 + 256 + 8

func (h dirHandle) close() {
	if h != noDirHandle {
		_ = syscall.Close(int(h))
	}
}
