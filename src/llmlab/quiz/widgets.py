"""ipywidgets for the question bank: a card per question, a topic quiz with a
running score. Scoring happens in Python (grading.py); progress is saved."""

from __future__ import annotations

import html
from typing import Callable, Optional

import ipywidgets as w

from . import bank as qb
from .grading import Result, grade, self_grade
from .progress import Progress

LEVEL_COLOURS = {"junior": "#2e7d32", "mid": "#ef6c00", "senior": "#c62828"}


def _md(text: str) -> str:
    """Tiny markdown: `code` and **bold**, everything else escaped."""
    import re

    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)


class QuestionCard(w.VBox):
    """One question: prompt, input, Check button, feedback. `on_result` gets the Result."""

    def __init__(self, question: qb.Question, topic: str, number: int = 1,
                 on_result: Optional[Callable[[Result], None]] = None, lab=None):
        self.question, self.topic, self.on_result, self.lab = question, topic, on_result, lab
        self.result: Result | None = None
        level = question.difficulty
        header = w.HTML(f"<b>Q{number}.</b> <span style='color:{LEVEL_COLOURS[level]}'>[{level}]</span> "
                        f"{_md(question.prompt)}")
        self.feedback = w.HTML("")
        self.check = w.Button(description="Check", button_style="primary")
        self.check.on_click(lambda _: self.submit())
        self.input = self._make_input()
        children = [header, self.input, self.check, self.feedback]
        self.rubric_box: w.VBox | None = None
        if isinstance(question, qb.OpenAnswer):
            self.check.description = "Show model answer"
        super().__init__(children=children, layout=w.Layout(border="1px solid #ddd", padding="6px", margin="4px 0"))

    def _make_input(self) -> w.Widget:
        q = self.question
        if isinstance(q, qb.SingleChoice):
            return w.RadioButtons(options=[(o, i) for i, o in enumerate(q.options)], value=None,
                                  layout=w.Layout(width="auto"))
        if isinstance(q, qb.MultipleChoice):
            self._boxes = [w.Checkbox(description=o, value=False, indent=False, layout=w.Layout(width="auto"))
                           for o in q.options]
            return w.VBox(self._boxes)
        if isinstance(q, qb.Numeric):
            return w.Text(placeholder=f"a number{' in ' + q.unit if q.unit else ''}")
        return w.Textarea(placeholder="Type your answer, then compare it with the model answer.",
                          layout=w.Layout(width="95%", height="80px"))

    # Values the learner gave, read from the widgets.
    def response(self):
        q = self.question
        if isinstance(q, qb.MultipleChoice):
            return [i for i, box in enumerate(self._boxes) if box.value]
        return self.input.value

    def submit(self) -> Result | None:
        q = self.question
        if isinstance(q, qb.OpenAnswer):
            return self._open_answer()
        self._finish(grade(q, self.response()))
        return self.result

    def _open_answer(self) -> Result | None:
        q = self.question
        if self.lab is not None and self.lab.mode != "replay" and self.input.value.strip():
            from .grading import GradingError, grade_open_with_model

            try:
                self._finish(grade_open_with_model(self.lab, q, self.input.value))
                return self.result
            except GradingError as exc:
                self.feedback.value = f"<i>{html.escape(str(exc))}</i>"
        ticks = [w.Checkbox(description=p, value=False, indent=False, layout=w.Layout(width="auto")) for p in q.rubric]
        done = w.Button(description="Score my answer")
        done.on_click(lambda _: self._finish(self_grade(q, [t.value for t in ticks])))
        self.feedback.value = (f"<b>Model answer:</b> {_md(q.model_answer)}<br><b>Tick the points your answer made:</b>")
        self.rubric_box = w.VBox([*ticks, done])
        self.children = [*self.children, self.rubric_box]
        self._ticks, self._done = ticks, done
        return None

    def _finish(self, result: Result) -> None:
        self.result = result
        colour = "#2e7d32" if result.correct else ("#ef6c00" if result.score > 0 else "#c62828")
        self.feedback.value = (f"<span style='color:{colour}'><b>{'✔' if result.correct else '✘'} "
                               f"{result.score:.0%}</b></span> {_md(result.feedback)}")
        if self.on_result:
            self.on_result(result)


class TopicQuiz(w.VBox):
    """All questions of one topic with a running score, saved to progress."""

    def __init__(self, topic: str, progress: Progress | None = None, lab=None):
        self.topic = topic.split("_", 1)[0]
        self.questions = qb.questions(self.topic)
        self.progress = progress or Progress.load()
        self.results: dict[str, Result] = {}
        self.score = w.HTML()
        self.cards = [QuestionCard(q, self.topic, i + 1, self._on_result, lab) for i, q in enumerate(self.questions)]
        self._update()
        title = w.HTML(f"<h3>Quiz {self.topic}: {len(self.questions)} questions</h3>")
        super().__init__(children=[title, *self.cards, self.score])

    def _on_result(self, result: Result) -> None:
        self.results[result.question_id] = result
        self.progress.record(result.question_id, self.topic, result.score)
        self._update()

    def _update(self) -> None:
        total = sum(r.score for r in self.results.values())
        self.score.value = (f"<b>Score: {total:g} / {len(self.questions)}</b> "
                            f"({len(self.results)} of {len(self.questions)} answered)")

    def summary(self) -> str:
        levels = {lvl: sum(q.difficulty == lvl for q in self.questions) for lvl in ("junior", "mid", "senior")}
        kinds = sorted({q.type for q in self.questions})
        return (f"Quiz {self.topic}: {len(self.questions)} questions ({levels['junior']} junior, {levels['mid']} mid, "
                f"{levels['senior']} senior; {', '.join(kinds)}). Answer below; progress is saved on this machine.")


def show_topic(topic: str, lab=None) -> TopicQuiz:
    """Render a topic's quiz. Prints one stable line, then displays the widget."""
    from IPython.display import display

    number = topic.split("_", 1)[0]
    if qb.load_topic(number) is None:
        print(f"Quiz {number}: no questions yet (quiz/bank/{number}_*.yaml is missing).")
        return None
    quiz = TopicQuiz(topic, lab=lab)
    print(quiz.summary())
    display(quiz)
    return quiz
