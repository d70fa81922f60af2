"""Paced replay of streams, and model grading of open answers (request shape and parsing)."""

import time
from types import SimpleNamespace

import pytest

import llmlab
from llmlab.quiz import bank as qb
from llmlab.quiz.grading import GradingError, grade_open_with_model


def _first_stream_request(lab):
    """Replay the first streamed request of notebook 04 by reading it back from its cassette."""
    import json

    for interaction in lab._cassette.recorded:
        request, response = interaction["request"], interaction["response"]
        if "text/event-stream" in str(response["headers"].get("content-type", response["headers"].get("Content-Type"))):
            return json.loads(request["body"])
    raise AssertionError("no stream in cassette 04")


@pytest.mark.parametrize("pace", ["0", "1"])
def test_streams_replay_at_the_recorded_pace_when_asked(monkeypatch, pace):
    monkeypatch.setenv("LLMLAB_PACE", pace)
    lab = llmlab.start("04_streaming", quiet=True)
    timing = lab.recorded_stream_timing()
    assert timing and all(len(t) > 1 for t in timing)
    body = _first_stream_request(lab)
    index = min(lab._timings)
    recorded_ms = lab._timings[index][-1][0]
    t0 = time.perf_counter()
    chunks = list(lab.client.chat.completions.create(**body))
    elapsed_ms = (time.perf_counter() - t0) * 1000
    assert chunks
    if pace == "1":
        assert elapsed_ms >= 0.8 * recorded_ms, (elapsed_ms, recorded_ms)
    else:
        assert elapsed_ms < max(0.5 * recorded_ms, 200), (elapsed_ms, recorded_ms)
    lab.close()


class _FakeCompletions:
    def __init__(self, content):
        self.content, self.sent = content, []

    def create(self, **kw):
        self.sent.append(kw)
        msg = SimpleNamespace(content=self.content)
        return SimpleNamespace(choices=[SimpleNamespace(message=msg)])


def _fake_lab(content, capabilities):
    completions = _FakeCompletions(content)
    client = SimpleNamespace(chat=SimpleNamespace(completions=completions))
    return SimpleNamespace(mode="live", capabilities=frozenset(capabilities), client=client,
                           models=SimpleNamespace(chat="m")), completions


def _open_question():
    return next(q for q in qb.questions("01") if q.type == "open")


def test_model_grading_uses_a_strict_json_schema_where_supported():
    q = _open_question()
    lab, sent = _fake_lab('{"covered": [true, false, true], "feedback": "Good on keys."}', {"json_schema"})
    result = grade_open_with_model(lab, q, "my answer")
    fmt = sent.sent[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["properties"]["covered"]["minItems"] == len(q.rubric)
    assert result.score == pytest.approx(2 / 3, abs=0.01) and "Good on keys." in result.feedback


def test_model_grading_falls_back_to_json_mode_and_rejects_bad_verdicts():
    q = _open_question()
    lab, sent = _fake_lab("not json at all", {"json_object"})
    with pytest.raises(GradingError, match="grade this one yourself"):
        grade_open_with_model(lab, q, "my answer")
    assert sent.sent[0]["response_format"] == {"type": "json_object"}


def test_model_grading_refuses_replay():
    lab, _ = _fake_lab("{}", set())
    lab.mode = "replay"
    with pytest.raises(GradingError, match="live backend"):
        grade_open_with_model(lab, _open_question(), "x")
