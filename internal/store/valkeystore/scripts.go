package valkeystore

import (
	"context"
	"crypto/sha1"
	"embed"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/valkey-io/valkey-go"
)

//go:embed lua/*.lua
var luaFS embed.FS

// scripts are the Lua scripts, each loaded once per server and called by SHA (EVALSHA, falling back
// to EVAL when the server does not know it yet). The hot ones (submit, claim, outcomes, renew) are
// also a function library, called with FCALL while the server has it (see fnlib).
type scripts struct {
	sessionCreate, sessionStatus, resultsCreate, resultComplete, submit, claim,
	renew, outcomes, release, expire, cancelTasks, purge, readyAdd, tenantReserve, releaseRunning *valkey.Lua
	// reconciler, dead agents and bounded cancel/purge (reconcile.go, deadagents.go, chunks.go)
	reconcile, pcount, releaseAgent, cancelChunk, purgeScan *valkey.Lua
	// names maps each script to its file name without ".lua", for spans.
	names map[*valkey.Lua]string
	// sha maps each script to the SHA-1 of its source (the EVALSHA name).
	sha map[*valkey.Lua]string
	// lib is the function library of the hot scripts.
	lib *fnlib
}

// loadScripts reads the scripts for a store whose key prefix is prefixLen bytes long (lib.lua needs it to
// take the session id out of a session key); now tells the time (see fnlib.off) and canLoad whether
// the store loads the function library itself.
func loadScripts(prefixLen int, now func() time.Time, canLoad bool) (*scripts, error) {
	lib, err := luaFS.ReadFile("lua/lib.lua")
	if err != nil {
		return nil, fmt.Errorf("valkeystore: reading embedded lua/lib.lua: %w", err)
	}
	graph, err := luaFS.ReadFile("lua/lib_graph.lua")
	if err != nil {
		return nil, fmt.Errorf("valkeystore: reading embedded lua/lib_graph.lua: %w", err)
	}
	lib = append(append(lib, '\n'), graph...)
	prelude := fmt.Sprintf("local PREFIXLEN = %d\n", prefixLen)
	shas := map[*valkey.Lua]string{}
	bodies := map[*valkey.Lua]string{}
	load := func(name string, withLib bool) (*valkey.Lua, error) {
		b, err := luaFS.ReadFile("lua/" + name)
		if err != nil {
			return nil, fmt.Errorf("valkeystore: reading embedded lua/%s: %w", name, err)
		}
		src := string(b)
		if withLib {
			// The body runs as a function so that flush() (lib.lua) writes the grouped counter
			// changes and events after it, whatever branch it returns from.
			src = prelude + "local KEYS, ARGV = KEYS, ARGV\n" + string(lib) + "\nlocal function main()\n" + src +
				"\nend\nbegin()\nlocal reply = main()\nflush()\nreturn reply\n"
		}
		l := valkey.NewLuaScript(src)
		sum := sha1.Sum([]byte(src))
		shas[l] = hex.EncodeToString(sum[:])
		bodies[l] = string(b)
		return l, nil
	}
	s := &scripts{names: map[*valkey.Lua]string{}, sha: shas}
	for _, e := range []struct {
		dst  **valkey.Lua
		name string
		lib  bool
	}{
		{&s.sessionCreate, "session_create.lua", true},
		{&s.sessionStatus, "session_status.lua", true},
		{&s.resultsCreate, "results_create.lua", true},
		{&s.resultComplete, "result_complete.lua", true},
		{&s.submit, "submit.lua", true},
		{&s.claim, "claim.lua", true},
		{&s.renew, "renew.lua", true},
		{&s.outcomes, "outcomes.lua", true},
		{&s.release, "release.lua", true},
		{&s.releaseRunning, "release_running.lua", true},
		{&s.releaseAgent, "release_agent.lua", true},
		{&s.expire, "expire.lua", true},
		{&s.cancelTasks, "cancel_tasks.lua", true},
		{&s.purge, "purge.lua", true},
		{&s.readyAdd, "ready_add.lua", false},
		{&s.tenantReserve, "tenant_reserve.lua", false},
		{&s.reconcile, "reconcile.lua", true},
		{&s.pcount, "pcount.lua", false},
		{&s.cancelChunk, "cancel_chunk.lua", true},
		{&s.purgeScan, "purge_scan.lua", true},
	} {
		l, err := load(e.name, e.lib)
		if err != nil {
			return nil, err
		}
		*e.dst = l
		s.names[l] = strings.TrimSuffix(e.name, ".lua")
	}
	s.lib = newFnlib(prelude+"local KEYS, ARGV\n"+string(lib), now, canLoad, []fnScript{
		{s.submit, "submit", bodies[s.submit]},
		{s.claim, "claim", bodies[s.claim]},
		{s.outcomes, "outcomes", bodies[s.outcomes]},
		{s.renew, "renew", bodies[s.renew]},
	})
	return s, nil
}

