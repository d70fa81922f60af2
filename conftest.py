"""Test-wide settings, applied before any kernel starts (kernels inherit them).

Tests always replay, strictly and unpaced, from a throwaway home directory, so
a developer's own LLMLAB_BACKEND or config file never leaks into a run."""

import json
import os
import sys
import tempfile

_home = tempfile.mkdtemp(prefix="llmlab-test-home-")
os.environ.update({
    "LLMLAB_BACKEND": "replay",
    "LLMLAB_STRICT_REPLAY": "1",
    "LLMLAB_PACE": "0",
    "LLMLAB_HOME": _home,
    "TIKTOKEN_CACHE_DIR": os.path.join(_home, "tiktoken-cache"),
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
})
os.environ.pop("LLMLAB_RECORD", None)

# Every notebook the tests execute runs in a kernel whose network is blocked
# (llmlab.maintainer.netguard): nbval's own runs are the proof that replay stays offline.
# Imported after the settings above: llmlab reads some of them (LLMLAB_LOCAL_PORT) at import.
from llmlab.maintainer import netguard  # noqa: E402

_spec_dir = os.path.join(_home, "jupyter", "kernels", netguard.KERNEL_NAME)
os.makedirs(_spec_dir, exist_ok=True)
with open(os.path.join(_spec_dir, "kernel.json"), "w") as f:
    json.dump(netguard.kernelspec(sys.executable), f)
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    filter(None, [os.path.join(_home, "jupyter"), os.environ.get("JUPYTER_PATH")]))
os.environ.pop("OPENAI_API_KEY", None)  # replay must never need it


# Expected cost of a scope, longest first, so the xdist workers (run with
# --no-loadscope-reorder) finish together: the JupyterHub smoke test (~25 s) and
# the tests that start kernels go first, the many quick unit tests fill the tail.
_SLOW_TEST_MODULES = ("test_replay.py", "test_jupyter_replay.py", "test_pacing_and_grading.py", "test_labs.py")
# Longest of all: notebooks live against two real servers, the first time building llama-server.
_FIRST_MODULES = ("test_live_notebooks.py",)


def _cost_rank(item) -> int:
    if item.get_closest_marker("hub") or item.get_closest_marker("binder") or item.path.name in _FIRST_MODULES:
        return 0
    path = item.path
    if path.parent.name == "tests":
        return 1 if path.name in _SLOW_TEST_MODULES else 3
    return 2  # a notebook under nbval


def pytest_collection_modifyitems(config, items):
    items.sort(key=_cost_rank)  # stable: a notebook's cells keep their order
