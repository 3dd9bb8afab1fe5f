# Benchmarks: Chorus's five end-to-end scenarios (chorus bench), the peers (Celery, Dask, asynq) on the
# same workloads, and the report with ratios. `make bench-all` is quick (minutes); FULL=1 is the long run.
BENCH_OUT ?= $(ROOT)/bench/results
BENCH_FLAGS := $(if $(FULL),--full,)

.PHONY: bench-all
bench-all: bench-chorus bench-peers ## End-to-end benchmarks and peers, report in bench/results/report.md (FULL=1: long)
	$(BIN)/chorus bench --report-only --out $(BENCH_OUT)
	@echo "report: $(BENCH_OUT)/report.md"

.PHONY: bench-chorus
bench-chorus: deps build python-venv ## Chorus's scenarios: latency, throughput, utilization, scalability, memory (FULL=1: long)
	$(BIN)/chorus bench $(BENCH_FLAGS) --out $(BENCH_OUT)

.PHONY: bench-micro
bench-micro: deps ## Go micro-benchmarks (store scripts, agent, gateway), benchstat-comparable: COUNT=10 > old.txt
	$(GO) test -run '^$$' -bench . -benchmem -count $(or $(COUNT),6) ./internal/store/valkeystore/ ./gateway/ ./agent/
