# qwen-router: the README's commands. `make serve` runs the embedded demo, `make test` the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch goes in first and alone: a later resolver would otherwise pick a multi-GB CUDA build.
# Elsewhere, a CPU-only build: make serve TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
PIP := $(BIN)/pip install --disable-pip-version-check -q
# make serve CONFIG=serve_app/configs/local.yaml for real small Qwen models on CPU.
CONFIG ?= serve_app/configs/demo.yaml

# Local Ray clusters: no token auth (serve status/deploy need it off), sockets inside the repo.
export RAY_AUTH_MODE ?= disabled
export RAY_TMPDIR ?= $(CURDIR)/.ray_tmp
export RAY_USAGE_STATS_ENABLED ?= 0
export PYTHONWARNINGS ?= ignore::DeprecationWarning

.PHONY: serve test test-unit test-serve test-cli bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) $(TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) -e ".[test]"
	touch $@

# The check first: serve run logs a bad config but keeps retrying the build.
serve: $(VENV)/.installed
	mkdir -p $(RAY_TMPDIR)
	$(BIN)/qwen-router config check $(CONFIG)
	$(BIN)/serve run $(CONFIG)

test: test-unit test-serve test-cli

test-unit: $(VENV)/.installed
	$(BIN)/python -m pytest -q tests/unit

test-serve: $(VENV)/.installed
	mkdir -p $(RAY_TMPDIR)
	$(BIN)/python -m pytest -q tests/serve

test-cli: $(VENV)/.installed
	mkdir -p $(RAY_TMPDIR)
	$(BIN)/python -m pytest -q tests/cli

bench: $(VENV)/.installed
	mkdir -p $(RAY_TMPDIR)
	$(BIN)/python bench/serving.py

clean:
	rm -rf $(VENV) $(RAY_TMPDIR) .pytest_cache
