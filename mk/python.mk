# Python: the chorus-hpc package (sdks/python) in a project-local virtual environment, and its tests.
PYTHON ?= python3
PYTHON_VENV := $(ROOT)/.venv
# Pinned: grpcio, the protobuf runtime matching the generated code (protoc 3.21.12), google.api protos.
PYTHON_PKGS := grpcio==1.76.0 protobuf==4.21.12 googleapis-common-protos==1.72.0 pytest==8.4.2 setuptools==75.3.0 \
  opentelemetry-api==1.24.0 opentelemetry-sdk==1.24.0 opentelemetry-exporter-otlp-proto-grpc==1.24.0
PYTHON_VENV_STAMP := $(PYTHON_VENV)/.pkgs-$(shell echo '$(PYTHON_PKGS)' | md5sum | cut -c1-10)

.PHONY: python-venv
python-venv: $(PYTHON_VENV_STAMP) ## Create .venv with the pinned Python packages and install sdks/python
	@$(PYTHON_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
	  --force-reinstall ./sdks/python
	@rm -rf sdks/python/build sdks/python/*.egg-info

$(PYTHON_VENV_STAMP):
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
	  echo "installing python3-venv (apt)"; apt-get update -qq && apt-get install -y -qq python3-venv python3-pip; fi
	@test -x $(PYTHON_VENV)/bin/pip || $(PYTHON) -m venv $(PYTHON_VENV)
	$(PYTHON_VENV)/bin/pip install --quiet --disable-pip-version-check $(PYTHON_PKGS)
	@rm -f $(PYTHON_VENV)/.pkgs-* && touch $@

.PHONY: test-python
test-python: python-venv build ## Python worker SDK tests (pytest, against a local agent on a Unix socket)
	cd sdks/python && $(PYTHON_VENV)/bin/python -m pytest -q -p no:cacheprovider tests

TEST_TARGETS += test-python
