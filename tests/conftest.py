"""Fixtures shared by the test modules. The test doubles they are built on live in
tests/helpers.py; test-wide environment settings are in the repository's conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def kit_server() -> Iterator[str]:
    """The kit's own server (llmlab serve) on a free port for this test session: its base URL.
    Needs the [local] extra; a server other tools use on port 8765 is never touched."""
    pytest.importorskip("llama_cpp", reason="install the local extra: pip install -e '.[local]'")
    from llmlab import local_server

    from helpers import free_port

    with local_server.running(port=free_port()) as url:
        yield url
