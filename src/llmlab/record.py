"""`llmlab record` and `llmlab execute`: run a notebook live once to fill its
cassette, then in replay so the committed outputs are exactly what a learner sees."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat

from .cassettes.format import cassette_path
from .config import load_yaml, project_root
from .errors import LlmlabError
from .notebooks import REPLAY_ENV, environment, execute


def execute_in_replay(path: Path) -> float:
    """Re-run a notebook against its cassette and save it with those outputs."""
    t0 = time.perf_counter()
    with environment(**REPLAY_ENV):
        nb = execute(path)
    nbformat.write(nb, path)
    return time.perf_counter() - t0


def record(path: Path, backend: str, cassette_dir: Path | None = None) -> None:
    """Run a notebook live, rewriting its cassette; restore the old one on failure."""
    cassette = cassette_path(cassette_dir or project_root() / "cassettes", path.stem)
    backup = cassette.with_suffix(".yaml.bak")
    if cassette.exists():
        shutil.copy2(cassette, backup)
        cassette.unlink()
    try:
        with environment(LLMLAB_BACKEND=backend, LLMLAB_RECORD="1", LLMLAB_PACE="0"):
            execute(path)
        if not cassette.exists():
            raise LlmlabError(f"{path.name} ran but wrote no cassette: does it call llmlab.start()?")

        if not (load_yaml(cassette.read_text()) or {}).get("interactions"):
            print(f"  warning: {path.name} ran live but recorded no requests; if it should call the API, "
                  "check the server was reachable and re-record")
    except BaseException:
        if backup.exists():
            shutil.move(backup, cassette)
        raise
    backup.unlink(missing_ok=True)
