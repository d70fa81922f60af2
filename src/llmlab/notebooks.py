"""The kit's notebooks as files: one resolver from what people type ("04",
"04_streaming", "lab01_chat_basics", a path, or "all") to paths, used by
`llmlab record`, `execute`, `slides` and the benchmark; and running a notebook top to
bottom in a fresh kernel, as nbval and a learner's Run All do."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .config import project_root
from .errors import LlmlabError

# Where names are looked up, in this order (a name found in two of them is ambiguous).
FOLDERS = ("notebooks", "solutions", "labs", "quiz")


class NotebookNotFoundError(LlmlabError, FileNotFoundError):
    """No notebook, or more than one, answers to a name; the message lists the candidates."""


def topic_notebooks(root: Path | None = None) -> list[Path]:
    """notebooks/NN_*.ipynb, in order: what "all" means."""
    return sorted((root or project_root()).joinpath("notebooks").glob("[0-9][0-9]_*.ipynb"))


def find_notebook(name: str, root: Path | None = None) -> Path:
    """The one notebook `name` means. A path to an existing .ipynb is taken as it is;
    otherwise an exact file name (stem) wins over names that merely start with it, and
    a name that fits several notebooks is an error naming them all."""
    path = Path(name)
    if path.suffix == ".ipynb" and path.exists():
        return path.resolve()
    root = root or project_root()
    stem = path.name.removesuffix(".ipynb")
    candidates = [p for folder in FOLDERS for p in sorted((root / folder).glob(f"{stem}*.ipynb"))]
    exact = [p for p in candidates if p.stem == stem]
    found = exact or candidates
    if len(found) == 1:
        return found[0]
    where = ", ".join(f"{folder}/" for folder in FOLDERS)
    if not found:
        raise NotebookNotFoundError(f"no notebook matches {name!r} (looked in {where} under {root})")
    options = ", ".join(str(p.relative_to(root)) for p in found)
    raise NotebookNotFoundError(f"{name!r} matches {len(found)} notebooks ({options}); name one exactly, "
                                "or give its path")


def find_notebooks(names: list[str], root: Path | None = None) -> list[Path]:
    """Each name resolved by find_notebook; ["all"] means every topic notebook."""
    if names == ["all"]:
        return topic_notebooks(root)
    return [find_notebook(name, root) for name in names]


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for a block; kernels started
    inside it inherit them."""
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


# The settings a notebook replays under in tests and when its outputs are saved.
REPLAY_ENV: dict[str, str | None] = {
    "LLMLAB_BACKEND": "replay", "LLMLAB_RECORD": None, "LLMLAB_STRICT_REPLAY": "1", "LLMLAB_PACE": "0",
}


def execute(path: Path, timeout: int = 600, allow_errors: bool = False) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in one fresh kernel, in its own folder. With allow_errors,
    a cell that raises leaves its error in its outputs and the run goes on (a survey of every
    failing cell); without, the first one raises nbclient's CellExecutionError."""
    nb = nbformat.read(path, as_version=4)
    # store_widget_state=False: saved widget state would show a stale, dead copy of each quiz
    # (options in bank order, answers included) before the learner runs a cell.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False, record_timing=False,
                            allow_errors=allow_errors, resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nb.metadata.pop("widgets", None)
    return nb
