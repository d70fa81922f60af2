"""Fixtures shared by the test modules. The test doubles they are built on live in
tests/helpers.py; test-wide environment settings are in the repository's conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def cli() -> CliRunner:
    """Runs `llmlab` commands in-process (llmlab.cli.app), output captured."""
    return CliRunner()


@pytest.fixture
def kit_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty kit checkout (notebooks/, solutions/, labs/, quiz/bank/, cassettes/, docs/)
    that llmlab.config.project_root() answers with for the test's duration."""
    for folder in ("notebooks", "solutions", "labs", "quiz/bank", "cassettes", "docs"):
        (tmp_path / folder).mkdir(parents=True)
    monkeypatch.setenv("LLMLAB_ROOT", str(tmp_path))
    return tmp_path
