"""The mock interview without a user interface: which questions to ask, in what
order, and the report at the end. The widget (mock.py) and the terminal
(terminal.py) both drive it; this module must not import ipywidgets."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import bank as qb
from .grading import Result
from .progress import Progress
from .schedule import review_order


def draw(pool: Sequence[qb.Question], progress: Progress, n: int, rng: random.Random) -> list[qb.Question]:
    """`n` questions in the order to ask them: due for review first, then new, then not yet due
    (schedule.review_order), as of the progress file's clock."""
    reviews = progress.reviews()
    return review_order(pool, lambda q: reviews.get(q.id), progress.now(), rng)[:n]


def pool_for(topics: Sequence[str] | None = None, level: str = "any") -> list[qb.Question]:
    questions = qb.questions()
    if topics:
        wanted = {t.split("_", 1)[0] for t in topics}
        questions = [q for q in questions if q.id[:2] in wanted]
    if level != "any":
        questions = [q for q in questions if q.difficulty == level]
    return questions


@dataclass
class Report:
    by_topic: dict[str, float]
    weakest: list[str]
    retry: list[str]
    total: float
    answered: int
    asked: int

    def lines(self) -> list[str]:
        from ..toc import load_toc

        toc = {e["number"]: e for e in load_toc()}
        out = [f"Score {self.total:g} / {self.asked} ({self.answered} answered)."]
        for topic in self.weakest:
            e = toc.get(topic, {})
            lab = f", lab labs/{e['lab']}.ipynb" if e.get("lab") else ""
            out.append(f"Revise {topic}: notebooks/{e.get('file', '?')}{lab} ({self.by_topic[topic]:.0%})")
        if self.retry:
            out.append("Retry: " + ", ".join(self.retry))
        return out


def make_report(asked: Sequence[qb.Question], results: Mapping[str, Result]) -> Report:
    """Scores of the questions asked in this interview only, each counted once."""
    counted = {q.id: results[q.id] for q in asked if q.id in results}
    by_topic: dict[str, list[float]] = {}
    for q in asked:
        by_topic.setdefault(q.id[:2], []).append(counted[q.id].score if q.id in counted else 0.0)
    means = {t: sum(v) / len(v) for t, v in sorted(by_topic.items())}
    weakest = [t for t, s in sorted(means.items(), key=lambda kv: (kv[1], kv[0])) if s < 0.75][:3]
    retry = [q.id for q in asked if q.id not in counted or not counted[q.id].correct]
    return Report(means, weakest, retry, round(sum(r.score for r in counted.values()), 2), len(counted), len(asked))
