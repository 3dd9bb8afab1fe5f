package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDevAuth: `chorus dev --auth` prints a token of tenant dev; the CLI without it is refused with
// a message about credentials, with it works; a token of another tenant minted by `chorus token`
// sees none of dev's sessions and gets NOT_FOUND on one.
func TestDevAuth(t *testing.T) {
	data := t.TempDir()
	d := startDevUntil(t, "More tokens:", "chorus dev --auth", data, "--auth")
	tok := d.token

	wantFail(t, d, 1, "refused the credentials", "session", "list")
	sid := jsonField(t, mustChorus(t, d, "session", "create", "--partition", "go", "--output", "json", "--token", tok), "sessionId")
	if out := mustChorus(t, d, "session", "list", "--token", tok); !strings.Contains(out, sid) {
		t.Fatalf("tenant dev does not list its session %s:\n%s", sid, out)
	}
	other := strings.TrimSpace(mustChorus(t, nil, "token", "--secret-file", filepath.Join(data, "auth", "jwt-secret"), "--tenant", "acme"))
	if out := mustChorus(t, d, "session", "list", "--token", other); strings.Contains(out, sid) {
		t.Fatalf("tenant acme lists tenant dev's session:\n%s", out)
	}
	wantFail(t, d, 1, "does not exist", "session", "get", sid, "--token", other)
}
