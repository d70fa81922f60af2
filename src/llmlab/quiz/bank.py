"""The question bank: YAML files in quiz/bank/, one per notebook topic,
validated by pydantic with errors that name the file, the question and the field."""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config import project_root
from ..errors import LlmlabError

Difficulty = Literal["junior", "mid", "senior"]
SEED_ID = r"^00[0-4]:\d{1,2}$"


class _Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^\d\d-[a-z0-9-]+$", description="stable id: topic number, dash, slug")
    type: str
    difficulty: Difficulty
    prompt: str = Field(min_length=10)
    explanation: str = Field(min_length=10, description="why the answer is right")
    section: str = Field(min_length=3, description="the notebook section that teaches it")
    seeds: list[str] = Field(min_length=1, description="seed question ids, e.g. 000:4")

    @model_validator(mode="after")
    def _seed_ids(self):
        import re

        bad = [s for s in self.seeds if not re.match(SEED_ID, s)]
        if bad:
            raise ValueError(f"seeds must look like '000:4', got {bad}")
        return self


class SingleChoice(_Question):
    type: Literal["single"]
    options: list[str] = Field(min_length=2)
    answer: int

    @model_validator(mode="after")
    def _answer_in_range(self):
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer {self.answer} is not an index of the {len(self.options)} options")
        return self


class MultipleChoice(_Question):
    type: Literal["multiple"]
    options: list[str] = Field(min_length=3)
    answer: list[int] = Field(min_length=1)

    @model_validator(mode="after")
    def _answers_in_range(self):
        if any(not 0 <= a < len(self.options) for a in self.answer) or len(set(self.answer)) != len(self.answer):
            raise ValueError(f"answer {self.answer} must be distinct indexes of the {len(self.options)} options")
        return self


class Numeric(_Question):
    type: Literal["numeric"]
    answer: float
    tolerance: float = Field(ge=0, description="absolute tolerance")
    unit: str | None = None


class OpenAnswer(_Question):
    type: Literal["open"]
    model_answer: str = Field(min_length=30)
    rubric: list[str] = Field(min_length=2, description="points a good answer makes")
    must_not_claim: list[str] = Field(default_factory=list,
                                      description="false claims candidates make; an answer that makes one "
                                                  "scores at most half marks and is never correct (grading.py)")


Question = SingleChoice | MultipleChoice | Numeric | OpenAnswer


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = Field(pattern=r"^\d\d$")
    notebook: str = Field(pattern=r"^\d\d_[a-z0-9_]+$")
    verified: dt.date | None = Field(
        default=None, description="when the answer keys were last checked against the providers' documentation "
                                  "(sources: docs/sources.md); tests/test_audit.py requires it")
    questions: list[Question] = Field(min_length=1)


class BankError(LlmlabError, ValueError):
    """A question file is broken; the message names the file, question and field."""


def bank_dir() -> Path:
    return project_root() / "quiz" / "bank"


def load_file(path: Path) -> Topic:
    """One bank file, validated; parsed once per version of the file."""
    stat = Path(path).stat()
    return _load_file(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=128)
def _load_file(name: str, _mtime_ns: int, _size: int) -> Topic:
    path = Path(name)
    try:
        raw = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C parser when built
    except yaml.YAMLError as exc:
        raise BankError(f"{path.name}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise BankError(f"{path.name}: expected a mapping with topic, notebook and questions")
    try:
        return Topic.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = list(err["loc"])
            where = ""
            if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
                qs = raw.get("questions") or []
                entry = qs[loc[1]] if loc[1] < len(qs) else None
                qid = entry.get("id", f"#{loc[1] + 1}") if isinstance(entry, dict) else f"#{loc[1] + 1}"
                rest = [str(x) for x in loc[2:] if x not in ("single", "multiple", "numeric", "open")]
                where = f"question {qid}, field {'.'.join(rest) or '(whole question)'}"
            else:
                where = f"field {'.'.join(str(x) for x in loc) or '(file)'}"
            lines.append(f"{path.name}: {where}: {err['msg']}")
        raise BankError("\n".join(dict.fromkeys(lines))) from None


@cache
def _load_all(folder: str) -> dict[str, Topic]:
    topics = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        topic = load_file(path)
        topics[topic.topic] = topic
    return topics


def load_bank(folder: Path | None = None) -> dict[str, Topic]:
    """All topics by number ("04"), validated."""
    return _load_all(str(folder or bank_dir()))


def load_topic(number: str, folder: Path | None = None) -> Topic | None:
    """One topic's file only, so a broken file elsewhere never breaks this notebook's quiz."""
    files = sorted((folder or bank_dir()).glob(f"{number}_*.yaml"))
    return load_file(files[0]) if files else None


def questions(topic: str | None = None, folder: Path | None = None) -> list[Question]:
    if topic is None:
        return [q for t in load_bank(folder).values() for q in t.questions]
    number = topic.split("_", 1)[0]
    found = load_topic(number, folder)
    if found is None:
        raise BankError(f"no questions for topic {number}; expected quiz/bank/{number}_*.yaml")
    return list(found.questions)
