package validate_test

import (
	"strings"
	"testing"

	"github.com/chorus-hpc/chorus/internal/validate"
)

func TestRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"id plain", validate.ID("result id", "r-1.a_b:c"), true},
		{"id max length", validate.ID("result id", strings.Repeat("a", 128)), true},
		{"id too long", validate.ID("result id", strings.Repeat("a", 129)), false},
		{"id empty", validate.ID("result id", ""), false},
		{"id separator", validate.ID("result id", "a|b"), false},
		{"id comma", validate.ID("result id", "a,b"), false},
		{"id newline", validate.ID("result id", "a\nb"), false},
		{"id leading dash", validate.ID("result id", "-a"), false},
		{"partition plain", validate.Partition("python-cpu.v2_x"), true},
		{"partition pipe", validate.Partition("x|y"), false},
		{"partition colon", validate.Partition("x:y"), false},
		{"partition brace", validate.Partition("x}y"), false},
		{"partition too long", validate.Partition(strings.Repeat("p", 65)), false},
		{"partition empty", validate.Partition(""), false},
		{"method path", validate.Method("pkg/mod.fn-1"), true},
		{"method space", validate.Method("a b"), false},
		{"priority 0", validate.Priority(0), true},
		{"priority 9", validate.Priority(9), true},
		{"priority 10", validate.Priority(10), false},
		{"priority -1", validate.Priority(-1), false},
		{"retries 100", validate.Retries(100), true},
		{"retries 101", validate.Retries(101), false},
		{"retries -1", validate.Retries(-1), false},
	} {
		if (tc.err == nil) != tc.ok {
			t.Errorf("%s: error %v, want ok=%v", tc.name, tc.err, tc.ok)
		}
	}
}

func FuzzPartition(f *testing.F) {
	for _, s := range []string{"cpu", "x|y", "a\nb", "{p}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if validate.Partition(p) == nil && strings.ContainsAny(p, "|,\n{}:") {
			t.Fatalf("partition %q with a separator was accepted", p)
		}
	})
}
