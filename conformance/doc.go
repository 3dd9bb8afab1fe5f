// Package conformance holds the cross-language conformance suite (its tests are the package): for
// each of Go, Python, C++ and C#, a real valkey-server, the gateway and the agent run in the test
// process with that language's example worker, and the suite drives them through the public Go
// client (sdks/go/client) to prove every language behaves the same.
//
// The Go cases run in a plain `go test ./conformance/...` (they need only the Go toolchain). The
// other languages need their example workers built; run them all with `make test-conformance`,
// which sets CHORUS_CONFORMANCE=1 so that a missing worker is a failure rather than a skip.
package conformance
