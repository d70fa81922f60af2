"""The timed mock interview as a widget: choose length, topics and level; questions
come due-for-review first, then new, then the rest (interview.py, schedule.py);
a report by topic at the end. The terminal version is terminal.py."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence

import ipywidgets as w

from . import bank as qb
from .grading import Result
from .interview import Report, draw, make_report, pool_for
from .progress import Progress
from .sitting import Sitting
from .widgets import QuestionCard

__all__ = ["MockInterview", "Report", "draw", "make_report", "pool_for"]


class MockInterview(w.VBox):
    def __init__(self, lab=None, minutes: int = 15, questions: int = 10, topics: Sequence[str] | None = None,
                 level: str = "any", seed: int | None = None, progress: Progress | None = None,
                 clock: bool = True):
        self.lab, self.progress = lab, progress or Progress.load()
        self.sitting = Sitting.begin(self.progress)  # fixes option order; keeps each first answer
        self.rng = random.Random(seed)
        self.clock = clock
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

    @property
    def results(self) -> dict[str, Result]:
        return self.sitting.results

    # -- flow -----------------------------------------------------------
    def start(self) -> None:
        pool = pool_for(self.topics.value, self.level.value)
        if not pool:
            self.status.value = "No questions match these topics and level; widen the choice."
            return
        self.asked = draw(pool, self.progress, self.count.value, self.rng)
        self.index = 0
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
        number = min(self.index + 1, len(self.asked))
        self.status.value = f"⏳ {m:02d}:{s:02d} left · question {number} of {len(self.asked)}"

    def _show_question(self) -> None:
        q = self.asked[self.index]
        self.card = QuestionCard(q, q.id[:2], self.index + 1, None, self.lab, self.sitting)
        self.next_button = w.Button(description="Next" if self.index + 1 < len(self.asked) else "Finish")
        self.next_button.on_click(lambda _: self.next())
        self.stage.children = [self.card, self.next_button]
        self._status()

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
    _fig, ax = plt.subplots(figsize=(max(4, len(topics) * 0.6), 2.6))
    ax.bar(topics, [report.by_topic[t] * 100 for t in topics],
           color=["#c62828" if report.by_topic[t] < 0.75 else "#2e7d32" for t in topics])
    ax.set_ylim(0, 100)
    ax.set_ylabel("score %")
    ax.set_xlabel("topic (notebook number)")
    ax.set_title("Mock interview: score by topic")
    plt.show()
