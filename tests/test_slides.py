"""`llmlab slides`: notebook 01 as a reveal.js deck, built offline into a temporary directory."""

import re

import nbformat

from llmlab.classroom.slides import export, with_slide_types
from llmlab.config import project_root

NB01 = project_root() / "notebooks" / "01_chat_completions.ipynb"


def test_slide_types_follow_the_headings_and_skip_the_quiz():
    original = nbformat.read(NB01, as_version=4)
    nb = with_slide_types(original)
    types = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    headings = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith(("# ", "## "))]
    assert all(c.metadata["slideshow"]["slide_type"] in ("slide", "skip") for c in headings)
    assert types.count("slide") == len(headings) - 1  # all but "## Quiz"
    quiz = [c for c in nb.cells if "llmlab.quiz.show(" in c.source or c.source.startswith("## Quiz")]
    assert quiz and all(c.metadata["slideshow"]["slide_type"] == "skip" for c in quiz)
    assert "slideshow" not in original.cells[0].metadata  # the notebook itself is untouched


def test_deck_for_01_has_sections_and_the_title(tmp_path):
    html_path = export("01", tmp_path)
    assert html_path == tmp_path / "01_chat_completions.slides.html"
    html = html_path.read_text(encoding="utf-8")
    assert len(re.findall(r"<section", html)) >= 8
    assert "What is the OpenAI Chat Completions API?" in html
    assert "reveal" in html.lower()
    assert "llmlab.quiz.show" not in html
