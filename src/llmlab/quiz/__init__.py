"""Quizzes: `llmlab.quiz.show("04")` renders a topic's questions as widgets;
`llmlab.quiz.mock_interview()` runs a timed interview."""

from __future__ import annotations


def show(topic: str, lab=None):
    """Render the quiz for a notebook topic ("04" or "04_streaming")."""
    from .widgets import show_topic

    show_topic(topic, lab=lab)


def mock_interview(lab=None, **options):
    """A timed mock interview drawn from the whole bank: questions due for review first, then new ones."""
    from IPython.display import display

    from .mock import MockInterview

    interview = MockInterview(lab=lab, **options)
    display(interview)
    return interview
