package objstore

import "fmt"

// MaxKeyLen is the longest key accepted, in bytes (S3's own limit is 1024, and the S3 store adds its
// prefix in front).
const MaxKeyLen = 768

// ValidateKey reports whether key follows the key rules of Store: one or more segments separated by
// '/', each made of letters, digits, '.', '_', ':' and '-', none empty, "." or ".."; no leading or
// trailing '/'; at most MaxKeyLen bytes. The errors wrap ErrInvalidKey.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: the key is empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: the key is %d bytes long, the limit is %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	start := 0
	for i := 0; i <= len(key); i++ {
		if i < len(key) && key[i] != '/' {
			if !keyByte(key[i]) {
				return fmt.Errorf("%w: %q has the character %q at byte %d; keys use letters, digits, '.', '_', ':', '-' and '/'",
					ErrInvalidKey, key, key[i], i)
			}
			continue
		}
		switch seg := key[start:i]; seg {
		case "":
			return fmt.Errorf("%w: %q has an empty path segment (leading, trailing or double '/')", ErrInvalidKey, key)
		case ".", "..":
			return fmt.Errorf("%w: %q has a %q path segment", ErrInvalidKey, key, seg)
		}
		start = i + 1
	}
	return nil
}

func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == ':' || c == '-'
}
