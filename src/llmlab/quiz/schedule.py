"""Spaced repetition with Leitner boxes, worked out from the attempts in the
progress file (question, score, time), so nothing but the attempts is stored and
an imported file schedules the same way on another machine.

- A question nobody has answered is new.
- A miss (anything short of full marks) puts it in box 0: due again at once.
- A right answer given when the question is new or due moves it up one box;
  box b is next due INTERVAL_DAYS[b] days later (1, 3, 7, 16, 35).
- A right answer before the question is due changes nothing: re-running a quiz
  the same afternoon cannot rush a question through the boxes.

The mock interview asks due questions first (the ones missed several times in a
row most likely first), then new ones, then the rest, soonest due first.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

DAY = 86_400.0
INTERVAL_DAYS = (0, 1, 3, 7, 16, 35)  # by box
# An interval of whole days ends a quarter of a day early, so a question answered
# yesterday evening is due this morning rather than tomorrow evening.
EARLY = 0.25 * DAY
FULL_MARKS = 0.99


class _Attempt(Protocol):
    score: float
    at: float


@dataclass(frozen=True)
class Review:
    """Where one question stands: its box, when it is next due, and its recent misses."""

    box: int
    due: float  # unix time
    misses_in_a_row: int
    answered: int

    def is_due(self, now: float) -> bool:
        return now >= self.due

    @property
    def weight(self) -> float:
        """Priority among due questions: doubles with each miss in a row (capped at 16)."""
        return 2.0 ** min(self.misses_in_a_row, 4)


def next_due(at: float, box: int) -> float:
    days = INTERVAL_DAYS[box]
    return at + days * DAY - (EARLY if days else 0.0)


def review(attempts: Iterable[_Attempt]) -> Review | None:
    """Replay a question's attempts in time order; None if it was never answered."""
    box, due, misses, answered = 0, None, 0, 0
    for attempt in sorted(attempts, key=lambda a: a.at):
        answered += 1
        if attempt.score < FULL_MARKS:
            box, misses, due = 0, misses + 1, next_due(attempt.at, 0)
            continue
        misses = 0
        if due is None or attempt.at >= due:
            box = min(box + 1, len(INTERVAL_DAYS) - 1)
            due = next_due(attempt.at, box)
    if due is None:
        return None
    return Review(box, due, misses, answered)


Q = TypeVar("Q")


def review_order(pool: Sequence[Q], review_of: Callable[[Q], Review | None], now: float,
                 rng: random.Random) -> list[Q]:
    """Due questions first (weighted random order, Efraimidis-Spirakis keys, so a question
    missed three times running usually comes before one missed once), then new ones in
    random order, then those not yet due, soonest first."""
    due, new, later = [], [], []
    for q in pool:
        r = review_of(q)
        if r is None:
            new.append(q)
        elif r.is_due(now):
            due.append((rng.random() ** (1.0 / r.weight), q))
        else:
            later.append((r.due, q))
    rng.shuffle(new)
    due.sort(key=lambda kq: kq[0], reverse=True)
    later.sort(key=lambda dq: dq[0])
    return [q for _, q in due] + new + [q for _, q in later]
