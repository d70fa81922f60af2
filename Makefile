# Task runner. `make test` is the command README.md and .ci/run use.
PYTHON ?= python
PIP ?= $(PYTHON) -m pip
# llama-cpp-python builds from source. A portable AVX2 build: llama.cpp's
# native build picked AMX kernels that crash on this kind of virtual machine.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
# Three workers on two cores: each worker spends much of its time waiting for its notebook's
# kernel (start-up, paced streams, the JupyterHub test), so a third keeps both cores busy
# (measured: 180 s with -n 2, 162 s with -n 3). conftest.py orders scopes longest first.
PYTEST_ARGS ?= -n 3 --dist loadscope --no-loadscope-reorder

.PHONY: run install install-test test test-fast serve lint bench

run: install  ## JupyterLab on the start notebook, replaying recorded responses
	llmlab lab

install:
	$(PIP) install -q -e .

install-test:
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) install -q -e ".[test,local]"
	@# An editable install is not byte-compiled; every test kernel would compile llmlab again.
	$(PYTHON) -m compileall -q src
	@# The browser test drives Debian's chromium (Playwright's own browser download is not used).
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium missing: the browser tests will be skipped (sudo apt-get install chromium)"
	@# JupyterHub (tests/test_jupyterhub.py, marked hub): the [hub] extra and the proxy from npm, no global install.
	$(PIP) install -q -e ".[hub]"
	@command -v npm >/dev/null && npm install --silent --prefix jupyterhub/.proxy configurable-http-proxy || \
		echo "npm missing: the JupyterHub test will be skipped (install Node.js)"

test: install-test  ## everything: unit tests, every notebook under nbval, live smoke tests
	$(PYTHON) -m pytest $(PYTEST_ARGS) -m "not browser"
	@# Then the browser tests (JupyterLab driven by headless Chromium) with the machine to themselves:
	@# beside three busy workers on two cores, JupyterLab can take minutes to render a notebook.
	$(PYTHON) -m pytest -p no:xdist -m browser

test-fast:  ## offline tests only, no install step, no live server
	$(PYTHON) -m pytest $(PYTEST_ARGS) -m "not live and not browser"

serve:
	llmlab serve

bench:  ## measure the performance budget into docs/benchmark.md
	$(PYTHON) -m compileall -q src
	PYTEST_ARGS="$(PYTEST_ARGS)" $(PYTHON) -m llmlab.bench
