"""The bank, the grading, the widgets driven from Python, progress on disk, and the terminal interview;
options shuffled per learner and sitting, the first answer counting, spaced repetition on a fake
clock, and numbers as people type them."""

import json
import random
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml

from llmlab.quiz import bank as qb
from llmlab.quiz.grading import NotAnAnswer, grade, self_grade
from llmlab.quiz.interview import draw, make_report
from llmlab.quiz.mock import MockInterview
from llmlab.quiz.numbers import parse_number
from llmlab.quiz.progress import Progress, ProgressFileError
from llmlab.quiz.sitting import Sitting
from llmlab.quiz.widgets import QuestionCard, TopicQuiz
from llmlab.toc import load_seed_questions, load_toc

from helpers import FakeClock

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
    with pytest.raises(qb.BankError, match=r"02_x\.yaml: not valid YAML"):
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
    with pytest.raises(NotAnAnswer, match="type it again"):
        grade(q, "not a number")


def test_every_open_question_lists_one_to_three_distinct_wrong_claims():
    """The "must not claim" points (docs/quiz.md): false claims, none of them a rubric point."""
    for q in (q for q in qb.questions() if isinstance(q, qb.OpenAnswer)):
        assert 1 <= len(q.must_not_claim) <= 3, q.id
        assert len(set(q.must_not_claim)) == len(q.must_not_claim) and not set(q.must_not_claim) & set(q.rubric)
        assert all(len(c.split()) >= 4 for c in q.must_not_claim), q.id


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


def _tick(card, bank_indexes):
    """Tick boxes by their label, as a learner would, whatever order they are shown in."""
    wanted = {card.question.options[i] for i in bank_indexes}
    for box in card._boxes:
        box.value = box.description in wanted


def test_multiple_choice_card_reads_checkboxes():
    q = next(q for q in ALL if q.type == "multiple")
    card = QuestionCard(q, q.id[:2])
    _tick(card, q.answer)
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
    a.learner_id()
    exported = a.export(tmp_path / "export.json")
    b = Progress(tmp_path / "b.json")
    assert b.import_file(exported) == 2
    assert b.learner == a.learner  # a fresh file takes on the exported learner id...
    c = Progress(tmp_path / "c.json")
    own = c.learner_id()
    c.import_file(exported)
    assert c.learner == own  # ...one with its own id keeps it
    assert b.import_file(exported) == 0
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(ProgressFileError):
        b.import_file(tmp_path / "junk.json")


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


# -- options shuffled per learner and sitting -------------------------------------------
CHOICE = [q for q in ALL if q.type in ("single", "multiple")]


def test_two_learners_see_different_orders_and_one_learner_a_stable_one(tmp_path):
    ana, ben = Progress(tmp_path / "ana.json"), Progress(tmp_path / "ben.json")
    assert ana.learner_id() != ben.learner_id()
    assert Progress.load(tmp_path / "ana.json").learner_id() == ana.learner_id()  # made once, kept
    a, b = Sitting.begin(ana), Sitting.begin(ben)
    differ = sum(a.order(q) != b.order(q) for q in CHOICE) / len(CHOICE)
    assert differ > 0.8, differ
    # Within a sitting the order never changes, whichever card or object asks.
    again = Sitting(a.learner, a.id)
    assert all(a.order(q) == again.order(q) for q in CHOICE)
    assert all(sorted(a.order(q)) == list(range(len(q.options))) for q in CHOICE)
    # The widget shows that order, and a second card of the same sitting shows the same.
    q = next(q for q in CHOICE if q.type == "single")
    labels = [label for label, _ in QuestionCard(q, q.id[:2], sitting=a).input.options]
    assert labels == [q.options[i] for i in a.order(q)]
    assert [label for label, _ in QuestionCard(q, q.id[:2], sitting=a).input.options] == labels


