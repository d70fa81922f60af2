"""`llmlab probe`: capabilities measured with real requests, cached, and used by
`llmlab.start()` for servers the kit cannot know in advance (URL and Ollama backends)."""

from __future__ import annotations

import json

import httpx2
import pytest

from llmlab import backends as bk
from llmlab import probe as pr
from llmlab import session

from helpers import chat_only_server


@pytest.fixture(autouse=True)
def kit_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMLAB_HOME", str(tmp_path))
    return tmp_path


def url_backend() -> bk.Backend:
    return bk.url_backend("http://probe-test.invalid/v1")


def test_a_missing_capability_is_found_and_said_in_words():
    result = pr.probe(url_backend(), transport=httpx2.MockTransport(chat_only_server))
    assert result.found["chat"] and result.found["stream"] and result.found["models"]
    assert not result.found["tools"] and "no tool_calls" in result.detail["tools"]
    assert not result.found["embeddings"] and result.detail["embeddings"].startswith("HTTP 501")
    assert not result.found["stream_usage"] and not result.found["images"]
    assert "tools" not in result.capabilities and "chat" in result.capabilities


def test_a_dropped_kept_alive_connection_is_retried_not_counted_as_missing():
    """llama-server now and then closes a kept-alive connection as the next request goes out."""
    dropped: set[str] = set()

    def flaky(request: httpx2.Request) -> httpx2.Response:
        key = f"{request.method} {request.url.path} {request.content[:60]!r}"
        if key not in dropped:  # every request fails once, then gets its answer
            dropped.add(key)
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        return chat_only_server(request)

    result = pr.probe(url_backend(), transport=httpx2.MockTransport(flaky))
    assert result.found["chat"] and result.found["stream"], result.detail
    assert not result.found["tools"] and "no tool_calls" in result.detail["tools"]


def test_a_connection_that_keeps_breaking_marks_the_capability_missing_without_raising():
    def broken(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/chat/completions"):
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        return chat_only_server(request)

    result = pr.probe(url_backend(), transport=httpx2.MockTransport(broken))
    assert not result.found["chat"] and "RemoteProtocolError" in result.detail["chat"]
    assert not result.found["stream"] and "RemoteProtocolError" in result.detail["stream"]
    assert result.found["models"]


def test_start_uses_the_cached_probe_so_lab_can_tells_the_truth(capsys):
    backend = url_backend()
    pr.remember(pr.probe(backend, transport=httpx2.MockTransport(chat_only_server)))
    probed = session._probed(backend)  # what start() does for URL and Ollama backends
    assert "tools" not in probed.capabilities and "chat" in probed.capabilities
    lab = session.Lab(notebook="03_function_calling", backend="url", mode="live", models=probed.models,
                      capabilities=probed.capabilities, server=probed.server, base_url=probed.base_url,
                      _notes=probed.notes)
    assert lab.can("chat") and not lab.can("tools")
    line = capsys.readouterr().out.strip()
    assert line.startswith("Skipped: llmlab probe found no tool calls") and "no tool_calls" in line


def test_the_first_start_probes_once_and_says_so(monkeypatch):
    backend, said, calls = url_backend(), [], []
    real = pr.probe
    monkeypatch.setattr(pr, "probe", lambda b: calls.append(b) or real(b, transport=httpx2.MockTransport(
        chat_only_server)))
    pr.capabilities_for(backend, announce=said.append)
    pr.capabilities_for(backend, announce=said.append)
    assert len(calls) == 1 and len(said) == 1 and "once" in said[0] and "llmlab probe --refresh" in said[0]


def test_a_damaged_cache_is_ignored_not_fatal():
    pr.cache_path().write_text("{not json")
    assert pr.cached(url_backend()) is None
    pr.cache_path().write_text(json.dumps({"http://probe-test.invalid/v1 default": {"bogus": 1}}))
    assert pr.cached(url_backend()) is None


def test_the_probe_command_prints_the_table(cli, monkeypatch):
    from llmlab.cli import app

    monkeypatch.setattr(pr, "Prober", _mock_prober)
    result = cli.invoke(app, ["probe", "http://probe-test.invalid/v1", "--timeout", "2"])
    assert result.exit_code == 0, result.output
    assert "embeddings endpoint" in result.output and "HTTP 501" in result.output
    assert pr.cached(url_backend()) is not None


_RealProber = pr.Prober


def _mock_prober(backend, timeout, transport=None):
    return _RealProber(backend, timeout, httpx2.MockTransport(chat_only_server))


def test_replay_has_nothing_to_probe(cli, monkeypatch):
    from llmlab.cli import app

    monkeypatch.delenv("LLMLAB_BACKEND", raising=False)
    result = cli.invoke(app, ["probe", "replay"])
    assert result.exit_code != 0 and "Replay has no server to probe" in result.output


@pytest.mark.live
def test_the_probe_agrees_with_the_local_backends_table(kit_server):
    """Every capability the LOCAL table claims is found by the probe on the real server,
    and every one it disclaims is not: the table is measured, not hoped."""
    local = bk.Backend(**{**bk.LOCAL.__dict__, "base_url": kit_server})
    result = pr.probe(local, timeout=300)
    claimed = {c for c in result.found if c in bk.LOCAL.capabilities}
    assert {c for c, ok in result.found.items() if ok} == claimed, result.detail
