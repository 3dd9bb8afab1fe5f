package valkeystore

import (
	"fmt"
	"math"
	"strconv"
)

// unpackArray decodes MessagePack integers, strings, nil and booleans written one after the other, as
// Lua's cmsgpack.pack(a, b, …) writes task headers (lua/lib.lua), or one array of them. Integers come
// back as int64, strings as string, nil as nil.
func unpackArray(b string) ([]any, error) {
	d := mpDecoder{b: b}
	if len(b) > 0 && !isArrayHeader(b[0]) {
		var out []any
		for d.i < len(d.b) {
			v, err := d.value()
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", len(out), err)
			}
			out = append(out, v)
		}
		return out, nil
	}
	n, err := d.arrayLen()
	if err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		if out[i], err = d.value(); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return out, nil
}

func isArrayHeader(c byte) bool { return c&0xf0 == 0x90 || c == 0xdc || c == 0xdd }

type mpDecoder struct {
	b string
	i int
}

func (d *mpDecoder) need(n int) error {
	if d.i+n > len(d.b) {
		return fmt.Errorf("truncated MessagePack value at byte %d", d.i)
	}
	return nil
}

func (d *mpDecoder) uint(n int) (uint64, error) {
	if err := d.need(n); err != nil {
		return 0, err
	}
	var v uint64
	for k := 0; k < n; k++ {
		v = v<<8 | uint64(d.b[d.i+k])
	}
	d.i += n
	return v, nil
}

func (d *mpDecoder) arrayLen() (int, error) {
	if err := d.need(1); err != nil {
		return 0, err
	}
	c := d.b[d.i]
	d.i++
	switch {
	case c&0xf0 == 0x90:
		return int(c & 0x0f), nil
	case c == 0xdc:
		n, err := d.uint(2)
		return int(n), err
	case c == 0xdd:
		n, err := d.uint(4)
		return int(n), err
	}
	return 0, fmt.Errorf("not a MessagePack array (type byte 0x%02x)", c)
}

func (d *mpDecoder) str(n int) (string, error) {
	if err := d.need(n); err != nil {
		return "", err
	}
	s := d.b[d.i : d.i+n]
	d.i += n
	return s, nil
}

func (d *mpDecoder) value() (any, error) {
	if err := d.need(1); err != nil {
		return nil, err
	}
	c := d.b[d.i]
	d.i++
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c&0xe0 == 0xa0:
		return d.str(int(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xcc, 0xcd, 0xce, 0xcf:
		v, err := d.uint(1 << (c - 0xcc))
		return int64(v), err
	case 0xd0, 0xd1, 0xd2, 0xd3:
		n := 1 << (c - 0xd0)
		v, err := d.uint(n)
		shift := 64 - 8*n
		return int64(v<<shift) >> shift, err
	case 0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6:
		k := c - 0xd9
		if c >= 0xc4 && c <= 0xc6 {
			k = c - 0xc4
		}
		n, err := d.uint(1 << k)
		if err != nil {
			return nil, err
		}
		return d.str(int(n))
	case 0xcb:
		v, err := d.uint(8)
		return math.Float64frombits(v), err
	case 0xca:
		v, err := d.uint(4)
		return float64(math.Float32frombits(uint32(v))), err
	}
	return nil, fmt.Errorf("unsupported MessagePack type byte 0x%02x", c)
}

// mpInt reads an integer element (cmsgpack writes whole Lua numbers as integers, others as doubles).
func mpInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// mpStr reads a string element.
func mpStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

// mpAppendInt appends integer n as Lua's cmsgpack writes a whole number: the shortest encoding.
func mpAppendInt(b []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= 127:
		return append(b, byte(n))
	case n >= 0 && n <= math.MaxUint8:
		return append(b, 0xcc, byte(n))
	case n >= 0 && n <= math.MaxUint16:
		return append(b, 0xcd, byte(n>>8), byte(n))
	case n >= 0 && n <= math.MaxUint32:
		return append(b, 0xce, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	case n >= 0:
		return append(b, 0xcf, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	case n >= -32:
		return append(b, byte(int8(n)))
	case n >= math.MinInt8:
		return append(b, 0xd0, byte(int8(n)))
	case n >= math.MinInt16:
		return append(b, 0xd1, byte(n>>8), byte(n))
	case n >= math.MinInt32:
		return append(b, 0xd2, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(b, 0xd3, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// mpAppendStr appends string s as Lua's cmsgpack writes a string.
func mpAppendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = append(b, 0xda, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, s...)
}
