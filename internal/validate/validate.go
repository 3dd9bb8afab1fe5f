// Package validate is the one place that says which ids, partition names, methods, priorities and
// retry counts Chorus accepts. The rules are those of the protovalidate annotations in
// proto/chorus/v1 (TaskOptions, SubmitTasksRequest.TaskSpec, the result ids); the gateway checks
// requests with protovalidate and these functions, the agent checks what workers send (subtasks,
// created results) and its configuration, and the store checks every task before it is written, so
// no path can store a value another part cannot read back.
package validate

import "fmt"

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

// ID checks a result, task or session id: 1-128 characters, a letter or digit first, then letters,
// digits, '.', '_', ':' or '-' (pattern ^[A-Za-z0-9][A-Za-z0-9._:-]*$).
func ID(what, id string) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return fmt.Errorf("%s %q must be 1-%d letters, digits, '.', '_', ':' or '-', starting with a letter or digit", what, id, MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !alnum(c) && (i == 0 || (c != '.' && c != '_' && c != ':' && c != '-')) {
			return fmt.Errorf("%s %q must be 1-%d letters, digits, '.', '_', ':' or '-', starting with a letter or digit", what, id, MaxIDLen)
		}
	}
	return nil
}

// Partition checks a partition name: 1-64 characters, a letter or digit first, then letters,
// digits, '.', '_' or '-' (pattern ^[A-Za-z0-9][A-Za-z0-9._-]*$).
func Partition(p string) error {
	if len(p) == 0 || len(p) > MaxPartitionLen {
		return fmt.Errorf("partition %q must be 1-%d letters, digits, '.', '_' or '-', starting with a letter or digit", p, MaxPartitionLen)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !alnum(c) && (i == 0 || (c != '.' && c != '_' && c != '-')) {
			return fmt.Errorf("partition %q must be 1-%d letters, digits, '.', '_' or '-', starting with a letter or digit", p, MaxPartitionLen)
		}
	}
	return nil
}

// Method checks a method name: 1-128 characters among letters, digits, '_', '.', '/' and '-'
// (pattern ^[A-Za-z0-9_./-]+$).
func Method(m string) error {
	if len(m) == 0 || len(m) > MaxMethodLen {
		return fmt.Errorf("method %q must be 1-%d letters, digits, '_', '.', '/' or '-'", m, MaxMethodLen)
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !alnum(c) && c != '_' && c != '.' && c != '/' && c != '-' {
			return fmt.Errorf("method %q must be 1-%d letters, digits, '_', '.', '/' or '-'", m, MaxMethodLen)
		}
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
