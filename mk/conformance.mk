# Cross-language conformance suite (conformance/): every example worker (Go, Python, C++, C#) through
# a real valkey-server, gateway and agent. CHORUS_CONFORMANCE=1 makes a missing worker a failure.
.PHONY: test-conformance
test-conformance: build python-venv cpp-build csharp-build ## Conformance suite: every language's example worker through the real agent
	CHORUS_CONFORMANCE=1 $(GO) test -race -count=1 ./conformance/...

.PHONY: conformance-bench
conformance-bench: build python-venv cpp-build csharp-build ## Zero-work tasks/s per language at capacity 1, 4 and 16 (no race detector)
	CHORUS_CONFORMANCE=1 $(GO) test -run '^$$' -bench BenchmarkZeroWork -benchtime 2000x -count=1 ./conformance/...

TEST_TARGETS += test-conformance
