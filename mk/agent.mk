# Agent, worker protocol, Go worker SDK and the Go example worker.

.PHONY: test-agent
test-agent: ## Agent integration tests (real valkey-server, real agent, Go example worker)
	@bash scripts/install-system.sh core
	$(GO) test $(GOTEST_FLAGS) ./agent/... ./workers/go/...
	cd sdks/go && $(GO) test $(GOTEST_FLAGS) ./worker/...

.PHONY: bench-agent
bench-agent: ## Agent benchmarks: worker utilization (200 x 100 ms on 2 slots) and zero-work tasks/s
	@bash scripts/install-system.sh core
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 ./agent/

.PHONY: worker-go
worker-go: ## Build the Go example worker into bin/chorus-worker-go
	$(GO) build -o $(BIN)/chorus-worker-go ./workers/go

TEST_TARGETS += test-agent
