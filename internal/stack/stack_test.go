package stack

import "testing"

func TestInfoField(t *testing.T) {
	t.Parallel()
	info := "# Memory\r\nused_memory:1234\r\nused_memory_human:1.2K\r\n"
	if v, ok := infoField(info, "used_memory"); !ok || v != "1234" {
		t.Fatalf("infoField = %q, %v", v, ok)
	}
	if _, ok := infoField(info, "nope"); ok {
		t.Fatal("infoField found a missing field")
	}
}
