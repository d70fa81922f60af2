"""Notebooks as reveal.js slide decks (nbconvert's SlidesExporter), without touching the notebook.

The notebook is copied in memory and each cell gets `metadata.slideshow.slide_type`:
the title and every `##` heading cell start a slide, other markdown cells are sub-slides,
code cells are fragments under the text they illustrate, and the quiz (its heading and its
`llmlab.quiz.show(...)` cell) is skipped: the room takes it in the notebook. The HTML loads
reveal.js from a CDN when it is opened; exporting needs no network."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from ..notebooks import find_notebook

HEADING = re.compile(r"^\s*#{1,2}\s+\S")  # a cell whose first line is a # or ## heading
QUIZ_HEADING = re.compile(r"^\s*##\s+Quiz\b")


def slide_type(cell) -> str:
    source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
    if cell.cell_type == "markdown":
        if QUIZ_HEADING.match(source):
            return "skip"
        return "slide" if HEADING.match(source) else "subslide"
    if cell.cell_type == "code":
        if "llmlab.quiz.show(" in source:
            return "skip"
        return "fragment"
    return "skip"  # raw cells


def with_slide_types(nb):
    """A copy of the notebook with every cell's slideshow.slide_type set."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.metadata.setdefault("slideshow", {})["slide_type"] = slide_type(cell)
    return nb


def export(notebook: str | Path, out_dir: str | Path) -> Path:
    """Write OUT_DIR/<stem>.slides.html and return its path."""
    from nbconvert import SlidesExporter

    path = find_notebook(str(notebook))
    nb = with_slide_types(nbformat.read(path, as_version=4))
    exporter = SlidesExporter()
    title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells
                  if c.cell_type == "markdown" and c.source.startswith("# ")), path.stem)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{path.stem}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target
