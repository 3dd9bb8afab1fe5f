// Package validate is the one place that says which ids, partition names, methods, priorities and
// retry counts Chorus accepts. The rules are those of the protovalidate annotations in
// proto/chorus/v1 (TaskOptions, SubmitTasksRequest.TaskSpec, the result ids); the gateway checks
// requests with protovalidate and these functions, the agent checks what workers send (subtasks,
// created results) and its configuration, and the store checks every task before it is written, so
// no path can store a value another part cannot read back.
package validate

import (
	"fmt"
	"strings"
)

// Limits, as in the protos.
const (
	MaxIDLen        = 128 // result, task and session ids
	MaxPartitionLen = 64
	MaxMethodLen    = 128
	MinPriority     = 0
	MaxPriority     = 9
	MaxRetries      = 100
)

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// chars reports whether s is 1-maxLen characters, each a letter, a digit or one of extra, and the
// first a letter or digit when alnumFirst.
func chars(s string, maxLen int, extra string, alnumFirst bool) bool {
	if len(s) == 0 || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && ((alnumFirst && i == 0) || strings.IndexByte(extra, c) < 0) {
			return false
		}
	}
	return true
}

// Token reports whether s is 1-maxLen letters, digits, '.', '_' or '-' (pattern
// ^[A-Za-z0-9._-]+$): request ids and tenant names.
func Token(s string, maxLen int) bool { return chars(s, maxLen, "._-", false) }

// ID checks a result, task or session id: 1-128 characters, a letter or digit first, then letters,
// digits, '.', '_', ':' or '-' (pattern ^[A-Za-z0-9][A-Za-z0-9._:-]*$).
func ID(what, id string) error {
	if !chars(id, MaxIDLen, "._:-", true) {
		return fmt.Errorf("%s %q must be 1-%d letters, digits, '.', '_', ':' or '-', starting with a letter or digit", what, id, MaxIDLen)
	}
	return nil
}

// Partition checks a partition name: 1-64 characters, a letter or digit first, then letters,
// digits, '.', '_' or '-' (pattern ^[A-Za-z0-9][A-Za-z0-9._-]*$).
func Partition(p string) error {
	if !chars(p, MaxPartitionLen, "._-", true) {
		return fmt.Errorf("partition %q must be 1-%d letters, digits, '.', '_' or '-', starting with a letter or digit", p, MaxPartitionLen)
	}
	return nil
}

// Method checks a method name: 1-128 characters among letters, digits, '_', '.', '/' and '-'
// (pattern ^[A-Za-z0-9_./-]+$).
func Method(m string) error {
	if !chars(m, MaxMethodLen, "_./-", false) {
		return fmt.Errorf("method %q must be 1-%d letters, digits, '_', '.', '/' or '-'", m, MaxMethodLen)
	}
	return nil
}

// Priority checks a task priority: 0 (lowest) to 9 (highest).
func Priority(p int32) error {
	if p < MinPriority || p > MaxPriority {
		return fmt.Errorf("priority %d is outside %d-%d", p, MinPriority, MaxPriority)
	}
	return nil
}

// Retries checks a max_retries value: 0 (run once) to 100.
func Retries(n int32) error {
	if n < 0 || n > MaxRetries {
		return fmt.Errorf("max_retries %d is outside 0-%d", n, MaxRetries)
	}
	return nil
}
