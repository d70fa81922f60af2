"""Quiz progress on the learner's disk: atomic writes, a corrupt file kept aside
(never silently lost), export and import, and spaced-repetition weights."""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..config import home

FORMAT = "llmlab-progress/1"


class ProgressFileError(ValueError):
    pass


def default_path() -> Path:
    return Path(os.environ.get("LLMLAB_PROGRESS", home() / "progress.json"))


@dataclass
class Attempt:
    question_id: str
    topic: str
    score: float
    at: float  # unix time

    def to_dict(self) -> dict:
        return {"question_id": self.question_id, "topic": self.topic, "score": self.score, "at": self.at}


@dataclass
class Progress:
    path: Path
    attempts: list[Attempt] = field(default_factory=list)

    # -- persistence ----------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None) -> "Progress":
        path = Path(path or default_path())
        if not path.exists():
            return cls(path)
        try:
            attempts = _parse(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            aside = path.with_name(f"{path.stem}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
            path.replace(aside)
            warnings.warn(f"Progress file {path} was unreadable ({exc.__class__.__name__}); kept it as {aside.name} "
                          "and started a fresh one.", stacklevel=2)
            return cls(path)
        return cls(path, attempts)

    def save(self) -> None:
        """Write to a temporary file in the same folder, then rename: a crash never leaves half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "attempts": [a.to_dict() for a in self.attempts]}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".progress-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- recording ------------------------------------------------------
    def record(self, question_id: str, topic: str, score: float, at: float | None = None) -> None:
        self.attempts.append(Attempt(question_id, topic, float(score), time.time() if at is None else at))
        self.save()

    def export(self, target: Path) -> Path:
        target = Path(target)
        target.write_text(json.dumps({"format": FORMAT, "attempts": [a.to_dict() for a in self.attempts]}, indent=1))
        return target

    def import_file(self, source: Path) -> int:
        """Merge another progress file (e.g. from a Binder session); returns attempts added."""
        try:
            incoming = _parse(json.loads(Path(source).read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            raise ProgressFileError(f"{source} is not a progress export ({exc})") from None
        seen = {(a.question_id, a.at) for a in self.attempts}
        new = [a for a in incoming if (a.question_id, a.at) not in seen]
        self.attempts.extend(new)
        self.attempts.sort(key=lambda a: a.at)
        self.save()
        return len(new)

    # -- reading --------------------------------------------------------
    def history(self, question_id: str) -> list[Attempt]:
        return [a for a in self.attempts if a.question_id == question_id]

    def box(self, question_id: str) -> int:
        """Leitner box: how many times in a row (most recent first) it was answered right."""
        streak = 0
        for attempt in reversed(self.history(question_id)):
            if attempt.score < 0.99:
                break
            streak += 1
        return streak

    def weight(self, question_id: str) -> float:
        """Drawing weight: unseen 1.0; recently wrong 4.0; each right answer in a row halves it."""
        past = self.history(question_id)
        if not past:
            return 1.0
        return 4.0 / (2 ** self.box(question_id)) if past[-1].score < 0.99 else 1.0 / (2 ** self.box(question_id))

    def topic_scores(self) -> dict[str, float]:
        """Mean of each question's latest score, by topic."""
        latest: dict[str, Attempt] = {}
        for a in self.attempts:
            latest[a.question_id] = a
        by_topic: dict[str, list[float]] = {}
        for a in latest.values():
            by_topic.setdefault(a.topic, []).append(a.score)
        return {t: sum(v) / len(v) for t, v in sorted(by_topic.items())}


def _parse(data: dict) -> list[Attempt]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"expected format {FORMAT!r}")
    out = []
    for raw in data["attempts"]:
        score = float(raw["score"])
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"score {score} out of range")
        out.append(Attempt(str(raw["question_id"]), str(raw["topic"]), score, float(raw["at"])))
    return out


def merge_class(files: Iterable[Path]) -> dict[str, dict[str, float]]:
    """Instructor view: topic -> learner file -> score (for a class report)."""
    report: dict[str, dict[str, float]] = {}
    for f in files:
        try:
            attempts = _parse(json.loads(Path(f).read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            raise ProgressFileError(f"{f}: not a progress export ({exc})") from None
        p = Progress(Path(f), attempts)
        for topic, score in p.topic_scores().items():
            report.setdefault(topic, {})[Path(f).stem] = score
    return report


def class_report_table(report: dict[str, dict[str, float]]) -> str:
    """Topics sorted weakest first: mean score, learners who answered, the lowest score."""
    rows = []
    for topic, scores in report.items():
        values = list(scores.values())
        rows.append((sum(values) / len(values), topic, len(values), min(values)))
    lines = [f"{'topic':<6}{'mean':>7}{'learners':>10}{'lowest':>8}"]
    for mean, topic, count, lowest in sorted(rows):
        lines.append(f"{topic:<6}{mean:>7.0%}{count:>10}{lowest:>8.0%}")
    return "\n".join(lines)


def plot_class_report(report: dict[str, dict[str, float]], path: str | Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    topics = sorted(report, key=lambda t: sum(report[t].values()) / len(report[t]))
    means = [100 * sum(report[t].values()) / len(report[t]) for t in topics]
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * len(topics)), 3))
    ax.bar(topics, means, color=["#c62828" if m < 75 else "#2e7d32" for m in means])
    ax.set_ylim(0, 100)
    ax.set_ylabel("class mean score %")
    ax.set_title("Class report: weakest topics first")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
