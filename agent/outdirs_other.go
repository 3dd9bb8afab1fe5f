//go:build !unix

package agent

// dirHandle is unused where there is no directory handle to rewind: the folder is opened each time.
type dirHandle int

const noDirHandle dirHandle = -1

func openDir(string) dirHandle { return noDirHandle }

func (dirHandle) empty(path string) bool { return isEmptyDir(path) }

func (dirHandle) close() {}
