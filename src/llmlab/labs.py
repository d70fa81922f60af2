"""Labs from solutions: one source. Solution notebooks mark their answers with
`### BEGIN SOLUTION` / `### END SOLUTION` lines in code cells; the lab is the
same notebook with each marked region replaced by a stub that raises."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .config import project_root
from .errors import LlmlabError

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Your code here: see the instructions above.")'
_REGION = re.compile(rf"^(?P<indent>[ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*(\n|$)",
                     re.S | re.M)


class MarkerError(LlmlabError, ValueError):
    pass


def strip_solutions(source: str, where: str = "cell") -> str:
    if source.count(BEGIN) != source.count(END):
        raise MarkerError(f"{where}: {source.count(BEGIN)} BEGIN SOLUTION but {source.count(END)} END SOLUTION markers")
    return _REGION.sub(lambda m: f"{m.group('indent')}{STUB}\n", source)


def lab_from_solution(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    lab = nbformat.v4.new_notebook(metadata=solution.metadata)
    for i, cell in enumerate(solution.cells):
        src = cell.source
        if cell.cell_type == "code":
            src = strip_solutions(src, f"{name} cell {i + 1}")
            new = nbformat.v4.new_code_cell(src, metadata=cell.metadata)
        elif cell.cell_type == "markdown":
            if "<!-- solution-only -->" in src:
                continue  # explanations of the answer stay in the solution
            new = nbformat.v4.new_markdown_cell(src, metadata=cell.metadata)
        else:
            new = nbformat.v4.new_raw_cell(src, metadata=cell.metadata)
        lab.cells.append(new)
    return lab


def sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def generate(names: list[str] | None = None, root: Path | None = None) -> list[Path]:
    """Write labs/<name>.ipynb from solutions/<name>.ipynb (sources only; run `llmlab execute` after)."""
    root = root or project_root()
    written = []
    for path in sorted((root / "solutions").glob("lab*.ipynb")):
        if names and path.stem not in names:
            continue
        solution = nbformat.read(path, as_version=4)
        lab = lab_from_solution(solution, path.stem)
        target = root / "labs" / path.name
        if target.exists():
            old = nbformat.read(target, as_version=4)
            if sources(old) == sources(lab):
                continue  # unchanged: keep its executed outputs
        target.parent.mkdir(exist_ok=True)
        nbformat.write(lab, target)
        written.append(target)
    return written
