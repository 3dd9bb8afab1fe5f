# The web dashboard (web/): Preact + TypeScript bundled by Vite into web/dist. web/dist is committed
# and embedded in bin/chorus (web/webui.go), so `make build` and `make demo` need no Node.js; after a
# change in web/src run `make web` and commit web/dist with it. `make test-web` checks that the
# committed build matches the sources, then drives the dashboard in headless chromium.
WEB_DIR := $(ROOT)/web
WEB_NODE_STAMP := $(WEB_DIR)/node_modules/.chorus-lock-$(shell md5sum < $(WEB_DIR)/package-lock.json | cut -c1-10)

$(WEB_NODE_STAMP): $(WEB_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 20.19 or newer) is needed to build the dashboard: install Node.js 20+"; exit 1; }
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(WEB_DIR)/node_modules/.chorus-lock-* && touch $@

.PHONY: web
web: $(WEB_NODE_STAMP) ## Build the dashboard: type-check web/src and bundle it into web/dist
	cd $(WEB_DIR) && npm run --silent build -- --logLevel warn

.PHONY: check-web
check-web: web ## Fail if the committed web/dist differs from a fresh build of web/src
	@if [ -n "$$(git status --porcelain -- web/dist)" ]; then \
	  git status --short -- web/dist; \
	  echo "web/dist is out of date with web/src: run 'make web' and commit web/dist"; exit 1; fi
	@echo "check-web: web/dist matches web/src"

.PHONY: test-web
test-web: deps check-web jaeger-build ## Dashboard browser tests (headless chromium, real stack and Jaeger); screenshots in web/.screenshots/
	@bash scripts/install-system.sh web
	$(GO) test -count=1 -timeout 10m ./web/...

TEST_TARGETS += test-web
