package valkeystore

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/chorus-hpc/chorus/internal/validate"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

// TestLuaConstantsMatchEnums ties the enum numbers of the Lua scripts (the constants block of
// lib.lua, each line naming its chorus.v1 enum value) to the generated enums.
func TestLuaConstantsMatchEnums(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("lua/lib.lua")
	if err != nil {
		t.Fatal(err)
	}
	enums := map[string]protoreflect.EnumDescriptor{
		"TaskStatus":     chorusv1.TaskStatus(0).Descriptor(),
		"ResultStatus":   chorusv1.ResultStatus(0).Descriptor(),
		"SessionStatus":  chorusv1.SessionStatus(0).Descriptor(),
		"ErrorKind":      chorusv1.ErrorKind(0).Descriptor(),
		"EventKind":      chorusv1.EventKind(0).Descriptor(),
		"ResultLocation": chorusv1.ResultLocation(0).Descriptor(),
	}
	line := regexp.MustCompile(`(?m)^local (\w+) = (\d+) -- (\w+) (\w+)$`)
	found := line.FindAllStringSubmatch(string(src), -1)
	if len(found) < 20 {
		t.Fatalf("found %d enum constants in lib.lua; want the whole block (status, result, session, error and event kinds)", len(found))
	}
	for _, m := range found {
		name, num, enum, value := m[1], m[2], m[3], m[4]
		ed, ok := enums[enum]
		if !ok {
			t.Errorf("lib.lua %s names enum %s, which is not a chorus.v1 enum the store uses", name, enum)
			continue
		}
		v := ed.Values().ByName(protoreflect.Name(value))
		if v == nil {
			t.Errorf("lib.lua %s names %s.%s, which does not exist", name, enum, value)
			continue
		}
		if n, _ := strconv.Atoi(num); int32(n) != int32(v.Number()) {
			t.Errorf("lib.lua %s = %s, but %s.%s = %d", name, num, enum, value, v.Number())
		}
	}
}

// TestLuaPriorityBoundsMatchValidate ties lib.lua's priority bounds (one ready queue per priority)
// to the ones requests are validated against.
func TestLuaPriorityBoundsMatchValidate(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("lua/lib.lua")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^local PRIORITY_MIN, PRIORITY_MAX = (\d+), (\d+) -- validate.MinPriority, validate.MaxPriority$`).FindStringSubmatch(string(src))
	if m == nil {
		t.Fatal("lib.lua has no line 'local PRIORITY_MIN, PRIORITY_MAX = <min>, <max> -- validate.MinPriority, validate.MaxPriority'")
	}
	if m[1] != strconv.Itoa(validate.MinPriority) || m[2] != strconv.Itoa(validate.MaxPriority) {
		t.Errorf("lib.lua priorities %s..%s, but validate allows %d..%d", m[1], m[2], validate.MinPriority, validate.MaxPriority)
	}
}

// TestLuaSizesMatchGo ties the sizes Go and the scripts share: the largest body a task header holds
// (queuedHeader packs headers as header() does) and the values a task has in a short batch.
func TestLuaSizesMatchGo(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ file, pattern, want string }{
		{"lua/lib.lua", `(?m)^local H_BODY, BODY_INLINE = 13, (\d+)$`, strconv.Itoa(bodyInline)},
		{"lua/lib.lua", `(?m)^local H_BODY, BODY_INLINE = (\d+), \d+$`, strconv.Itoa(hBody + 1)},
		{"lua/submit.lua", `(?m)^local SHORT_VALUES = (\d+) -- tasks.go shortValues$`, strconv.Itoa(shortValues)},
	} {
		src, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(c.pattern).FindStringSubmatch(string(src))
		if m == nil {
			t.Errorf("%s has no line matching %s", c.file, c.pattern)
		} else if m[1] != c.want {
			t.Errorf("%s: %s is %s in the script, %s in Go", c.file, c.pattern, m[1], c.want)
		}
	}
}

// TestLuaScriptsNameTheirEnums fails when a script compares a status with a bare number, keys a
// table by one, or ends tasks with a bare status or error kind: every such number is one of the
// named constants above, which TestLuaConstantsMatchEnums ties to chorus.v1 (0, "no session", is
// the one bare value allowed).
func TestLuaScriptsNameTheirEnums(t *testing.T) {
	t.Parallel()
	bare := []*regexp.Regexp{
		regexp.MustCompile(`(\bst|\bstatus|H_STATUS\]|\.st|\bfrom|\bto)\s*[=~]=\s*'?[1-9]`),
		regexp.MustCompile(`\.st\s*=\s*[1-9]`),
		regexp.MustCompile(`\[\s*[1-9]\s*\]\s*=\s*'`),
		regexp.MustCompile(`end_tasks\([^,]+,\s*'?[0-9]+'?\s*,`),
		regexp.MustCompile(`\.loc\s*[=~]=\s*'`),
	}
	files, err := filepath.Glob("lua/*.lua")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts found in lua/: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "--")
			for _, re := range bare {
				if m := re.FindString(code); m != "" {
					t.Errorf("%s:%d uses a bare enum number (%q): name it with a constant of lib.lua", f, i+1, m)
				}
			}
		}
	}
}
