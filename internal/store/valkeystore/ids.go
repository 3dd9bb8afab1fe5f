package valkeystore

import "strings"

// Task ids. The store names the tasks a client submits by number within their session: such a task
// is stored under its number ("42", from the session meta's "seq") and shown as "<session id>.42",
// which is unique across sessions as the worker protocol needs. A task id made elsewhere (a worker's
// subtasks get store.NewTaskID ids from their agent) is stored and shown as it is; it starts with a
// letter, so the two kinds never meet. Numbered ids keep every place that lists a task (header,
// queue, order list, events, result owner, kept answers) a few bytes long instead of 25.

// extID is the id users see for the stored task id id of session sid.
func extID(sid, id string) string {
	if numeric(id) {
		return sid + "." + id
	}
	return id
}

// intID is the stored id of task id id of session sid. A bare number is not a task id users see: it
// maps to a stored id no task has, so it is not found rather than naming the session's task.
func intID(sid, id string) string {
	if rest, ok := strings.CutPrefix(id, sid+"."); ok && numeric(rest) {
		return rest
	}
	if numeric(id) {
		return "#" + id
	}
	return id
}

// numeric reports whether id is a non-empty run of ASCII digits.
func numeric(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// intIDs maps ids with intID.
func intIDs(sid string, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = intID(sid, id)
	}
	return out
}