def test_scoring_maps_the_shown_choice_back_to_the_bank_under_shuffling():
    sitting = Sitting("someone")
    for q in CHOICE:
        card = QuestionCard(q, q.id[:2], sitting=sitting)
        if q.type == "single":
            card.input.label = q.options[q.answer]  # click the right option by its text
        else:
            _tick(card, q.answer)
        assert card.submit().correct, q.id
    partial = next(q for q in CHOICE if q.type == "multiple" and len(q.answer) >= 2)
    card = QuestionCard(partial, partial.id[:2], sitting=Sitting("someone else"))
    _tick(card, partial.answer[:1])
    assert 0 < card.submit().score < 1
    wrong = next(q for q in CHOICE if q.type == "single")
    card = QuestionCard(wrong, wrong.id[:2], sitting=Sitting("a third"))
    card.input.label = wrong.options[(wrong.answer + 1) % len(wrong.options)]
    assert card.submit().score == 0.0


def test_the_terminal_shows_shuffled_numbers_and_maps_them_back(tmp_path):
    from rich.console import Console

    from llmlab.quiz.terminal import run

    progress = Progress(tmp_path / "p.json")
    sitting = Sitting.begin(progress)
    singles = [q for q in qb.questions("01") if q.type == "single"]
    # Answer each single-choice question with the number it is shown under in this sitting.
    by_prompt = {q.prompt: str(sitting.order(q).index(q.answer) + 1) for q in singles}
    seen = []

    def ask(prompt):
        current = next((line for line in reversed(seen) if line in by_prompt), "")
        return by_prompt.get(current, "")

    console = Console(record=True, width=200)
    console.print = _spy(console.print, seen)
    out = run(questions=30, topics=["01"], level="junior", seed=1, console=console, ask=ask,
              progress=progress, sitting=sitting)
    answered = [out["results"][q.id] for q in singles if q.id in out["results"] and q.difficulty == "junior"]
    assert answered and all(r.correct for r in answered)


def _spy(print_, seen):
    def spy(*args, **kw):
        if args:
            seen.append(str(args[0]))
        return print_(*args, **kw)
    return spy


# -- the first answer counts -------------------------------------------------------------
def test_a_second_check_changes_nothing_in_the_topic_quiz(tmp_path):
    quiz = TopicQuiz("01", progress=Progress(tmp_path / "p.json"))
    card = next(c for c in quiz.cards if c.question.type == "single")
    q = card.question
    card.input.value = (q.answer + 1) % len(q.options)
    card.check.click()
    assert "✘" in card.feedback.value and card.check.disabled and card.input.disabled
    card.input.value = q.answer  # a browser would not allow it; a second click must not count anyway
    card.check.click()
    card.submit()
    assert "✘" in card.feedback.value and quiz.results[q.id].score == 0.0
    assert "Score: 0 / " in quiz.score.value and "1 of" in quiz.score.value
    saved = json.loads((tmp_path / "p.json").read_text())["attempts"]
    assert [(a["question_id"], a["score"]) for a in saved] == [(q.id, 0.0)]
    assert saved[0]["sitting"] == quiz.sitting.id
    multiple = next(c for c in quiz.cards if c.question.type == "multiple")
    _tick(multiple, multiple.question.answer)
    multiple.check.click()
    assert all(box.disabled for box in multiple._boxes)
    # Re-running the quiz cell is a new sitting: the question can be answered again.
    again = TopicQuiz("01", progress=Progress.load(tmp_path / "p.json"))
    assert again.sitting.id != quiz.sitting.id and not again.results


def test_an_empty_or_unreadable_answer_asks_again_and_records_nothing(tmp_path):
    quiz = TopicQuiz("01", progress=Progress(tmp_path / "p.json"))
    single = next(c for c in quiz.cards if c.question.type == "single")
    single.check.click()
    assert "Choose an option first" in single.feedback.value and not single.check.disabled
    numeric = next(c for c in quiz.cards if c.question.type == "numeric")
    numeric.input.value = "about a hundred"
    numeric.check.click()
    assert "type it again" in numeric.feedback.value and not numeric.check.disabled
    assert not quiz.results and json.loads((tmp_path / "p.json").read_text())["attempts"] == []
    numeric.input.value = f"{numeric.question.answer:,g} {numeric.question.unit or ''}"
    numeric.check.click()
    assert "✔" in numeric.feedback.value and numeric.check.disabled


