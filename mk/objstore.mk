# Object store (internal/objstore): local folder and S3. The S3 tests run against a real
# S3-compatible server, Versity Gateway, installed at a pinned version into bin/.
VERSITYGW_VERSION := v1.8.0

.PHONY: s3-server
s3-server: $(BIN)/.versitygw-$(VERSITYGW_VERSION) ## Install the S3 test server (Versity Gateway) into bin/

$(BIN)/.versitygw-$(VERSITYGW_VERSION):
	GOBIN=$(BIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)
	@rm -f $(BIN)/.versitygw-*
	@touch $@

# The root `go test ./...` (test-go) runs the S3 conformance tests too: give it the server.
test-go: s3-server

.PHONY: test-objstore
test-objstore: s3-server ## Object store conformance tests on a local folder and a real S3 server
	CHORUS_REQUIRE_S3_SERVER=1 $(GO) test $(GOTEST_FLAGS) ./internal/objstore/...

.PHONY: bench-objstore
bench-objstore: s3-server ## Put/Get throughput (64 MiB objects) of the local and S3 stores
	CHORUS_REQUIRE_S3_SERVER=1 $(GO) test -run '^$$' -bench . -benchmem -benchtime 5x -count 1 ./internal/objstore/...

TEST_TARGETS += test-objstore
