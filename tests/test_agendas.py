"""The workshop agendas (docs/agendas.yaml): names exist, times add up, the markdown is current."""

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from llmlab.classroom.agendas import Agenda, load, output_path, render
from llmlab.config import load_yaml, project_root
from llmlab.toc import load_toc

AGENDAS = load()
TOC = load_toc()


def test_four_agendas_of_the_promised_lengths():
    assert [(a.id, a.length_minutes, a.days) for a in AGENDAS] == [
        ("taster", 90, 1), ("half-day", 210, 1), ("full-day", 480, 1), ("two-days", 960, 2)]


@pytest.mark.parametrize("agenda", AGENDAS, ids=lambda a: a.id)
def test_every_notebook_and_lab_is_in_the_toc(agenda):
    notebooks = {n["file"] for n in TOC}
    labs = {n["lab"] for n in TOC if n["lab"]}
    quizzes = {str(n["number"]).zfill(2) for n in TOC if n["quiz"]}
    for block in agenda.blocks:
        assert set(block.notebooks) <= notebooks, block.title
        assert set(block.labs) <= labs, block.title
        assert set(block.quiz) <= quizzes, block.title


@pytest.mark.parametrize("agenda", AGENDAS, ids=lambda a: a.id)
def test_durations_add_up_and_blocks_follow_each_other(agenda):
    assert sum(b.minutes for b in agenda.blocks) == agenda.length_minutes
    for prev, block in zip(agenda.blocks, agenda.blocks[1:], strict=False):
        if block.day == prev.day:
            end = datetime.strptime(prev.start, "%H:%M") + timedelta(minutes=prev.minutes)
            assert block.start == end.strftime("%H:%M"), block.title
    # every teaching block says what learners must have done
    assert all(b.checkpoint for b in agenda.blocks if b.notebooks or b.labs or b.quiz or b.mock_interview)


@pytest.mark.parametrize("agenda", AGENDAS, ids=lambda a: a.id)
def test_lab_blocks_leave_time_to_finish_the_lab(agenda):
    """A lab takes a learner 45-60 minutes (read, write, make the checks pass): a lab block holds
    one lab and nothing else, so its time is not eaten by the notebooks before it."""
    for block in agenda.blocks:
        if block.labs:
            assert len(block.labs) == 1 and not block.notebooks, f"{block.title}: one lab, alone in its block"
            assert 45 <= block.minutes <= 60, f"{block.title}: {block.minutes} minutes for a lab"


def test_two_days_cover_every_notebook_and_lab():
    two = next(a for a in AGENDAS if a.id == "two-days")
    assert {n for b in two.blocks for n in b.notebooks} == {n["file"] for n in TOC}
    assert {n for b in two.blocks for n in b.labs} == {n["lab"] for n in TOC if n["lab"]}


def test_every_agenda_ends_with_an_assessment():
    for agenda in AGENDAS:
        assert any(b.quiz or b.mock_interview for b in agenda.blocks[-2:]), agenda.id


def test_a_wrong_total_is_rejected():
    data = load_yaml((project_root() / "docs" / "agendas.yaml").read_text())["agendas"][0]
    data["length_minutes"] += 5
    with pytest.raises(ValidationError, match="add up to"):
        Agenda.model_validate(data)


def test_docs_agendas_md_is_the_rendered_output():
    assert output_path().read_text(encoding="utf-8") == render(AGENDAS), \
        "docs/agendas.md is stale: run `llmlab agendas --write`"
