# Jaeger v2 (all-in-one, in-memory storage) for looking at traces locally and for the tracing tests.
# `go install` refuses the module (a replace directive), so build it from a module-cache copy.
JAEGER_VERSION := v1.76.0
JAEGER_BIN := $(BIN)/jaeger-$(JAEGER_VERSION)

.PHONY: jaeger-build
jaeger-build: $(JAEGER_BIN) ## Build Jaeger v2 into bin/ (about 3 minutes on 2 cores)

$(JAEGER_BIN):
	@mkdir -p $(BIN)
	@set -e; dir=$$($(GO) mod download -json github.com/jaegertracing/jaeger@$(JAEGER_VERSION) | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'); \
	  tmp=$$(mktemp -d); cp -r "$$dir"/. "$$tmp"; chmod -R u+w "$$tmp"; \
	  echo "building Jaeger $(JAEGER_VERSION) (a few minutes)"; \
	  (cd "$$tmp" && GOFLAGS=-mod=mod $(GO) build -o $@ ./cmd/jaeger); rm -rf "$$tmp"
	@ln -sf $(notdir $@) $(BIN)/jaeger

.PHONY: jaeger
jaeger: $(JAEGER_BIN) ## Run Jaeger locally: OTLP on 4317/4318, UI/API on http://127.0.0.1:16686
	$(JAEGER_BIN)

# The tracing tests (e2e/tracing/, run by test-e2e) start a real Jaeger and a Python worker: build and
# install them first.
test-e2e: jaeger-build python-venv

# cmd/chorus's demo tests (chorus dev --demo --jaeger) run in the root `go test ./...` too: give them
# Jaeger and the Python worker's venv.
test-go: jaeger-build python-venv