// execMulti runs one script once per exec in one round trip (EVALSHA pipelined; an exec the server
// answers NOSCRIPT, after a restart or on a new cluster node, is run again with the script's source).
// valkey-go's Lua.ExecMulti loads the script on every node at every call, which costs more than the
// scripts themselves on the hot path.
func (s *scripts) execMulti(ctx context.Context, c valkey.Client, l *valkey.Lua, execs []valkey.LuaExec) []valkey.ValkeyResult {
	var p pipeline
	for _, e := range execs {
		s.call(&p, c, l, e.Keys, e.Args)
	}
	return s.do(ctx, c, &p)
}

// pipeline is the commands of one round trip, script calls among them.
type pipeline struct {
	cmds valkey.Commands
	// calls are the script calls by index in cmds, run again with their source on NOSCRIPT.
	calls map[int]scriptCall
	// rerun are the indexes of the script calls do ran again, after the rest of the pipeline.
	rerun map[int]bool
}

type scriptCall struct {
	l          *valkey.Lua
	keys, args []string
	// fcall: the call is an FCALL of the library (else an EVALSHA).
	fcall bool
}

// add appends a command and returns its index in the results.
func (p *pipeline) add(cmd valkey.Completed) int {
	p.cmds = append(p.cmds, cmd)
	return len(p.cmds) - 1
}

// append appends the commands of q.
func (p *pipeline) append(q *pipeline) {
	off := len(p.cmds)
	p.cmds = append(p.cmds, q.cmds...)
	for i, sc := range q.calls {
		if p.calls == nil {
			p.calls = map[int]scriptCall{}
		}
		p.calls[off+i] = sc
	}
}

// call appends a script call (FCALL for a script of the library while the server takes it, else
// EVALSHA) and returns its index in the results.
func (s *scripts) call(p *pipeline, c valkey.Client, l *valkey.Lua, keys, args []string) int {
	sc := scriptCall{l: l, keys: keys, args: args}
	var cmd valkey.Completed
	if fn := s.lib.function(l); fn != "" {
		sc.fcall = true
		cmd = fcallCmd(c, fn, keys, args)
	} else {
		cmd = c.B().Evalsha().Sha1(s.sha[l]).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build()
	}
	i := p.add(cmd)
	if p.calls == nil {
		p.calls = map[int]scriptCall{}
	}
	p.calls[i] = sc
	return i
}

// fcallCmd is FCALL of function fn.
func fcallCmd(c valkey.Client, fn string, keys, args []string) valkey.Completed {
	return c.B().Fcall().Function(fn).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build()
}

// operation is the command that calls script l: FCALL or EVALSHA (for spans).
func (s *scripts) operation(l *valkey.Lua) string {
	if s.lib.function(l) != "" {
		return "FCALL"
	}
	return "EVALSHA"
}

// do sends the pipeline in one round trip (valkey-go keeps the order of the commands of each slot)
// and runs again a script call the server did not know: an EVALSHA with the script's source, an
// FCALL after loading the library (or, when the library cannot be loaded or called, as EVALSHA).
func (s *scripts) do(ctx context.Context, c valkey.Client, p *pipeline) []valkey.ValkeyResult {
	if len(p.cmds) == 0 {
		return nil
	}
	res := c.DoMulti(ctx, p.cmds...)
	tried, loaded := false, false
	for i, r := range res {
		err := r.Error()
		if err == nil {
			continue
		}
		sc, ok := p.calls[i]
		if !ok {
			continue
		}
		switch {
		case !sc.fcall && strings.HasPrefix(err.Error(), "NOSCRIPT"):
			res[i] = sc.l.Exec(ctx, c, sc.keys, sc.args)
		case sc.fcall && fnMissing(err):
			if !tried {
				tried, loaded = true, s.lib.load(ctx, c) == nil
			}
			if fn := s.lib.function(sc.l); loaded && fn != "" {
				res[i] = c.Do(ctx, fcallCmd(c, fn, sc.keys, sc.args))
			} else {
				res[i] = sc.l.Exec(ctx, c, sc.keys, sc.args)
			}
		case sc.fcall && fnRefused(err):
			s.lib.refused()
			res[i] = sc.l.Exec(ctx, c, sc.keys, sc.args)
		default:
			continue
		}
		if p.rerun == nil {
			p.rerun = map[int]bool{}
		}
		p.rerun[i] = true
	}
	return res
}
