"""The bank, the grading, the widgets driven from Python, progress on disk, and the terminal interview."""

import json
import random
import warnings
from pathlib import Path

import pytest
import yaml

from llmlab.quiz import bank as qb
from llmlab.quiz.grading import grade, self_grade
from llmlab.quiz.mock import MockInterview, draw, make_report
from llmlab.quiz.progress import Progress, ProgressFileError
from llmlab.quiz.widgets import QuestionCard, TopicQuiz
from llmlab.toc import load_seed_questions, load_toc

ROOT = Path(__file__).resolve().parents[1]
BANK = qb.load_bank(ROOT / "quiz" / "bank")
ALL = [q for t in BANK.values() for q in t.questions]


# -- the bank -----------------------------------------------------------------
def test_every_topic_has_at_least_six_questions():
    topics = [e["number"] for e in load_toc(ROOT) if e["number"] != "00"]
    short = {t: len(BANK[t].questions) if t in BANK else 0 for t in topics}
    short = {t: n for t, n in short.items() if n < 6}
    assert not short, f"topics with fewer than 6 questions: {short}"
    assert len(ALL) >= 240


def test_question_ids_are_unique_and_match_their_topic():
    ids = [q.id for q in ALL]
    assert len(ids) == len(set(ids)), "duplicate question ids"
    for topic, t in BANK.items():
        assert all(q.id.startswith(topic + "-") for q in t.questions), f"topic {topic} has foreign ids"


def test_every_seed_question_is_the_basis_of_a_quiz_question():
    seeds = load_seed_questions(ROOT)
    used = {s for q in ALL for s in q.seeds}
    for key in ("000", "001", "002"):
        missing = [q["id"] for q in seeds[key] if q["id"] not in used]
        assert not missing, f"seed {key} questions with no quiz question: {missing}"


def test_all_four_types_and_three_levels_are_used():
    assert {q.type for q in ALL} == {"single", "multiple", "numeric", "open"}
    assert {q.difficulty for q in ALL} == {"junior", "mid", "senior"}


def test_a_broken_file_names_file_question_and_field(tmp_path):
    data = yaml.safe_load((ROOT / "quiz" / "bank" / "01_chat_completions.yaml").read_text())
    data["questions"][1]["answer"] = [0, 9]
    del data["questions"][2]["explanation"]
    bad = tmp_path / "01_broken.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(qb.BankError) as err:
        qb.load_file(bad)
    text = str(err.value)
    assert "01_broken.yaml" in text
    assert data["questions"][1]["id"] in text and "answer" in text
    assert data["questions"][2]["id"] in text and "explanation" in text


def test_invalid_yaml_is_a_clear_error(tmp_path):
    bad = tmp_path / "02_x.yaml"
    bad.write_text("topic: '02'\nquestions: [\n")
    with pytest.raises(qb.BankError, match="02_x.yaml: not valid YAML"):
        qb.load_file(bad)


# -- grading ------------------------------------------------------------------
def _first(kind):
    return next(q for q in ALL if q.type == kind)


def test_single_choice_scores_right_and_wrong():
    q = _first("single")
    assert grade(q, q.answer).score == 1.0
    wrong = (q.answer + 1) % len(q.options)
    r = grade(q, wrong)
    assert r.score == 0.0 and not r.correct and q.options[q.answer] in r.feedback


def test_multiple_choice_gives_partial_credit():
    q = next(q for q in ALL if q.type == "multiple" and len(q.answer) >= 2)
    assert grade(q, q.answer).correct
    half = grade(q, q.answer[:1])
    assert 0 < half.score < 1 and not half.correct
    wrong_extra = [i for i in range(len(q.options)) if i not in q.answer][:1]
    assert grade(q, q.answer[:1] + wrong_extra).score < half.score or not wrong_extra


def test_numeric_uses_tolerance():
    q = _first("numeric")
    assert grade(q, q.answer + q.tolerance * 0.5).correct
    assert not grade(q, q.answer + q.tolerance + 1).correct
    assert grade(q, "not a number").feedback == "Enter a number."


def test_open_answer_self_grading():
    q = _first("open")
    assert self_grade(q, [True] * len(q.rubric)).correct
    partial = self_grade(q, [True] + [False] * (len(q.rubric) - 1))
    assert not partial.correct and q.rubric[-1] in partial.feedback


# -- widgets driven from Python -------------------------------------------------
def test_topic_quiz_scores_and_saves_progress(tmp_path):
    progress = Progress(tmp_path / "p.json")
    quiz = TopicQuiz("01", progress=progress)
    single = next(c for c in quiz.cards if c.question.type == "single")
    single.input.value = single.question.answer
    single.check.click()
    assert "✔" in single.feedback.value
    numeric = next(c for c in quiz.cards if c.question.type == "numeric")
    numeric.input.value = "-1"
    numeric.check.click()
    assert "✘" in numeric.feedback.value
    assert "Score: 1 / " in quiz.score.value and "2 of" in quiz.score.value
    saved = json.loads((tmp_path / "p.json").read_text())
    assert [a["score"] for a in saved["attempts"]] == [1.0, 0.0]


