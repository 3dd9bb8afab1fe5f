package stack

import (
	"context"
	"errors"
	"testing"
)

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

func TestComponentStop(t *testing.T) {
	t.Parallel()
	// A Run that ends by the cancellation stops without error, and a second Stop says the same.
	c := Go(context.Background(), "quiet", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	for i := range 2 {
		if err := c.Stop(); err != nil {
			t.Fatalf("Stop #%d of a component stopped by its cancellation = %v, want nil", i+1, err)
		}
	}
	// A Run's own error comes back from Stop, every time.
	boom := errors.New("boom")
	c = Go(context.Background(), "failing", func(context.Context) error { return boom })
	for i := range 2 {
		if err := c.Stop(); !errors.Is(err, boom) {
			t.Fatalf("Stop #%d of a failed component = %v, want %v", i+1, err, boom)
		}
	}
	if err := (Component{}).Stop(); err != nil {
		t.Fatalf("Stop of the zero Component = %v, want nil", err)
	}
}
