package store

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"time"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewID returns a new id: 6 bytes of milliseconds then 9 random bytes, in lowercase base32 (24
// characters), so ids sort roughly by creation time and never collide in practice.
func NewID() string {
	var b [15]byte
	ms := uint64(time.Now().UnixMilli())
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], ms)
	copy(b[:6], t[2:])
	_, _ = rand.Read(b[6:])
	return idEncoding.EncodeToString(b[:])
}

// NewTaskID returns a new task id ("t" + NewID()).
func NewTaskID() string { return "t" + NewID() }

// NewResultID returns a new result id ("r" + NewID()).
func NewResultID() string { return "r" + NewID() }

// NewSessionID returns a new session id ("s" + NewID()).
func NewSessionID() string { return "s" + NewID() }
