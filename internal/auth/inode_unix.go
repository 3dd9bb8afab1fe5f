//go:build unix

package auth

import (
	"os"
	"syscall"
)

// inode tells apart a file replaced by rename (Kubernetes secret volumes swap a symlinked folder).
func inode(st os.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Ino)
	}
	return 0
}
