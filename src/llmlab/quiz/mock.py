"""A timed mock interview: choose length, topics and level; questions drawn at
random, weighted towards past mistakes; a report by topic at the end."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import ipywidgets as w

from . import bank as qb
from .grading import Result
from .progress import Progress
from .widgets import QuestionCard


def draw(pool: Sequence[qb.Question], progress: Progress, n: int, rng: random.Random) -> list[qb.Question]:
    """Weighted sampling without replacement (Efraimidis-Spirakis keys)."""
    keyed = sorted(pool, key=lambda q: rng.random() ** (1.0 / progress.weight(q.id)), reverse=True)
    return keyed[:n]


def pool_for(topics: Optional[Sequence[str]] = None, level: str = "any") -> list[qb.Question]:
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


def make_report(asked: Sequence[qb.Question], results: dict[str, Result]) -> Report:
    by_topic: dict[str, list[float]] = {}
    for q in asked:
        by_topic.setdefault(q.id[:2], []).append(results[q.id].score if q.id in results else 0.0)
    means = {t: sum(v) / len(v) for t, v in sorted(by_topic.items())}
    weakest = [t for t, s in sorted(means.items(), key=lambda kv: (kv[1], kv[0])) if s < 0.75][:3]
    retry = [q.id for q in asked if q.id not in results or not results[q.id].correct]
    return Report(means, weakest, retry, round(sum(r.score for r in results.values()), 2), len(results), len(asked))


class MockInterview(w.VBox):
    def __init__(self, lab=None, minutes: int = 15, questions: int = 10, topics: Sequence[str] | None = None,
                 level: str = "any", seed: int | None = None, progress: Progress | None = None,
                 clock: bool = True):
        self.lab, self.progress = lab, progress or Progress.load()
        self.rng = random.Random(seed)
        self.clock = clock
        self.results: dict[str, Result] = {}
        self.asked: list[qb.Question] = []
        self.index = 0
        self.remaining = 0.0
        self._timer: threading.Thread | None = None
        self._stop = threading.Event()
        all_topics = sorted({q.id[:2] for q in qb.questions()})
        self.minutes = w.IntSlider(value=minutes, min=5, max=60, step=5, description="Minutes")
        self.count = w.IntSlider(value=questions, min=3, max=30, description="Questions")
        self.topics = w.SelectMultiple(options=all_topics, value=tuple(t for t in (topics or []) if t in all_topics),
                                       description="Topics", rows=6)
        self.level = w.Dropdown(options=["any", "junior", "mid", "senior"], value=level, description="Level")
        self.start_button = w.Button(description="Start interview", button_style="success")
        self.start_button.on_click(lambda _: self.start())
        self.status = w.HTML("Choose length, topics (none = all) and level, then start.")
        self.stage = w.VBox()
        self.setup = w.VBox([self.minutes, self.count, self.topics, self.level, self.start_button])
        super().__init__(children=[w.HTML("<h3>Mock interview</h3>"), self.setup, self.status, self.stage])

    # -- flow -----------------------------------------------------------
    def start(self) -> None:
        pool = pool_for(self.topics.value, self.level.value)
        if not pool:
            self.status.value = "No questions match these topics and level; widen the choice."
            return
        self.asked = draw(pool, self.progress, self.count.value, self.rng)
        self.results, self.index = {}, 0
        self.remaining = self.minutes.value * 60.0
        self.setup.layout.display = "none"
        self._show_question()
        if self.clock:
            self._stop.clear()
            self._timer = threading.Thread(target=self._run_clock, daemon=True)
            self._timer.start()

    def _run_clock(self) -> None:
        last = time.monotonic()
        while not self._stop.is_set() and self.remaining > 0:
            time.sleep(1.0)
            now = time.monotonic()
            self.tick(now - last)
            last = now

    def tick(self, seconds: float) -> None:
        """Advance the countdown (the clock thread calls this; tests call it directly)."""
        if not self.asked or self.index >= len(self.asked):
            return
        self.remaining = max(0.0, self.remaining - seconds)
        self._status()
        if self.remaining <= 0:
            self.finish(timed_out=True)

    def _status(self) -> None:
        m, s = divmod(int(self.remaining), 60)
        self.status.value = f"⏳ {m:02d}:{s:02d} left · question {min(self.index + 1, len(self.asked))} of {len(self.asked)}"

    def _show_question(self) -> None:
        q = self.asked[self.index]
        self.card = QuestionCard(q, q.id[:2], self.index + 1, self._on_result, self.lab)
        self.next_button = w.Button(description="Next" if self.index + 1 < len(self.asked) else "Finish")
        self.next_button.on_click(lambda _: self.next())
        self.stage.children = [self.card, self.next_button]
        self._status()

    def _on_result(self, result: Result) -> None:
        self.results[result.question_id] = result
        self.progress.record(result.question_id, result.question_id[:2], result.score)

    def next(self) -> None:
        self.index += 1
        if self.index >= len(self.asked):
            self.finish()
        else:
            self._show_question()

    def finish(self, timed_out: bool = False) -> Report:
        self._stop.set()
        self.index = len(self.asked)
        self.report = make_report(self.asked, self.results)
        head = "Time is up. " if timed_out else ""
        chart = w.Output()
        with chart:
            _plot(self.report)
        items = "".join(f"<li>{line}</li>" for line in self.report.lines())
        self.status.value = f"<b>{head}Interview over.</b><ul>{items}</ul>"
        self.stage.children = [chart]
        return self.report


def _plot(report: Report) -> None:
    import matplotlib.pyplot as plt

    topics = list(report.by_topic)
    fig, ax = plt.subplots(figsize=(max(4, len(topics) * 0.6), 2.6))
    ax.bar(topics, [report.by_topic[t] * 100 for t in topics],
           color=["#c62828" if report.by_topic[t] < 0.75 else "#2e7d32" for t in topics])
    ax.set_ylim(0, 100)
    ax.set_ylabel("score %")
    ax.set_xlabel("topic (notebook number)")
    ax.set_title("Mock interview: score by topic")
    plt.show()
