# Gateway: end-to-end tests on a real valkey-server and the local object store, the REST fuzz test,
# and the submit-latency benchmark.
GATEWAY_FUZZTIME ?= 20s

.PHONY: test-gateway
test-gateway: deps ## Gateway end-to-end tests (real valkey-server, gRPC and REST)
	$(GO) test $(GOTEST_FLAGS) ./gateway/...

.PHONY: fuzz-gateway
fuzz-gateway: ## Fuzz the gateway's REST JSON decoding + validation for a short, fixed budget
	$(GO) test -run '^$$' -fuzz '^FuzzRESTDecode$$' -fuzztime=$(GATEWAY_FUZZTIME) ./gateway

.PHONY: bench-gateway
bench-gateway: deps ## Single-task submit latency (p50/p99) over gRPC and REST
	$(GO) test -run '^$$' -bench 'BenchmarkSubmit' -benchtime=2000x ./gateway

TEST_TARGETS += fuzz-gateway