def test_the_mock_interview_score_cannot_be_inflated_by_rechecking(tmp_path):
    progress = Progress(tmp_path / "p.json")
    m = MockInterview(questions=10, topics=["01"], seed=3, progress=progress, clock=False)
    m.start()
    while m.asked[m.index].type != "single":
        m.next()
    q = m.asked[m.index]
    m.card.input.value = (q.answer + 1) % len(q.options)
    m.card.check.click()
    m.card.input.value = q.answer
    m.card.check.click()
    assert m.card.check.disabled and m.results[q.id].score == 0.0
    report = m.finish()
    assert report.total == 0 and report.answered == 1 and q.id in report.retry
    assert [a.score for a in Progress.load(tmp_path / "p.json").attempts] == [0.0]


# -- numbers as people type them -----------------------------------------------------------
@pytest.mark.parametrize("typed, unit, value", [
    ("1,105", "tokens", 1105), ("1 105", "tokens", 1105), ("1\u202f105", None, 1105), ("120 tokens", "tokens", 120),
    ("7%", "%", 7), ("7", "%", 7), ("7 percent", "%", 7), ("$1.20", "USD", 1.2), ("1.20 USD", "USD", 1.2),
    ("1.2k", "tokens", 1200), ("3M", None, 3e6), ("0,5", None, 0.5), ("1,105.5", None, 1105.5),
    ("20%", None, 0.2), ("50%", "probability", 0.5), ("2 million", "million calls/month", 2),
    ("25 rpm", "requests/min", 25),
    ("−3", None, -3), ("2s", "s", 2), ("3.5x", "x", 3.5),
])
def test_numbers_as_people_type_them(typed, unit, value):
    assert parse_number(typed, unit)[0] == pytest.approx(value)


def test_a_bare_fraction_on_a_percent_question_counts_either_way():
    q = next(q for q in ALL if q.type == "numeric" and q.unit == "%")
    assert parse_number(f"{q.answer / 100:g}", "%")[-1] == pytest.approx(q.answer)
    for typed in (f"{q.answer:g}", f"{q.answer:g}%", f"{q.answer / 100:g}"):
        assert grade(q, typed).correct, typed
    assert not grade(q, f"{q.answer / 100:g}%").correct  # with the sign it means that many percent


@pytest.mark.parametrize("typed, unit", [
    ("about 7", None), ("1,10,5", None), ("$1.20", "tokens"), ("120 seconds", "tokens"), ("5m", None),
    ("", None), ("1..2", None), ("120%", "tokens"), ("k", None), ("12 34", None),
])
def test_unreadable_numbers_are_refused_with_one_line(typed, unit):
    q = next(q for q in ALL if q.type == "numeric").model_copy(update={"unit": unit})
    with pytest.raises(NotAnAnswer) as err:
        grade(q, typed)
    assert "\n" not in str(err.value)


def test_the_terminal_asks_again_after_an_unreadable_entry(tmp_path):
    from rich.console import Console

    from llmlab.quiz.terminal import run

    q = next(q for q in qb.questions("01") if q.type == "numeric")
    answers = iter(["lots", f"{q.answer:,g} {q.unit or ''}"])
    console = Console(record=True, width=120)
    out = run(questions=1, topics=["01"], level=q.difficulty, seed=0, console=console,
              ask=lambda _: next(answers, ""), progress=_only_new(tmp_path, q))
    assert "type it again" in console.export_text()
    assert out["results"][q.id].correct
    assert len(Progress.load(tmp_path / "p.json").attempts) == len(_answered_before(q)) + 1


def _answered_before(q):
    return [x for x in qb.questions("01") if x.difficulty == q.difficulty and x.id != q.id]


def _only_new(tmp_path, q):
    """A progress file where every other question of q's level is answered and not due, so q comes first."""
    p = Progress(tmp_path / "p.json")
    for other in _answered_before(q):
        p.record(other.id, "01", 1.0)
    return p


