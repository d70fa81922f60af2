"""Replay as a learner gets it in JupyterLab: a real Jupyter kernel with no test
settings, so streams are paced by default and a re-run cell replays again."""

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from llmlab.maintainer import netguard

ROOT = Path(__file__).resolve().parents[1]

STREAM_CELL = """
import json, time
import llmlab
lab = llmlab.start("04_streaming", quiet=True)
index = next(i for i, x in enumerate(lab._cassette.recorded)
             if "text/event-stream" in str(x["response"]["headers"]))
request = json.loads(lab._cassette.recorded[index]["request"]["body"])

def stream_once():
    t0, first = time.perf_counter(), None
    for chunk in lab.client.chat.completions.create(**request):
        first = first if first is not None else (time.perf_counter() - t0) * 1000
    return first, (time.perf_counter() - t0) * 1000

first_ms, total_ms = stream_once()
print(json.dumps({"pace": lab.pace, "strict": lab._cassette.strict, "first_ms": first_ms, "total_ms": total_ms,
                  "recorded_first_ms": lab._timings[index][0][0], "recorded_ms": lab._timings[index][-1][0]}))
"""


def test_streams_are_paced_and_reruns_replay_in_a_jupyter_kernel(monkeypatch):
    monkeypatch.delenv("LLMLAB_PACE", raising=False)  # the kernel decides, as in JupyterLab
    monkeypatch.delenv("LLMLAB_STRICT_REPLAY", raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(STREAM_CELL),
                                         nbformat.v4.new_code_cell("print(json.dumps(stream_once()))")])
    NotebookClient(nb, timeout=120, kernel_name=netguard.KERNEL_NAME,
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    first = json.loads(nb.cells[0].outputs[-1]["text"])
    assert first["pace"] is True and first["strict"] is False
    assert first["recorded_ms"] > 100, "notebook 04's first stream should take visible time"
    assert first["total_ms"] >= 0.8 * first["recorded_ms"], first
    assert first["first_ms"] >= 0.8 * first["recorded_first_ms"], first
    # the learner runs the cell again: the same recorded stream plays again, paced again
    _again_first_ms, again_total_ms = json.loads(nb.cells[1].outputs[-1]["text"])
    assert again_total_ms >= 0.8 * first["recorded_ms"]
