"""ipywidgets for the question bank: a card per question, a topic quiz with a
running score. Scoring happens in Python (grading.py); options are shown in the
sitting's shuffled order and the first answer is the one kept (sitting.py)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from . import bank as qb
from .grading import GradingError, NotAnAnswer, Result, grade, grade_open_with_model, grader_check, self_grade
from .progress import Progress
from .sitting import Sitting

LEVEL_COLOURS = {"junior": "#2e7d32", "mid": "#ef6c00", "senior": "#c62828"}


def _md(text: str) -> str:
    """Tiny markdown: `code` and **bold**, everything else escaped."""
    import re

    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)


class QuestionCard(w.VBox):
    """One question: prompt, input, Check button, feedback. `on_result` gets the Result that
    counts, once: after the first answer the card shows its feedback and accepts no other."""

    children: Any  # VBox's trait: ipywidgets has no type information, so mypy is told here

    def __init__(self, question: qb.Question, topic: str, number: int = 1,
                 on_result: Callable[[Result], None] | None = None, lab=None, sitting: Sitting | None = None):
        self.question, self.topic, self.on_result, self.lab = question, topic, on_result, lab
        self.sitting = sitting or Sitting.begin()
        self.result: Result | None = None
        level = question.difficulty
        header = w.HTML(f"<b>Q{number}.</b> <span style='color:{LEVEL_COLOURS[level]}'>[{level}]</span> "
                        f"{_md(question.prompt)}")
        self.feedback = w.HTML("")
        self.check = w.Button(description="Check", button_style="primary")
        self.check.on_click(lambda _: self.submit())
        self.order: list[int] = []  # bank indexes in display order (choice questions)
        self.input = self._make_input()
        children = [header, self.input, self.check, self.feedback]
        self.rubric_box: w.VBox | None = None
        self._ticks: list[w.Checkbox] = []
        self._claims: list[w.Checkbox] = []
        if isinstance(question, qb.OpenAnswer):
            self.check.description = "Show model answer"
        super().__init__(children=children, layout=w.Layout(border="1px solid #ddd", padding="6px", margin="4px 0"))
        if question.id in self.sitting.results:  # answered earlier in this sitting: show it, locked
            self._show(self.sitting.results[question.id])

    def _make_input(self) -> w.Widget:
        q = self.question
        if isinstance(q, qb.SingleChoice):
            self.order = self.sitting.order(q)
            # The value of each shuffled option is its bank index, so grading needs no mapping.
            return w.RadioButtons(options=[(q.options[i], i) for i in self.order], value=None,
                                  layout=w.Layout(width="auto"))
        if isinstance(q, qb.MultipleChoice):
            self.order = self.sitting.order(q)
            self._boxes = [w.Checkbox(description=q.options[i], value=False, indent=False,
                                      layout=w.Layout(width="auto")) for i in self.order]
            return w.VBox(self._boxes)
        if isinstance(q, qb.Numeric):
            return w.Text(placeholder=f"a number{' in ' + q.unit if q.unit else ''}")
        return w.Textarea(placeholder="Type your answer, then compare it with the model answer.",
                          layout=w.Layout(width="95%", height="80px"))

    @property
    def answered(self) -> bool:
        return self.result is not None

    # Values the learner gave, read from the widgets (choices as bank indexes).
    def response(self):
        q = self.question
        if isinstance(q, qb.MultipleChoice):
            return sorted(self.order[pos] for pos, box in enumerate(self._boxes) if box.value)
        return self.input.value

    def submit(self) -> Result | None:
        if self.answered:  # the first answer stands
            return self.result
        q = self.question
        if isinstance(q, qb.OpenAnswer):
            return self._open_answer()
        try:
            result = grade(q, self.response())
        except NotAnAnswer as exc:  # nothing chosen, or a number we cannot read: ask again, record nothing
            self.feedback.value = f"<i>{html.escape(str(exc))}</i>"
            return None
        self._finish(result)
        return self.result

    def _open_answer(self) -> Result | None:
        q = self.question
        assert isinstance(q, qb.OpenAnswer)
        if self.rubric_box is not None:
            return None
        # One line saying why the learner grades this one; empty when a model was asked and failed.
        check = grader_check(self.lab) if self.lab is not None else None
        note = f"<i>{html.escape(check.why if check else 'No backend was given to grade with')}; " \
               "you grade this one against the model answer.</i><br>"
        if check is not None and check.capable and self.input.value.strip():
            try:
                self._finish(grade_open_with_model(self.lab, q, self.input.value))
                return self.result
            except GradingError as exc:
                note = f"<i>{html.escape(str(exc))}</i><br>"
        # Self-grading: once the model answer is on screen the answer can no longer be edited.
        self.input.disabled = self.check.disabled = True
        self._ticks = [w.Checkbox(description=p, value=False, indent=False, layout=w.Layout(width="auto"))
                       for p in q.rubric]
        self._claims = [w.Checkbox(description=p, value=False, indent=False, layout=w.Layout(width="auto"))
                        for p in q.must_not_claim]
        self._done = w.Button(description="Score my answer")
        self._done.on_click(lambda _: self._self_grade())
        claims = [w.HTML("<b>Tick any of these your answer claimed (they are wrong):</b>"), *self._claims] \
            if self._claims else []
        self.feedback.value = (f"{note}<b>Model answer:</b> {_md(q.model_answer)}<br>"
                               "<b>Tick the points your answer made:</b>")
        self.rubric_box = w.VBox([*self._ticks, *claims, self._done])
        self.children = [*self.children, self.rubric_box]
        return None

    def _self_grade(self) -> None:
        q = self.question
        assert isinstance(q, qb.OpenAnswer)
        if not self.answered:
            self._finish(self_grade(q, [t.value for t in self._ticks], [c.value for c in self._claims]))

    def _finish(self, result: Result) -> None:
        counted = self.sitting.answer(result)
        self._show(counted)
        if self.on_result:
            self.on_result(counted)

    def _show(self, result: Result) -> None:
        """Show the result that counts and lock every input of the card."""
        self.result = result
        colour = "#2e7d32" if result.correct else ("#ef6c00" if result.score > 0 else "#c62828")
        self.feedback.value = (f"<span style='color:{colour}'><b>{'✔' if result.correct else '✘'} "
                               f"{result.score:.0%}</b></span> {_md(result.feedback)}")
        inputs = self._boxes if isinstance(self.question, qb.MultipleChoice) else [self.input]
        done = [self._done] if self.rubric_box is not None else []
        for widget in (self.check, *inputs, *self._ticks, *self._claims, *done):
            widget.disabled = True


class TopicQuiz(w.VBox):
    """All questions of one topic with a running score, saved to progress. One sitting
    per quiz object: re-running the cell starts a new one."""

    def __init__(self, topic: str, progress: Progress | None = None, lab=None):
        self.topic = topic.split("_", 1)[0]
        self.questions = qb.questions(self.topic)
        self.progress = progress or Progress.load()
        self.sitting = Sitting.begin(self.progress)
        self.score = w.HTML()
        self.cards = [QuestionCard(q, self.topic, i + 1, self._on_result, lab, self.sitting)
                      for i, q in enumerate(self.questions)]
        self._update()
        title = w.HTML(f"<h3>Quiz {self.topic}: {len(self.questions)} questions</h3>")
        super().__init__(children=[title, *self.cards, self.score])

    @property
    def results(self) -> dict[str, Result]:
        return self.sitting.results

    def _on_result(self, result: Result) -> None:
        self._update()  # the sitting already kept and saved it

    def _update(self) -> None:
        total = sum(r.score for r in self.results.values())
        self.score.value = (f"<b>Score: {total:g} / {len(self.questions)}</b> "
                            f"({len(self.results)} of {len(self.questions)} answered)")

    def summary(self) -> str:
        levels = {lvl: sum(q.difficulty == lvl for q in self.questions) for lvl in ("junior", "mid", "senior")}
        kinds = sorted({q.type for q in self.questions})
        return (f"Quiz {self.topic}: {len(self.questions)} questions ({levels['junior']} junior, {levels['mid']} mid, "
                f"{levels['senior']} senior; {', '.join(kinds)}). Answer below; progress is saved on this machine.")


def show_topic(topic: str, lab=None) -> TopicQuiz | None:
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
