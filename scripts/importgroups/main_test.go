package main

import (
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "example.com/me"

func write(t *testing.T, src string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "a.go")
	if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, imports, want string
	}{
		{"three groups in order", "\"fmt\"\n\n\"golang.org/x/sync\"\n\n\"example.com/me/a\"\n", ""},
		{"standard library only", "\"fmt\"\n\"os\"\n", ""},
		{"third-party before the standard library", "\"golang.org/x/sync\"\n\n\"fmt\"\n", `standard library import "fmt" after a group of third-party imports`},
		{"local before third-party", "\"example.com/me/a\"\n\n\"golang.org/x/sync\"\n", `third-party import "golang.org/x/sync" after a group of local imports`},
		{"two local groups", "\"example.com/me/a\"\n\n\"example.com/me/b\"\n", `a second group of local imports ("example.com/me/b")`},
		{"mixed group", "\"fmt\"\n\"golang.org/x/sync\"\n", `third-party import "golang.org/x/sync" in a group of standard library imports`},
		{"the module itself is local", "\"fmt\"\n\n\"example.com/me\"\n", ""},
		{"a prefix of the module is not local", "\"example.com/me/a\"\n\n\"example.com/meadow\"\n", `third-party import "example.com/meadow" after a group of local imports`},
	} {
		name := write(t, "package a\n\nimport (\n"+tc.imports+")\n")
		problems, err := check(token.NewFileSet(), name, module)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(problems, "\n")
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems %q, want one saying %q", tc.name, got, tc.want)
		}
	}
}

func TestRegroupKeepsCommentsAndOrder(t *testing.T) {
	t.Parallel()
	name := write(t, `package a

import (
	"golang.org/x/sync" // a line comment stays

	"os"
	// a doc comment stays with its import
	"fmt"

	me "example.com/me/a"
	_ "embed"
)

var x = 1
`)
	fset := token.NewFileSet()
	if err := regroup(fset, name, module); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(name)
	want := `package a

import (
	"os"
	// a doc comment stays with its import
	"fmt"
	_ "embed"

	"golang.org/x/sync" // a line comment stays

	me "example.com/me/a"
)

var x = 1
`
	if string(got) != want {
		t.Fatalf("regrouped:\n%s\nwant:\n%s", got, want)
	}
	if problems, err := check(fset, name, module); err != nil || len(problems) > 0 {
		t.Fatalf("after regroup: %v %v", problems, err)
	}
}

func TestRegroupRefusesAStrayComment(t *testing.T) {
	t.Parallel()
	name := write(t, "package a\n\nimport (\n\t\"golang.org/x/sync\"\n\n\t// a comment of no import\n\n\t\"fmt\"\n)\n")
	err := regroup(token.NewFileSet(), name, module)
	if err == nil || !strings.Contains(err.Error(), "belongs to no import") {
		t.Fatalf("regroup = %v, want a refusal naming the stray comment", err)
	}
}