def test_open_card_shows_model_answer_then_self_grades(tmp_path):
    q = _first("open")
    results = []
    card = QuestionCard(q, q.id[:2], on_result=results.append)
    card.input.value = "my answer"
    card.check.click()
    assert "Model answer" in card.feedback.value
    card._ticks[0].value = True
    card._done.click()
    assert results and results[0].score == pytest.approx(1 / len(q.rubric), abs=0.01)


def test_multiple_choice_card_reads_checkboxes():
    q = next(q for q in ALL if q.type == "multiple")
    card = QuestionCard(q, q.id[:2])
    for i in q.answer:
        card._boxes[i].value = True
    assert card.submit().correct


# -- progress on disk ---------------------------------------------------------------
def test_progress_survives_a_restart(tmp_path):
    p = Progress(tmp_path / "progress.json")
    p.record("01-roles", "01", 1.0, at=1.0)
    again = Progress.load(tmp_path / "progress.json")
    assert [a.question_id for a in again.attempts] == ["01-roles"]


def test_corrupt_progress_is_kept_aside_not_lost(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text('{"format": "llmlab-progress/1", "attempts": [')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = Progress.load(path)
    assert p.attempts == [] and any("kept it as" in str(w.message) for w in caught)
    aside = list(tmp_path.glob("progress.corrupt-*.json"))
    assert len(aside) == 1 and aside[0].read_text().endswith("[")
    p.record("01-roles", "01", 1.0)
    assert Progress.load(path).attempts[0].question_id == "01-roles"


def test_export_and_import_merge_without_duplicates(tmp_path):
    a = Progress(tmp_path / "a.json")
    a.record("01-roles", "01", 1.0, at=1.0)
    a.record("04-x", "04", 0.0, at=2.0)
    exported = a.export(tmp_path / "export.json")
    b = Progress(tmp_path / "b.json")
    assert b.import_file(exported) == 2
    assert b.import_file(exported) == 0
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(ProgressFileError):
        b.import_file(tmp_path / "junk.json")


def test_spaced_repetition_prefers_past_mistakes(tmp_path):
    p = Progress(tmp_path / "p.json")
    pool = ALL[:20]
    wrong, right = pool[0], pool[1]
    p.record(wrong.id, wrong.id[:2], 0.0, at=1.0)
    for t in range(3):
        p.record(right.id, right.id[:2], 1.0, at=2.0 + t)
    assert p.weight(wrong.id) > p.weight(pool[5].id) > p.weight(right.id)
    firsts = [draw(pool, p, 5, random.Random(s)) for s in range(200)]
    share_wrong = sum(wrong in d for d in firsts) / 200
    share_right = sum(right in d for d in firsts) / 200
    assert share_wrong > 0.5 > share_right


# -- the mock interview ---------------------------------------------------------------
def test_mock_interview_runs_to_a_report(tmp_path):
    m = MockInterview(questions=4, topics=["01"], seed=3, progress=Progress(tmp_path / "p.json"), clock=False)
    m.start()
    assert len(m.asked) == 4 and "question 1 of 4" in m.status.value
    first = m.asked[0]
    if first.type == "single":
        m.card.input.value = first.answer
        m.card.submit()
    for _ in range(4):
        m.next()
    assert m.report.asked == 4 and "Interview over" in m.status.value
    assert m.report.retry  # unanswered questions are listed to retry


def test_mock_interview_times_out(tmp_path):
    m = MockInterview(minutes=5, questions=3, seed=1, progress=Progress(tmp_path / "p.json"), clock=False)
    m.start()
    m.tick(120)
    assert "03:00 left" in m.status.value
    m.tick(200)
    assert "Time is up" in m.status.value and m.report.answered == 0


def test_report_names_weakest_topics_with_links():
    asked = [q for q in ALL if q.id.startswith(("01-", "03-"))][:8]
    results = {q.id: grade(q, q.answer) for q in asked if q.id.startswith("01-") and q.type == "single"}
    report = make_report(asked, results)
    lines = "\n".join(report.lines())
    assert "notebooks/03_function_calling.ipynb" in lines


def test_terminal_interview(tmp_path):
    from rich.console import Console

    from llmlab.quiz.terminal import run

    answers = iter(["1", "1,2", "42", "", "y", "n", "y", "n", "y"] * 10)
    console = Console(record=True, width=100)
    out = run(questions=3, topics=["01"], seed=5, console=console, ask=lambda _: next(answers),
              progress=Progress(tmp_path / "p.json"))
    text = console.export_text()
    assert "Score by topic" in text and out["report"].asked == 3


def test_class_report_merges_learners(tmp_path):
    from typer.testing import CliRunner

    from llmlab.cli import app

    for name, score in (("ana", 1.0), ("ben", 0.0)):
        p = Progress(tmp_path / f"{name}.json")
        p.record("03-x", "03", score, at=1.0)
        p.record("01-y", "01", 1.0, at=2.0)
    result = CliRunner().invoke(app, ["class-report", str(tmp_path / "ana.json"), str(tmp_path / "ben.json"),
                                      "--chart", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split()[:2] == ["03", "50%"] and lines[2].split()[:2] == ["01", "100%"]
    assert (tmp_path / "c.png").stat().st_size > 1000
    (tmp_path / "bad.json").write_text("nope")
    bad = CliRunner().invoke(app, ["class-report", str(tmp_path / "bad.json")])
    assert bad.exit_code == 2 and "bad.json" in bad.output
