package valkeystore

import "testing"

func TestKeyKind(t *testing.T) {
	for k, want := range map[string]string{
		"{chorus:s:s06abc}:t":                 ":t",
		"{chorus:s:s06abc}:q:bench-memory:0":  ":q:bench-memory:#",
		"{chorus:s:s06abc}:req:req-0a9xyz":    ":req:*",
		"{chorus:p:go}:ready":                 ":ready",
		"chorus:sessions":                     "chorus:sessions",
		"{chorus:s:s06abc}:pc:partition-2026": ":pc:partition-####",
	} {
		if got := keyKind(k); got != want {
			t.Errorf("keyKind(%q) = %q, want %q", k, got, want)
		}
	}
}
