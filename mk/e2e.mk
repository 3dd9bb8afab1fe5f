# End-to-end tests (e2e/): real chorus gateway and chorus agent processes, a real valkey-server and a
# local object store; moves a 1 GiB result through REST upload, sha256 and echo tasks and a download,
# with the gateway's and agent's resident memory bounded. Needs ~4 GiB free in $TMPDIR for a minute.
# e2e/tracing/: one trace per task read back from a real Jaeger, and the metrics of a run, in-process
# and with the race detector (as when they ran in test-go).

.PHONY: test-e2e
test-e2e: deps ## End-to-end tests on real processes (1 GiB through upload, tasks, download) and traces in Jaeger
	$(GO) test -count=1 -timeout 30m ./e2e/
	$(GO) test -race -count=1 -timeout 10m ./e2e/tracing/...

TEST_TARGETS += test-e2e
