// Package freeport finds free loopback ports for servers that tests start as separate processes.
package freeport

import (
	"net"
	"testing"
)

// Get returns a loopback port that was free a moment ago.
func Get(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("freeport: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
