package store

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
)

// A page token is opaque to clients: base64url of a small versioned record saying where the next page
// starts, with a checksum so that a mangled token is refused rather than misread.
//
//	version (1 byte, 1) | kind (1 byte) | position (uvarint) | score (varint) | key length (uvarint) |
//	key | CRC-32 (IEEE, 4 bytes big-endian) of everything before it
//
// Lists in insertion order (tasks, results) resume at Position, the index after the last item returned,
// whose id is Key (so the store can check that the token belongs to the listing). Newest-first
// sessions resume after (Score, Key) = (creation ms, id) of the last session returned, so sessions
// created between two pages neither repeat nor shift items.

// PageKind says which listing a page token belongs to.
type PageKind byte

// The listings that use page tokens.
const (
	PageSessions PageKind = 1
	PageTasks    PageKind = 2
	PageResults  PageKind = 3
)

const pageTokenVersion = 1

// PageCursor is the decoded content of a page token.
type PageCursor struct {
	Kind     PageKind
	Position int64  // lists in insertion order: index of the next item
	Score    int64  // sessions: creation time (ms) of the last session returned
	Key      string // the id of the last item returned
}

// EncodePageToken returns the opaque token for c.
func EncodePageToken(c PageCursor) string {
	b := make([]byte, 0, 32+len(c.Key))
	b = append(b, pageTokenVersion, byte(c.Kind))
	b = binary.AppendUvarint(b, uint64(c.Position))
	b = binary.AppendVarint(b, c.Score)
	b = binary.AppendUvarint(b, uint64(len(c.Key)))
	b = append(b, c.Key...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodePageToken decodes a token of the given kind. A token that was not made by EncodePageToken for
// that kind is InvalidArgument with Field "page_token".
func DecodePageToken(token string, kind PageKind) (PageCursor, error) {
	bad := func(why string) (PageCursor, error) {
		return PageCursor{}, BadPageToken(why)
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 6 {
		return bad("it is not a token this server made; pass next_page_token of the previous page as it was, or leave it empty for the first page")
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return bad("it is damaged (checksum mismatch); pass next_page_token of the previous page as it was")
	}
	if body[0] != pageTokenVersion {
		return bad("it is from another version of the server; start again from the first page")
	}
	if PageKind(body[1]) != kind {
		return bad("it belongs to another listing; pass the next_page_token this listing returned")
	}
	rest := body[2:]
	pos, n := binary.Uvarint(rest)
	if n <= 0 || pos > 1<<40 {
		return bad("its position is not valid")
	}
	rest = rest[n:]
	score, n := binary.Varint(rest)
	if n <= 0 || score < 0 {
		return bad("its time is not valid")
	}
	rest = rest[n:]
	klen, n := binary.Uvarint(rest)
	if n <= 0 || klen != uint64(len(rest)-n) {
		return bad("its id is not valid")
	}
	return PageCursor{Kind: kind, Position: int64(pos), Score: score, Key: string(rest[n:])}, nil
}

// BadPageToken is the InvalidArgument error for a page token that cannot be used, saying why.
func BadPageToken(why string) error {
	return &Error{Code: CodeInvalidArgument, Field: "page_token", Message: "page_token: " + why}
}
