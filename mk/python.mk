# Python: the chorus-hpc package (sdks/python) in project-local virtual environments, and its tests.
# The package declares dependency ranges; the tests run at both ends of them:
#   .venv         the newest releases within the ranges (pip resolves pyproject.toml; re-resolved when
#                 it changes). The example workers, `chorus dev` and the tracing test use this one.
#   .venv-oldest  the lower bounds: protobuf 4.21.12 (the runtime matching the generated code, protoc
#                 3.21.12), grpcio 1.60.0, googleapis-common-protos 1.56.4, OpenTelemetry 1.24.
PYTHON ?= python3
PYTHON_VENV := $(ROOT)/.venv
PYTHON_OLDEST_VENV := $(ROOT)/.venv-oldest
PYTHON_OLDEST_PKGS := grpcio==1.60.0 protobuf==4.21.12 googleapis-common-protos==1.56.4 pytest==8.4.2 \
  opentelemetry-api==1.24.0 opentelemetry-sdk==1.24.0 opentelemetry-exporter-otlp-proto-grpc==1.24.0
PYTHON_VENV_STAMP := $(PYTHON_VENV)/.pkgs-$(shell cat sdks/python/pyproject.toml | md5sum | cut -c1-10)
PYTHON_OLDEST_STAMP := $(PYTHON_OLDEST_VENV)/.pkgs-$(shell echo '$(PYTHON_OLDEST_PKGS)' | md5sum | cut -c1-10)
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: python-venv
python-venv: $(PYTHON_VENV_STAMP) ## Create .venv (newest dependencies within the package's ranges) and install sdks/python
	@$(PYTHON_VENV)/bin/pip install $(PIP_QUIET) --no-deps --no-build-isolation --force-reinstall ./sdks/python
	@rm -rf sdks/python/build sdks/python/*.egg-info

.PHONY: python-venv-oldest
python-venv-oldest: $(PYTHON_OLDEST_STAMP) ## Create .venv-oldest (the lower bounds of the package's ranges) and install sdks/python
	@$(PYTHON_OLDEST_VENV)/bin/pip install $(PIP_QUIET) --no-deps --no-build-isolation --force-reinstall ./sdks/python
	@rm -rf sdks/python/build sdks/python/*.egg-info

define python_venv_base
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
	  echo "installing python3-venv (apt)"; apt-get update -qq && apt-get install -y -qq python3-venv python3-pip; fi
	@test -x $(1)/bin/pip || $(PYTHON) -m venv $(1)
	$(1)/bin/pip install $(PIP_QUIET) setuptools==75.3.0
endef

$(PYTHON_VENV_STAMP): sdks/python/pyproject.toml
	$(call python_venv_base,$(PYTHON_VENV))
	$(PYTHON_VENV)/bin/pip install $(PIP_QUIET) --upgrade --upgrade-strategy eager './sdks/python[test,tracing]'
	@rm -rf sdks/python/build sdks/python/*.egg-info
	@rm -f $(PYTHON_VENV)/.pkgs-* && touch $@

$(PYTHON_OLDEST_STAMP):
	$(call python_venv_base,$(PYTHON_OLDEST_VENV))
	$(PYTHON_OLDEST_VENV)/bin/pip install $(PIP_QUIET) $(PYTHON_OLDEST_PKGS)
	@rm -f $(PYTHON_OLDEST_VENV)/.pkgs-* && touch $@

.PHONY: test-python
test-python: python-venv python-venv-oldest build ## Python SDK tests (pytest, real agent and `chorus dev`), at the newest and the oldest dependencies
	@for v in $(PYTHON_VENV) $(PYTHON_OLDEST_VENV); do \
	  echo "== $$v: $$($$v/bin/python -c 'import google.protobuf as p, grpc as g; print("protobuf", p.__version__, "grpcio", g.__version__)')"; \
	  (cd sdks/python && $$v/bin/python -m pytest -q -p no:cacheprovider tests) || exit 1; done

TEST_TARGETS += test-python
