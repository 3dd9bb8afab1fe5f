// Package tracing holds the end-to-end test of Chorus's tracing: one trace per task, from the client
// through the gateway, Valkey and the agent to the worker (Go and Python), read back from a real Jaeger.
package tracing
