"""A sitting: one learner working through one topic quiz or one interview.

It decides the order a question's options are shown in, from a hash of (learner
id, sitting id, question id): the same within the sitting, so a redraw does not
reshuffle under the learner's cursor, and different for the learner at the next
desk, so "the third one" is not an answer that can be passed along.

It also keeps the first answer to each question. That is the one the score and
the progress file get; a second Check in the same sitting changes nothing."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bank import MultipleChoice, SingleChoice
    from .grading import Result
    from .progress import Progress


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class Sitting:
    learner: str
    id: str = field(default_factory=_new_id)
    progress: Progress | None = None
    results: dict[str, Result] = field(default_factory=dict)

    @classmethod
    def begin(cls, progress: Progress | None = None) -> Sitting:
        """A new sitting for the learner whose progress this is (or an anonymous one, saving nothing)."""
        learner = progress.learner_id() if progress is not None else "anonymous"
        return cls(learner, progress=progress)

    def order(self, question: SingleChoice | MultipleChoice) -> list[int]:
        """Bank indexes of the question's options, in the order to show them."""
        digest = hashlib.sha256(f"{self.learner}/{self.id}/{question.id}".encode()).digest()
        order = list(range(len(question.options)))
        random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)
        return order

    def answer(self, result: Result) -> Result:
        """Keep `result` if it is the first for its question, and save it; return the one that counts."""
        first = self.results.get(result.question_id)
        if first is not None:
            return first
        self.results[result.question_id] = result
        if self.progress is not None:
            self.progress.record(result.question_id, result.question_id[:2], result.score,
                                 sitting=self.id, graded_by=result.graded_by)
        return result
