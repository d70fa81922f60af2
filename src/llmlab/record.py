"""Record and re-execute notebooks: live once to fill the cassette, then in
replay so the committed outputs are exactly what a learner will see."""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import nbformat
from nbclient import NotebookClient

from .config import project_root, load_yaml


class NotebookNotFoundError(FileNotFoundError):
    pass


def find_notebooks(names: list[str], root: Path | None = None) -> list[Path]:
    """Accept '04', '04_streaming', 'notebooks/04_streaming.ipynb', or 'all'."""
    root = root or project_root()
    folders = [root / "notebooks", root / "solutions", root / "labs", root / "quiz"]
    if names == ["all"]:
        return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    found = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.exists():
            found.append(path.resolve())
            continue
        matches = [p for folder in folders for p in sorted(folder.glob(f"{name}*.ipynb"))]
        if len(matches) != 1:
            options = ", ".join(p.stem for p in matches) or "none"
            raise NotebookNotFoundError(f"{name!r} matches {len(matches)} notebooks ({options}); name one exactly.")
        found.append(matches[0])
    return found


@contextmanager
def _env(**values: str | None) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in one fresh kernel, in its own folder."""
    nb = nbformat.read(path, as_version=4)
    # store_widget_state=False: saved widget state would show a stale, dead copy of each quiz
    # (options in bank order, answers included) before the learner runs a cell.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nb.metadata.pop("widgets", None)
    return nb


def execute_in_replay(path: Path) -> float:
    """Re-run a notebook against its cassette and save it with those outputs."""
    t0 = time.perf_counter()
    with _env(LLMLAB_BACKEND="replay", LLMLAB_RECORD=None, LLMLAB_STRICT_REPLAY="1", LLMLAB_PACE="0"):
        nb = execute(path)
    nbformat.write(nb, path)
    return time.perf_counter() - t0


def record(path: Path, backend: str, cassette_dir: Path | None = None) -> None:
    """Run a notebook live, rewriting its cassette; restore the old one on failure."""
    cassette_dir = cassette_dir or project_root() / "cassettes"
    cassette = cassette_dir / f"{path.stem}.yaml"
    backup = cassette.with_suffix(".yaml.bak")
    if cassette.exists():
        shutil.copy2(cassette, backup)
        cassette.unlink()
    try:
        with _env(LLMLAB_BACKEND=backend, LLMLAB_RECORD="1", LLMLAB_PACE="0"):
            execute(path)
        if not cassette.exists():
            raise RuntimeError(f"{path.name} ran but wrote no cassette: does it call llmlab.start()?")

        if not (load_yaml(cassette.read_text()) or {}).get("interactions"):
            print(f"  warning: {path.name} ran live but recorded no requests; if it should call the API, "
                  "check the server was reachable and re-record")
    except BaseException:
        if backup.exists():
            shutil.move(backup, cassette)
        raise
    backup.unlink(missing_ok=True)
