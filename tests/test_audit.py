"""The fact audit stays visible: every notebook and quiz file says when it was last
checked against the providers' documentation, docs/sources.md says against what, and
every notebook's core path fits a 15-minute read (llmlab.maintainer.core_path)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from llmlab.maintainer.core_path import BUDGET, DEEPER, core_words
from llmlab.quiz.bank import load_file
from llmlab.toc import load_toc

ROOT = Path(__file__).resolve().parents[1]
TOC = load_toc(ROOT)
SOURCES = ROOT / "docs" / "sources.md"
QUIZ_FILES = sorted((ROOT / "quiz" / "bank").glob("*.yaml"))


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@pytest.mark.parametrize("entry", TOC, ids=lambda e: e["number"])
def test_every_notebook_has_a_verified_date(entry):
    assert entry.get("verified"), f"{entry['file']}: no `verified:` date in notebooks/toc.yaml"
    assert _date(entry["verified"]) <= dt.date.today()


@pytest.mark.parametrize("path", QUIZ_FILES, ids=lambda p: p.stem)
def test_every_quiz_file_has_a_verified_date(path):
    verified = load_file(path).verified
    assert verified, f"{path.name}: no top-level `verified:` date"
    assert verified <= dt.date.today()


def _sections() -> dict[str, str]:
    text = SOURCES.read_text()
    parts = re.split(r"^## (\d\d)\b.*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@pytest.mark.parametrize("entry", TOC, ids=lambda e: e["number"])
def test_every_notebook_names_its_sources_with_dates(entry):
    section = _sections().get(entry["number"])
    assert section, f"docs/sources.md has no '## {entry['number']} ...' section"
    assert re.search(r"https?://|package:", section), f"{entry['number']}: no source link"
    assert re.search(r"\b20\d\d-\d\d-\d\d\b", section), f"{entry['number']}: no date a source was read"


@pytest.mark.parametrize("entry", TOC, ids=lambda e: e["number"])
def test_core_path_fits_a_fifteen_minute_read(entry):
    path = ROOT / "notebooks" / entry["file"]
    words = core_words(path)
    assert words <= BUDGET, (f"{entry['file']}: {words} words of prose before '{DEEPER}' (budget {BUDGET}); "
                             "move side topics, long tables and simulators into Going deeper or a lab")
    headings = ["".join(c["source"]).lstrip().split("\n", 1)[0] for c in json.loads(path.read_text())["cells"]
                if c["cell_type"] == "markdown"]
    if DEEPER in headings and "## Summary" in headings:
        assert headings.index(DEEPER) > headings.index("## Summary"), "Going deeper comes after the Summary"