# -- spaced repetition on a fake clock ---------------------------------------------------
def test_leitner_boxes_move_with_results_across_days(tmp_path):
    clock = FakeClock()
    p = Progress(tmp_path / "p.json", now=clock)
    qid = "01-roles"
    p.record(qid, "01", 1.0)
    assert p.box(qid) == 1 and not p.is_due(qid)
    clock.days(0.5)
    p.record(qid, "01", 1.0)  # right again before it is due: no promotion
    assert p.box(qid) == 1
    clock.days(0.5)
    assert p.is_due(qid)  # one day later
    p.record(qid, "01", 1.0)
    assert p.box(qid) == 2
    clock.days(2)
    assert not p.is_due(qid)
    clock.days(1)
    assert p.is_due(qid)  # box 2: three days
    p.record(qid, "01", 0.5)  # a partial answer is a miss
    assert p.box(qid) == 0 and p.is_due(qid)
    clock.days(1 / 24)
    p.record(qid, "01", 1.0)
    assert p.box(qid) == 1 and not p.is_due(qid)


def test_mistake_weight_grows_with_each_miss_in_a_row(tmp_path):
    p = Progress(tmp_path / "p.json", now=FakeClock())
    p.record("a", "01", 0.0)
    p.record("b", "01", 0.0)
    p.record("b", "01", 0.0)
    p.record("c", "01", 1.0)
    assert p.weight("b") > p.weight("a") > p.weight("c") == p.weight("never-seen")


def test_the_interview_asks_due_then_new_then_not_yet_due(tmp_path):
    clock = FakeClock()
    p = Progress(tmp_path / "p.json", now=clock)
    pool = [q for q in ALL if q.id.startswith("05-")][:6]
    missed, known, new = ({q.id for q in part} for part in (pool[:2], pool[2:4], pool[4:]))
    for qid in known:
        p.record(qid, "05", 1.0)
    clock.days(0.1)
    for qid in missed:
        p.record(qid, "05", 0.0)
    for seed in range(20):
        order = [q.id for q in draw(pool, p, 6, random.Random(seed))]
        assert set(order[:2]) == set(missed) and set(order[2:4]) == set(new) and set(order[4:]) == set(known)
    assert len(draw(pool, p, 3, random.Random(0))) == 3
    clock.days(2)  # the known ones fall due and come before the new ones
    for qid in missed:
        p.record(qid, "05", 1.0)
    order = [q.id for q in draw(pool, p, 6, random.Random(0))]
    assert set(order[:2]) == set(known) and set(order[2:4]) == set(new) and set(order[4:]) == set(missed)


def test_a_question_missed_twice_usually_comes_before_one_missed_once(tmp_path):
    p = Progress(tmp_path / "p.json", now=FakeClock())
    once, twice = ALL[0], ALL[1]
    p.record(once.id, once.id[:2], 0.0)
    p.record(twice.id, twice.id[:2], 0.0)
    p.record(twice.id, twice.id[:2], 0.0)
    firsts = [draw([once, twice], p, 2, random.Random(s))[0].id for s in range(400)]
    assert 0.55 < firsts.count(twice.id) / 400 < 0.8  # weights 4 to 2: about two thirds


def test_a_format_1_progress_file_is_migrated(tmp_path):
    path = tmp_path / "progress.json"
    old = {"format": "llmlab-progress/1", "attempts": [
        {"question_id": "01-roles", "topic": "01", "score": 0.0, "at": 1.0},
        {"question_id": "01-roles", "topic": "01", "score": 1.0, "at": 2.0}]}
    path.write_text(json.dumps(old))
    p = Progress.load(path, now=lambda: 3.0)
    assert [a.score for a in p.attempts] == [0.0, 1.0] and p.box("01-roles") == 1
    data = json.loads(path.read_text())
    assert data["format"] == "llmlab-progress/2" and data["learner"] == p.learner_id()
    assert data["attempts"] == old["attempts"]
    # Old exports still import, and old learner files still make a class report.
    (tmp_path / "old-export.json").write_text(json.dumps({**old, "attempts": old["attempts"][:1]}))
    fresh = Progress(tmp_path / "fresh.json")
    assert fresh.import_file(tmp_path / "old-export.json") == 1
    from llmlab.classroom.report import merge_class

    assert merge_class([tmp_path / "old-export.json"]) == {"01": {"old-export": 0.0}}


# -- the terminal never loads ipywidgets --------------------------------------------------
def test_the_terminal_quiz_does_not_import_ipywidgets(tmp_path):
    code = ("import sys, llmlab.quiz.terminal, llmlab.quiz.interview, llmlab.cli; "
            "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
