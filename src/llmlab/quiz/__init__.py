"""Quizzes: `llmlab.quiz.show("04")` renders a topic's questions as widgets."""

from __future__ import annotations


def show(topic: str):
    """Render the quiz for a notebook topic ("04" or "04_streaming")."""
    from .widgets import show_topic

    return show_topic(topic)
