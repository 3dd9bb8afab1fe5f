// Package cluster holds end-to-end tests of Chorus beyond one machine's defaults: two `chorus
// gateway` and two `chorus agent` processes on a Valkey Cluster of three masters with one replica
// each, with a master crashed mid-run, and agents in their own network namespaces. They run with
// `make test-cluster` (go test -args -cluster); a plain `go test ./...` skips them.
package cluster
