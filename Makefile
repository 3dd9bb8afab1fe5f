# Chorus — every target installs what it needs on a fresh machine (Debian bookworm, root or sudo).
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT := $(abspath .)
BIN := $(ROOT)/bin
export PATH := $(BIN):$(PATH)
GO ?= go

# Pinned tool versions (installed into bin/ by `make tools`).
BUF_VERSION := v1.75.0
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GRPC_GATEWAY_VERSION := v2.33.0
GOIMPORTS_VERSION := v0.52.0

TOOL_STAMPS := $(BIN)/.buf-$(BUF_VERSION) $(BIN)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION) \
  $(BIN)/.protoc-gen-go-grpc-$(PROTOC_GEN_GO_GRPC_VERSION) $(BIN)/.grpc-gateway-$(GRPC_GATEWAY_VERSION) \
  $(BIN)/.goimports-$(GOIMPORTS_VERSION)

GOTEST_FLAGS ?= -race -count=1 -short -timeout 25m  # -short: suites with their own make target (e2e) run there

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: deps
deps: ## Install system packages (valkey-server, protoc + gRPC C++ toolchain)
	@bash scripts/install-system.sh core
	@bash scripts/install-system.sh cpp

.PHONY: tools
tools: $(TOOL_STAMPS) ## Install pinned Go tools into bin/

$(BIN)/.buf-$(BUF_VERSION):
	GOBIN=$(BIN) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	@touch $@
$(BIN)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION):
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	@touch $@
$(BIN)/.protoc-gen-go-grpc-$(PROTOC_GEN_GO_GRPC_VERSION):
	GOBIN=$(BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	@touch $@
$(BIN)/.grpc-gateway-$(GRPC_GATEWAY_VERSION):
	GOBIN=$(BIN) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION) \
	  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)
	@touch $@
$(BIN)/.goimports-$(GOIMPORTS_VERSION):
	GOBIN=$(BIN) $(GO) install golang.org/x/tools/cmd/goimports@$(GOIMPORTS_VERSION)
	@touch $@

.PHONY: protos
protos: ## Fetch third-party .proto files from pinned packages into .thirdparty/
	@bash scripts/fetch-protos.sh

.PHONY: gen
gen: deps tools protos ## Generate Go, Python, C++, C# and OpenAPI code from proto/
	buf generate
	rm -rf sdks/python/gen/google  # google.api comes from the googleapis-common-protos package
	$(GO) run ./internal/tools/openapimerge gateway/openapi/chorus.swagger.json gateway/openapi_extra.json

.PHONY: check-gen
check-gen: gen ## Fail if generated code differs from what is committed
	@git add -N gen sdks gateway >/dev/null 2>&1 || true
	@if ! git diff --quiet -- gen sdks/go/gen sdks/python/gen sdks/cpp/gen sdks/csharp/src/Protocol/gen gateway/openapi; then \
	  git diff --stat -- gen sdks/go/gen sdks/python/gen sdks/cpp/gen sdks/csharp/src/Protocol/gen gateway/openapi; \
	  echo "generated code is out of date: run 'make gen' and commit"; exit 1; fi
	@echo "check-gen: generated code is up to date"

.PHONY: breaking
breaking: tools protos ## Check proto/ for breaking changes against the main branch (see scripts/breaking.sh)
	@bash scripts/breaking.sh

# Our Go files: everything git tracks but generated code (gen/, sdks/*/gen/).
GO_FILES = $$(git ls-files '*.go' | grep -v -e '^gen/' -e '/gen/')
# Imports in three groups: standard library, third-party, then Chorus's own.
GOIMPORTS := $(BIN)/goimports -local github.com/chorus-hpc/chorus
# goimports sorts within a group but leaves a misplaced group alone; this checks (and -w mends) the groups.
IMPORTGROUPS := $(GO) run ./scripts/importgroups -local github.com/chorus-hpc/chorus

.PHONY: lint
lint: tools protos tidy-check ## gofmt, goimports, go vet, go mod tidy, buf lint
	@out=$$(gofmt -l $(GO_FILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@out=$$($(GOIMPORTS) -l $(GO_FILES)); if [ -n "$$out" ]; then \
	  echo "imports out of order (standard library, third-party, then github.com/chorus-hpc/chorus): run 'make fmt'"; echo "$$out"; exit 1; fi
	@$(IMPORTGROUPS) $(GO_FILES) || { echo "run 'make fmt'"; exit 1; }
	$(GO) vet ./...
	cd sdks/go && $(GO) vet ./...  # the Go SDK is its own module
	buf lint
	buf build -o /dev/null

.PHONY: fmt
fmt: tools ## Format Go files and group their imports (gofmt, goimports)
	gofmt -w $(GO_FILES)
	$(IMPORTGROUPS) -w $(GO_FILES)
	$(GOIMPORTS) -w $(GO_FILES)

.PHONY: tidy-check
tidy-check: ## Fail if go.mod or go.sum differ from what `go mod tidy` writes
	@if ! $(GO) mod tidy -diff || ! (cd sdks/go && $(GO) mod tidy -diff); then echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit"; exit 1; fi

.PHONY: build
build: ## Build bin/chorus and the Go example worker (bin/chorus-worker-go)
	$(GO) build -o $(BIN)/chorus ./cmd/chorus
	$(GO) build -o $(BIN)/chorus-worker-go ./workers/go

.PHONY: test
test: deps check-gen lint breaking test-go ## Lint, check generated code and breaking proto changes, run every test
	@set -e; for t in $(TEST_TARGETS); do $(MAKE) --no-print-directory $$t; done

.PHONY: test-go
test-go: deps ## Go tests with the race detector
	$(GO) test $(GOTEST_FLAGS) ./...
	cd sdks/go && $(GO) test $(GOTEST_FLAGS) ./...  # the Go SDK is its own module

.PHONY: bench
bench: bench-all ## Benchmarks: the five end-to-end scenarios and the peers, report in bench/results (FULL=1: long run; bench-micro: Go micro-benchmarks)

.PHONY: demo
demo: deps build python-venv jaeger-build ## Run the demo job on a local all-in-one Chorus traced into Jaeger (loopback); stays up with the links until Ctrl-C
	$(BIN)/chorus dev --demo --jaeger --log-level warn --data-dir $(ROOT)/.chorus/demo

.PHONY: clean
clean: ## Remove built binaries and fetched third-party files
	rm -rf $(BIN)/chorus .thirdparty

# Each component adds its own targets in mk/*.mk and appends its test target to TEST_TARGETS.
TEST_TARGETS :=
-include mk/*.mk
