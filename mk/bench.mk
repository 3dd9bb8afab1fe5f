# Benchmarks: Chorus's five end-to-end scenarios (chorus bench), the peers (Celery, Dask, asynq) on the
# same workloads, and the report with ratios. `make bench-all` is quick (minutes); FULL=1 is the long run.
BENCH_OUT ?= $(ROOT)/bench/results
BENCH_FLAGS := $(if $(FULL),--full,)

.PHONY: bench-all
bench-all: deps build python-venv bench-venv ## End-to-end benchmarks and peers, report in bench/results/report.md (FULL=1: long)
	-$(BIN)/chorus bench $(BENCH_FLAGS) --out $(BENCH_OUT)
	-$(MAKE) --no-print-directory bench-peers
	$(BIN)/chorus bench --report-only --out $(BENCH_OUT)
	@echo "report: $(BENCH_OUT)/report.md"
	@if ls $(BENCH_OUT)/*.error.json >/dev/null 2>&1; then echo "some scenarios failed (see the report):"; ls $(BENCH_OUT)/*.error.json; exit 1; fi

.PHONY: bench-chorus
bench-chorus: deps build python-venv ## Chorus's scenarios only: latency, throughput, utilization, scalability, memory (FULL=1: long)
	$(BIN)/chorus bench $(BENCH_FLAGS) --out $(BENCH_OUT)

.PHONY: bench-micro
bench-micro: deps ## Go micro-benchmarks (store scripts, agent, gateway), benchstat-comparable: COUNT=10 > old.txt
	$(GO) test -run '^$$' -bench . -benchmem -count $(or $(COUNT),6) ./internal/store/valkeystore/ ./gateway/ ./agent/

# Peers: Celery and Dask in their own virtual environment (pinned in bench/peers/python/requirements.txt),
# asynq as a Go program (pinned in go.mod). Each writes $(BENCH_OUT)/peers/<system>.json; a failing peer
# records its error there and the report shows it.
BENCH_VENV := $(ROOT)/bench/.venv
BENCH_VENV_STAMP := $(BENCH_VENV)/.req-$(shell md5sum < bench/peers/python/requirements.txt | cut -c1-10)

$(BENCH_VENV_STAMP): bench/peers/python/requirements.txt
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
	  echo "installing python3-venv (apt)"; apt-get update -qq && apt-get install -y -qq python3-venv python3-pip; fi
	@test -x $(BENCH_VENV)/bin/pip || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/peers/python/requirements.txt
	@rm -f $(BENCH_VENV)/.req-* && touch $@

.PHONY: bench-venv
bench-venv: $(BENCH_VENV_STAMP) ## Create bench/.venv with the pinned Celery and Dask

.PHONY: bench-peers
bench-peers: deps bench-venv ## Peers on the same workloads: Celery, Dask distributed, asynq (FULL=1: long)
	-$(BENCH_VENV)/bin/python bench/peers/python/celery_peer.py --out $(BENCH_OUT)/peers/celery.json $(BENCH_FLAGS)
	-$(BENCH_VENV)/bin/python bench/peers/python/dask_peer.py --out $(BENCH_OUT)/peers/dask.json $(BENCH_FLAGS)
	-$(GO) run ./bench/peers/asynq --out $(BENCH_OUT)/peers/asynq.json $(BENCH_FLAGS)

.PHONY: test-bench
# Without -short: TestRunSmall runs the scenarios at 1% scale on the real in-process stack (Valkey,
# gateway, agent, Go worker); `make test-go` (-short) skips it.
test-bench: deps ## Benchmark harness tests (stats, report ratios, a small run on the real stack)
	$(GO) test $(filter-out -short,$(GOTEST_FLAGS)) ./bench/... ./stack/...

TEST_TARGETS += test-bench
