"""What Binder would build, simulated: repo2docker cannot run on this machine, so
this test does its steps by hand. A new virtual environment on the Python that
binder/runtime.txt names, `pip install -r requirements.txt` run from binder/,
binder/postBuild, then the start notebook and one topic notebook executed under
binder/start in replay, in a home directory no earlier run has touched."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.binder
ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
NOTEBOOKS = ["notebooks/00_start_here.ipynb", "notebooks/01_chat_completions.ipynb"]


def _runtime_python() -> str:
    version = re.fullmatch(r"python-(\d+\.\d+)\s*", (BINDER / "runtime.txt").read_text()).group(1)
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if not found:
        pytest.skip(f"binder/runtime.txt asks for Python {version}, which this machine does not have")
    return found


def _run(cmd, **kwargs) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_binder_builds_and_replays(tmp_path):
    venv = tmp_path / "venv"
    home = tmp_path / "home"
    home.mkdir()
    _run([_runtime_python(), "-m", "venv", str(venv)])
    # A learner's HOME is new, but pip's download cache is kept: Binder's own build has a
    # warm cache of its own, and downloading 500 MB again would test the network, not us.
    cache = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMLAB_", "JUPYTER", "VIRTUAL_ENV", "PYTHON"))}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", PIP_DISABLE_PIP_VERSION_CHECK="1",
               **({"PIP_CACHE_DIR": cache} if cache else {}))
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", "requirements.txt"], cwd=BINDER, env=env)

    # Binder installs exactly the locked versions.
    drift = _run([str(venv / "bin" / "python"), "-m", "llmlab.maintainer.lockdiff", str(ROOT / "requirements.lock")],
                 env=env)
    assert "every installed package matches" in drift, drift

    _run(["bash", str(BINDER / "postBuild")], cwd=ROOT, env=env)
    out_dir = tmp_path / "executed"
    for notebook in NOTEBOOKS:
        _run(["bash", str(BINDER / "start"), "jupyter", "nbconvert", "--to", "notebook", "--execute",
              "--ExecutePreprocessor.kernel_name=python3", "--ExecutePreprocessor.timeout=300",
              f"--output-dir={out_dir}", notebook], cwd=ROOT, env=env)
    executed = (out_dir / "01_chat_completions.ipynb").read_text()
    assert "Replay: responses recorded on" in executed, "notebook 01 did not announce its replay provenance"
    assert '"output_type": "error"' not in executed
