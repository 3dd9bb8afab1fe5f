// Package e2e holds Chorus's end-to-end tests. They build the chorus command and the Go example
// worker, start a real valkey-server, then run `chorus gateway` and `chorus agent` as separate
// processes sharing a local object-store folder, and drive them as a client would: over REST and gRPC.
//
// The tests move gigabytes and take a minute or more; `go test -short` skips them. Run them with
// `make test-e2e`.
package e2e
