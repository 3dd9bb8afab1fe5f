// Package tracing holds the end-to-end tests of Chorus's telemetry (it has no library code): one trace
// per task, from the client through the gateway, Valkey and the agent to the worker (Go and Python),
// read back from a real Jaeger, and the metrics a run exports. They need Jaeger and the Python venv,
// which `make test-e2e` builds first; `go test -short` skips them.
package tracing
