"""Run All never dies on a live server that lacks something (llmlab.run_all): a cell
that fails because of the server prints one line and the notebook moves on; cells
that need its result say so; the learner's own bugs still raise. Cells run in a real
IPython shell, through the real client and transport, against a server like the ones
learners bring (tests/helpers.chat_only_server)."""

from __future__ import annotations

import httpx2
import pytest
from IPython.core.interactiveshell import InteractiveShell

from llmlab import backends as bk
from llmlab import run_all
from llmlab.session import Lab

from helpers import chat_only_server

TOOLS = ('[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", '
         '"properties": {"city": {"type": "string"}}}}}]')
# A cell's first line: a tool-using request (the fake server answers it with text, no tool_calls).
ASK_WITH_TOOLS = ("r = lab.client.chat.completions.create(model=lab.models.tools, "
                  "messages=[{'role': 'user', 'content': 'Weather in Paris?'}], tools=" + TOOLS + ")\n")


@pytest.fixture
def shell(monkeypatch):
    """A fresh IPython shell (not the global one) with a live lab whose HTTP goes to the fake server."""
    monkeypatch.delenv("LLMLAB_STRICT", raising=False)
    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", lambda self, request: chat_only_server(request))
    backend = bk.url_backend("http://fake-server.invalid/v1")
    lab = Lab(notebook="03_function_calling", backend="url", mode="live", models=backend.models,
              capabilities=backend.capabilities, server="a fake server", base_url=backend.base_url)
    sh = InteractiveShell()
    sh.user_ns["lab"] = lab
    assert run_all.install(lab, sh) is not None
    return sh


def run(sh, code: str, capsys):
    result = sh.run_cell(code)
    return result, capsys.readouterr().out.strip()


def test_an_answer_without_tool_calls_prints_what_came_instead(shell, capsys):
    result, out = run(shell, ASK_WITH_TOOLS +
                             "call = r.choices[0].message.tool_calls[0]", capsys)
    assert result.success, result.error_in_exec
    assert out.startswith("The server answered without what this cell reads (TypeError")
    assert "What came instead: finish_reason 'stop', 0 tool calls, text 'OK'" in out
    assert len(out.splitlines()) == 1
    # The next cell builds on `call`: one line, no NameError.
    result, out = run(shell, "print(call.function.name)", capsys)
    assert result.success and out == ("Skipped: this cell needs `call`, which an earlier cell could not make "
                                      "(see above).")


def test_next_over_answer_items_that_hold_none_is_a_missing_field(shell, capsys):
    """`next(item for item in r.output if ...)` raises StopIteration when no item is of that kind."""
    result, out = run(shell, ASK_WITH_TOOLS +
                             "call = next(c for c in r.choices[0].message.tool_calls or [])", capsys)
    assert result.success, result.error_in_exec
    assert out.startswith("The server answered without what this cell reads (StopIteration")
    result, out = run(shell, "print(call.id)", capsys)
    assert result.success and out.startswith("Skipped: this cell needs `call`")


def test_a_later_cell_reading_an_answer_that_lacked_something_says_so(shell, capsys):
    """No request in the cell, but it reads an earlier answer that came without tool calls."""
    result, out = run(shell, ASK_WITH_TOOLS +
                             "calls = r.choices[0].message.tool_calls or []\n"
                             "first = calls[0]", capsys)
    assert result.success and out.startswith("The server answered without what this cell reads (IndexError")
    result, out = run(shell, "slowest = max(len(c.id) for c in calls)", capsys)
    assert result.success and out.startswith("Skipped: this cell reads what an earlier answer lacked (ValueError")
    assert "slowest" in shell.user_ns[run_all.GUARD_NAME].unavailable


def test_a_server_error_prints_the_servers_message_and_a_fix(shell, capsys):
    result, out = run(shell, "e = lab.client.embeddings.create(model=lab.models.embed, input='hi')", capsys)
    assert result.success
    assert out.startswith("The server refused this cell's request (HTTP 501: embeddings are not implemented).")
    assert "llmlab probe" in out or "Fix:" in out


def test_the_learners_own_bugs_still_raise(shell, capsys):
    assert not shell.run_cell("undefined_name + 1").success  # a NameError no API failure explains
    assert not shell.run_cell("1 / 0").success
    # A TypeError in a cell that asked the server nothing is the learner's, not the server's.
    assert not shell.run_cell("len(None)").success


def test_a_cell_still_shows_its_last_value_and_keeps_its_names(shell):
    result = shell.run_cell("x = 41\nx + 1")
    assert result.success and result.result == 42 and shell.user_ns["x"] == 41
    assert shell.run_cell("def double(n):\n    return 2 * n\ndouble(x)").result == 82


def test_replay_and_strict_mode_are_not_guarded(monkeypatch):
    replay = Lab(notebook="n", backend="replay", mode="replay", models=bk.LOCAL.models,
                 capabilities=frozenset(), server="", base_url="")
    assert run_all.install(replay, InteractiveShell()) is None
    monkeypatch.setenv("LLMLAB_STRICT", "1")
    live = Lab(notebook="n", backend="url", mode="live", models=bk.LOCAL.models, capabilities=frozenset(),
               server="", base_url="")
    assert run_all.install(live, InteractiveShell()) is None


def test_summaries_of_answers():
    assert run_all.summarize_answer(b'{"choices": [{"message": {"content": "Hi", "tool_calls": null}, '
                                    b'"finish_reason": "stop"}]}') == "finish_reason 'stop', 0 tool calls, text 'Hi'"
    assert run_all.summarize_answer(b'{"status": "incomplete", "output": [{"type": "message"}]}') == (
        "status 'incomplete', output items ['message']")
    assert run_all.summarize_answer(b"not json") == ""
