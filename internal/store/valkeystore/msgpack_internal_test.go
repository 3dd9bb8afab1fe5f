package valkeystore

import (
	"context"
	"strings"
	"testing"

	"github.com/chorus-hpc/chorus/internal/testutil/valkeytest"
)

// TestMsgpackAppendMatchesCmsgpack encodes integers and strings of every MessagePack width in Go
// (mpAppendInt, mpAppendStr: queuedHeader's encoders) and in Valkey's Lua (cmsgpack.pack, which
// header() uses), and compares the bytes.
func TestMsgpackAppendMatchesCmsgpack(t *testing.T) {
	srv := valkeytest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()
	ints := []int64{0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 1780000000123,
		-1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -1780000000123}
	for _, n := range ints {
		want, err := c.Do(ctx, c.B().Eval().Script("return cmsgpack.pack(tonumber(ARGV[1]))").Numkeys(0).Arg(itoa(n)).Build()).ToString()
		if err != nil {
			t.Fatal(err)
		}
		if got := string(mpAppendInt(nil, n)); got != want {
			t.Errorf("integer %d: Go % x, cmsgpack % x", n, got, want)
		}
	}
	for _, size := range []int{0, 1, 31, 32, 255, 256, 65535, 65536} {
		s := strings.Repeat("x", size)
		want, err := c.Do(ctx, c.B().Eval().Script("return cmsgpack.pack(ARGV[1])").Numkeys(0).Arg(s).Build()).ToString()
		if err != nil {
			t.Fatal(err)
		}
		if got := string(mpAppendStr(nil, s)); got != want {
			t.Errorf("string of %d bytes: Go prefix % x, cmsgpack prefix % x", size, got[:min(len(got), 5)], want[:min(len(want), 5)])
		}
	}
}
