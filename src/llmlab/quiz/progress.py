"""Quiz progress on the learner's disk: atomic writes, a corrupt file kept aside
(never silently lost), export and import, the learner's id, and the review
schedule (schedule.py) worked out from the stored attempts.

Format 2 adds the learner id and, per attempt, the sitting it came from and who
graded it; a format-1 file is read as it is and rewritten as format 2."""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import home
from ..errors import LlmlabError
from . import schedule

FORMAT = "llmlab-progress/2"
OLD_FORMATS = ("llmlab-progress/1",)


class ProgressFileError(LlmlabError, ValueError):
    pass


def default_path() -> Path:
    return Path(os.environ.get("LLMLAB_PROGRESS", home() / "progress.json"))


@dataclass
class Attempt:
    question_id: str
    topic: str
    score: float
    at: float  # unix time
    sitting: str = ""  # empty in attempts migrated from format 1
    graded_by: str = ""  # "self" or "model" for open answers; empty for closed ones

    def to_dict(self) -> dict:
        out = {"question_id": self.question_id, "topic": self.topic, "score": self.score, "at": self.at}
        if self.sitting:
            out["sitting"] = self.sitting
        if self.graded_by:
            out["graded_by"] = self.graded_by
        return out


@dataclass
class Progress:
    path: Path
    attempts: list[Attempt] = field(default_factory=list)
    learner: str = ""  # made on first need (learner_id), then kept in the file
    # The clock for recording and scheduling; tests pass a fake one to move across days.
    now: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    # -- persistence ----------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None, now: Callable[[], float] = time.time) -> Progress:
        path = Path(path or default_path())
        if not path.exists():
            return cls(path, now=now)
        try:
            data = json.loads(path.read_text())
            learner, attempts = parse(data)
        except (ValueError, KeyError, TypeError) as exc:
            aside = path.with_name(f"{path.stem}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
            path.replace(aside)
            warnings.warn(f"Progress file {path} was unreadable ({exc.__class__.__name__}); kept it as {aside.name} "
                          "and started a fresh one.", stacklevel=2)
            return cls(path, now=now)
        progress = cls(path, attempts, learner, now=now)
        if data.get("format") != FORMAT:
            progress.learner_id()  # migrate: give it a learner id and write it back as format 2
        return progress

    def _data(self) -> dict:
        return {"format": FORMAT, "learner": self.learner, "attempts": [a.to_dict() for a in self.attempts]}

    def save(self) -> None:
        """Write to a temporary file in the same folder, then rename: a crash never leaves half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".progress-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(self._data(), f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def learner_id(self) -> str:
        """This learner's random id, made once and kept in the progress file: it seeds the
        order options are shown in, so two learners side by side see different orders."""
        if not self.learner:
            self.learner = uuid.uuid4().hex
            self.save()
        return self.learner

    # -- recording ------------------------------------------------------
    def record(self, question_id: str, topic: str, score: float, at: float | None = None, *,
               sitting: str = "", graded_by: str = "") -> None:
        self.attempts.append(Attempt(question_id, topic, float(score), self.now() if at is None else at,
                                     sitting, graded_by))
        self.save()

    def export(self, target: Path) -> Path:
        target = Path(target)
        target.write_text(json.dumps(self._data(), indent=1))
        return target

    def import_file(self, source: Path) -> int:
        """Merge another progress file (e.g. from a Binder session); returns attempts added."""
        try:
            learner, incoming = parse(json.loads(Path(source).read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            raise ProgressFileError(f"{source} is not a progress export ({exc})") from None
        # A fresh session (a new Binder) takes on the exported id; an existing learner keeps theirs.
        self.learner = self.learner or learner
        seen = {(a.question_id, a.at) for a in self.attempts}
        new = [a for a in incoming if (a.question_id, a.at) not in seen]
        self.attempts.extend(new)
        self.attempts.sort(key=lambda a: a.at)
        self.save()
        return len(new)

    # -- reading --------------------------------------------------------
    def history(self, question_id: str) -> list[Attempt]:
        return [a for a in self.attempts if a.question_id == question_id]

    def review(self, question_id: str) -> schedule.Review | None:
        """Its Leitner box and when it is next due; None if never answered."""
        return schedule.review(self.history(question_id))

    def reviews(self) -> dict[str, schedule.Review | None]:
        """Every answered question's review, in one pass over the attempts."""
        by_question: dict[str, list[Attempt]] = {}
        for a in self.attempts:
            by_question.setdefault(a.question_id, []).append(a)
        return {q: schedule.review(attempts) for q, attempts in by_question.items()}

    def box(self, question_id: str) -> int:
        r = self.review(question_id)
        return r.box if r else 0

    def weight(self, question_id: str) -> float:
        """Priority once due: 1 for a question answered right (or never answered),
        doubling with each miss in a row: 2 after one miss, 4 after two, up to 16."""
        r = self.review(question_id)
        return r.weight if r else 1.0

    def is_due(self, question_id: str) -> bool:
        r = self.review(question_id)
        return r is not None and r.is_due(self.now())

    def topic_scores(self) -> dict[str, float]:
        """Mean of each question's latest score, by topic."""
        latest: dict[str, Attempt] = {}
        for a in self.attempts:
            latest[a.question_id] = a
        by_topic: dict[str, list[float]] = {}
        for a in latest.values():
            by_topic.setdefault(a.topic, []).append(a.score)
        return {t: sum(v) / len(v) for t, v in sorted(by_topic.items())}


def parse(data: dict) -> tuple[str, list[Attempt]]:
    """(learner id, attempts) from format 2, or from format 1 (no learner id, no sittings).
    Raises ValueError, KeyError or TypeError on anything else."""
    if not isinstance(data, dict) or data.get("format") not in (FORMAT, *OLD_FORMATS):
        raise ValueError(f"expected format {FORMAT!r}")
    learner = str(data.get("learner") or "")
    out = []
    for raw in data["attempts"]:
        score = float(raw["score"])
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"score {score} out of range")
        out.append(Attempt(str(raw["question_id"]), str(raw["topic"]), score, float(raw["at"]),
                           str(raw.get("sitting") or ""), str(raw.get("graded_by") or "")))
    return learner, out
