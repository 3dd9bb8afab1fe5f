package valkeystore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valkey-io/valkey-go"
)

// fnlib is the function library of the hot scripts. An EVALSHA of a session script runs lib.lua's
// definitions (about 700 lines) before its body on every call: about 12 µs of Valkey's time per
// call on a quiet server and twice that under load, paid by every claim and every batch of
// outcomes. FUNCTION LOAD runs them once per server; an FCALL then runs begin(), the body and
// flush().
//
// The library is named after its source (chorus_<16 hex digits of its SHA-1>, and so are its
// functions), so processes of two versions of Chorus each call their own during a rolling upgrade.
// A library is loaded by the first call that finds it missing, on every node of a cluster (a
// replica gets it from its primary), unless the store may not load it (Config.NoFunctionLoad). A
// server that refuses FCALL or FUNCTION LOAD (a Valkey user whose ACL predates them,
// docs/security.md; a server without functions), or lacks the library where the store may not load
// it, is called with EVALSHA, and asked again after fnRetry. Scripts that are not in the library
// are always called with EVALSHA: they are rare, and some (purge, cancel) must run when the server
// is out of memory, which a function without flags may not.
type fnlib struct {
	name string
	src  string
	fn   map[*valkey.Lua]string
	now  func() time.Time
	// canLoad: the store loads the library itself when it is missing.
	canLoad bool
	// off is when FCALL may be tried again (Unix ns; 0: in use).
	off atomic.Int64
}

// fnRetry is how long a store calls the library's scripts with EVALSHA after the server refused
// FCALL or FUNCTION LOAD.
const fnRetry = 30 * time.Second

// fnScript is a script of the library: its EVAL form, its name and its body (without lib.lua).
type fnScript struct {
	l    *valkey.Lua
	name string
	body string
}

// newFnlib builds the library from lib (lib.lua with its prelude, KEYS and ARGV declared as locals
// that each call sets) and the scripts' bodies.
func newFnlib(lib string, now func() time.Time, canLoad bool, scripts []fnScript) *fnlib {
	var b strings.Builder
	b.WriteString(lib)
	for _, s := range scripts {
		fmt.Fprintf(&b, "\nlocal function main_%s()\n%s\nend\n", s.name, s.body)
	}
	b.WriteString(`
local function run(main, keys, args)
  KEYS, ARGV = keys, args
  begin()
  local reply = main()
  flush()
  return reply
end
`)
	sum := sha1.Sum([]byte(b.String()))
	name := "chorus_" + hex.EncodeToString(sum[:8])
	f := &fnlib{name: name, fn: map[*valkey.Lua]string{}, now: now, canLoad: canLoad}
	for _, s := range scripts {
		fn := name + "_" + s.name
		f.fn[s.l] = fn
		fmt.Fprintf(&b, "redis.register_function('%s', function(keys, args) return run(main_%s, keys, args) end)\n", fn, s.name)
	}
	f.src = "#!lua name=" + name + "\n" + b.String()
	return f
}

// function is the FCALL name of script l, or "" when l is not in the library or FCALL is off.
func (f *fnlib) function(l *valkey.Lua) string {
	if off := f.off.Load(); off != 0 {
		if f.now().UnixNano() < off {
			return ""
		}
		f.off.CompareAndSwap(off, 0)
	}
	return f.fn[l]
}

// refused turns FCALL off for fnRetry.
func (f *fnlib) refused() {
	f.off.Store(f.now().Add(fnRetry).UnixNano())
}

// load loads the library on every node of c (it is there already on a node that answers that it
// exists). It turns FCALL off when a node refuses (see fnRefused) or fails to load it, or when the
// store may not load it.
func (f *fnlib) load(ctx context.Context, c valkey.Client) error {
	if !f.canLoad {
		f.refused()
		return fmt.Errorf("valkeystore: function library %s is not loaded, and this store leaves loading it to gateways", f.name)
	}
	for addr, n := range c.Nodes() {
		err := n.Do(ctx, n.B().FunctionLoad().FunctionCode(f.src).Build()).Error()
		switch {
		case err == nil, strings.Contains(err.Error(), "already exists"):
		case strings.HasPrefix(err.Error(), "READONLY"):
			// a replica: its primary replicates the library to it
		default:
			f.refused()
			return fmt.Errorf("valkeystore: loading function library %s on %s: %w", f.name, addr, err)
		}
	}
	return nil
}

// fnMissing reports whether err says the server has no such function (a new server or node, a
// flushed library).
func fnMissing(err error) bool {
	return strings.HasPrefix(strings.TrimPrefix(err.Error(), "ERR "), "Function not found")
}

// fnRefused reports whether err says the server will not run FCALL (an ACL without it, a server
// without functions).
func fnRefused(err error) bool {
	msg := strings.TrimPrefix(err.Error(), "ERR ")
	return strings.HasPrefix(msg, "NOPERM") || strings.HasPrefix(msg, "unknown command")
}
