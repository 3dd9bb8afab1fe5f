package valkeystore

import (
	"embed"
	"fmt"
	"strings"

	"github.com/valkey-io/valkey-go"
)

//go:embed lua/*.lua
var luaFS embed.FS

// scripts are the Lua scripts, each loaded once per server and called by SHA (EVALSHA, falling back
// to EVAL when the server does not know it yet).
type scripts struct {
	sessionCreate, sessionStatus, resultsCreate, resultComplete, submit, claim, promote,
	markRunning, renew, complete, fail, release, expire, cancelTasks, progress, purge, readyAdd *valkey.Lua
	releaseRunning, releaseAgent *valkey.Lua
	// names maps each script to its file name without ".lua", for spans.
	names map[*valkey.Lua]string
}

func loadScripts() (*scripts, error) {
	lib, err := luaFS.ReadFile("lua/lib.lua")
	if err != nil {
		return nil, fmt.Errorf("valkeystore: reading embedded lua/lib.lua: %w", err)
	}
	load := func(name string, withLib bool) (*valkey.Lua, error) {
		b, err := luaFS.ReadFile("lua/" + name)
		if err != nil {
			return nil, fmt.Errorf("valkeystore: reading embedded lua/%s: %w", name, err)
		}
		src := string(b)
		if withLib {
			src = string(lib) + "\n" + src
		}
		return valkey.NewLuaScript(src), nil
	}
	s := &scripts{names: map[*valkey.Lua]string{}}
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
		{&s.promote, "promote.lua", true},
		{&s.markRunning, "mark_running.lua", true},
		{&s.renew, "renew.lua", true},
		{&s.complete, "complete.lua", true},
		{&s.fail, "fail.lua", true},
		{&s.release, "release.lua", true},
		{&s.releaseRunning, "release_running.lua", true},
		{&s.releaseAgent, "release_agent.lua", true},
		{&s.expire, "expire.lua", true},
		{&s.cancelTasks, "cancel_tasks.lua", true},
		{&s.progress, "progress.lua", true},
		{&s.purge, "purge.lua", true},
		{&s.readyAdd, "ready_add.lua", false},
	} {
		l, err := load(e.name, e.lib)
		if err != nil {
			return nil, err
		}
		*e.dst = l
		s.names[l] = strings.TrimSuffix(e.name, ".lua")
	}
	return s, nil
}
