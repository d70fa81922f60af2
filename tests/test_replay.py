"""Replay is strict, offline, and explains itself when a request changes."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import llmlab
from llmlab.cassettes import ReplayMissError
from llmlab.maintainer import netguard

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "01_chat_completions.ipynb"


def test_replay_prints_one_provenance_line(capsys):
    lab = llmlab.start("01_chat_completions")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("Replay: responses recorded on ")
    assert lab.provenance.backend in ("local", "ollama", "openai")
    assert lab.models.chat == lab.provenance.models["chat"]
    lab.close()


def test_unrecorded_request_fails_with_the_clear_message():
    lab = llmlab.start("01_chat_completions", quiet=True)
    with pytest.raises(ReplayMissError) as err:
        lab.client.chat.completions.create(
            model=lab.models.chat, messages=[{"role": "user", "content": "a question nobody recorded"}])
    message = str(err.value)
    assert "01_chat_completions" in message
    assert "POST /v1/chat/completions" in message
    assert "a question nobody recorded" in message
    assert "llmlab record 01_chat_completions --backend local" in message
    lab.close()


def test_missing_cassette_names_the_record_command(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMLAB_CASSETTES", str(tmp_path))
    with pytest.raises(ReplayMissError, match="llmlab record 99_nothing"):
        llmlab.start("99_nothing")


def _run(nb, cwd: Path, kernel: str = netguard.KERNEL_NAME):
    NotebookClient(nb, timeout=120, kernel_name=kernel, resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def test_changing_a_request_in_a_notebook_fails_replay_clearly(tmp_path):
    nb = nbformat.read(NB, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and "What is a REST API?" in cell.source:
            cell.source = cell.source.replace("What is a REST API?", "What is GraphQL?")
            changed = True
    assert changed, "the test edits the first request of notebook 01; update it if that cell moved"
    with pytest.raises(CellExecutionError) as err:
        _run(nb, NB.parent)
    text = str(err.value)
    assert "ReplayMissError" in text and "01_chat_completions" in text
    assert "What is GraphQL?" in text
    assert "llmlab record 01_chat_completions --backend local" in text


def test_the_network_guard_trips_on_a_real_connection():
    """The guard every nbval run uses must actually stop a connection."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)")]
    with pytest.raises(CellExecutionError, match="network access during replay"):
        _run(nb, ROOT)


def test_the_network_guard_trips_on_a_live_backend():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import llmlab\nlab = llmlab.start('01_chat_completions', backend='http://example.org/v1')")]
    with pytest.raises(CellExecutionError, match="network access during replay"):
        _run(nb, ROOT)


def _a_recorded_chat_request(notebook: str) -> dict:
    """A plain (not streamed) chat request the notebook's cassette holds, as the SDK's keyword arguments."""
    from llmlab.cassettes.format import recorded_chat_request

    return recorded_chat_request(ROOT / "cassettes" / f"{notebook}.yaml")


def test_rerunning_a_cell_replays_again_when_not_strict(monkeypatch):
    monkeypatch.setenv("LLMLAB_STRICT_REPLAY", "0")
    lab = llmlab.start("01_chat_completions", quiet=True)
    req = _a_recorded_chat_request("01_chat_completions")
    first = lab.client.chat.completions.create(**req)
    again = lab.client.chat.completions.create(**req)  # a learner re-running the cell
    assert again.choices[0].message.content == first.choices[0].message.content
    lab.close()


def test_strict_replay_refuses_a_second_play():
    lab = llmlab.start("01_chat_completions", quiet=True)
    req = _a_recorded_chat_request("01_chat_completions")
    lab.client.chat.completions.create(**req)
    with pytest.raises(ReplayMissError, match="sent more often"):
        lab.client.chat.completions.create(**req)
    lab.close()


CASSETTES = sorted((ROOT / "cassettes").glob("*.yaml"))


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.stem)
def test_replay_reads_each_cassette_exactly_as_vcrpy_does(path):
    """Replay reads vcrpy's format itself (to skip vcrpy's import); it must see what vcrpy sees."""
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    from llmlab.cassettes.format import as_bytes
    from llmlab.cassettes.replay import ReplaySession

    requests, responses, metadata = deserialize(path.read_text(), yamlserializer)
    session = ReplaySession(path.stem, path.parent)
    try:
        assert session.metadata() == metadata
        assert len(session.recorded) == len(requests)
        for mine, (request, response) in zip(session.recorded, zip(requests, responses, strict=True), strict=True):
            assert (mine["request"]["method"], mine["request"]["uri"]) == (request.method, request.uri)
            assert as_bytes(mine["request"].get("body")) == (request.body or b"")
            assert mine["response"]["status"] == response["status"]
            assert mine["response"]["headers"] == response["headers"]
            assert as_bytes(mine["response"]["body"]["string"]) == response["body"]["string"]
    finally:
        session.close()


def test_replay_answers_clients_the_notebook_builds_itself():
    """An AsyncOpenAI or a plain httpx2 transport replays too, as it did under vcrpy's patch."""
    import asyncio

    import httpx2
    import openai

    lab = llmlab.start("06_client_structure", quiet=True)
    try:
        req = dict(model=lab.models.chat, messages=[{"role": "user", "content": "a question nobody recorded"}])
        aclient = openai.AsyncOpenAI(base_url=lab.base_url, api_key="x", max_retries=0,
                                     http_client=httpx2.AsyncClient())
        with pytest.raises(ReplayMissError, match="06_client_structure"):
            asyncio.run(aclient.chat.completions.create(**req))
    finally:
        lab.close()
    assert httpx2.HTTPTransport.handle_request.__qualname__.startswith("HTTPTransport"), "close() restores httpx2"


def test_a_broken_cassette_names_the_file_and_the_fix(tmp_path, monkeypatch):
    (tmp_path / "01_chat_completions.yaml").write_text("interactions: [unclosed\n")
    monkeypatch.setenv("LLMLAB_CASSETTES", str(tmp_path))
    with pytest.raises(ReplayMissError, match=r"01_chat_completions\.yaml is not valid YAML.*llmlab record"):
        llmlab.start("01_chat_completions")
