package valkeystore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/valkey-io/valkey-go"
)

// KeyMemory is what one kind of key costs on a server (see MemoryByKind).
type KeyMemory struct {
	Kind  string // the key's suffix after its hash tag (keys.go), digits folded to '#'
	Keys  int
	Bytes int64 // MEMORY USAGE, every element counted
}

// MemoryByKind sums MEMORY USAGE over every key of c's servers (each node of a Cluster) by kind of
// key, largest first: what each part of the layout in keys.go costs. It reads every key: a
// diagnostic for benchmarks, not for a production hot path.
func MemoryByKind(ctx context.Context, c valkey.Client) ([]KeyMemory, error) {
	byKind := map[string]*KeyMemory{}
	for addr, node := range c.Nodes() {
		var cursor uint64
		for {
			e, err := node.Do(ctx, node.B().Scan().Cursor(cursor).Count(1000).Build()).AsScanEntry()
			if err != nil {
				return nil, fmt.Errorf("listing the keys of %s: %w", addr, err)
			}
			for _, k := range e.Elements {
				used, err := node.Do(ctx, node.B().MemoryUsage().Key(k).Samples(0).Build()).AsInt64()
				if err != nil {
					continue // deleted since the scan, or a replica's key
				}
				kind := keyKind(k)
				m := byKind[kind]
				if m == nil {
					m = &KeyMemory{Kind: kind}
					byKind[kind] = m
				}
				m.Keys++
				m.Bytes += used
			}
			if cursor = e.Cursor; cursor == 0 {
				break
			}
		}
	}
	out := make([]KeyMemory, 0, len(byKind))
	for _, m := range byKind {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b KeyMemory) int { return cmp.Compare(b.Bytes, a.Bytes) })
	return out, nil
}

// keyKind names a key by what follows its hash tag ("{chorus:s:<id>}:t" is ":t"), digits folded to
// '#' ("{chorus:s:<id>}:q:bench-memory:0" is ":q:bench-memory:#") and a request's answer
// (":req:<request id>") as ":req:*"; a key without a tag is itself.
func keyKind(k string) string {
	if i := strings.LastIndexByte(k, '}'); i >= 0 {
		k = k[i+1:]
	}
	if strings.HasPrefix(k, ":req:") {
		return ":req:*"
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '#'
		}
		return r
	}, k)
}
