"""Placeholder until the question bank lands: says so in one stable line."""

from __future__ import annotations


def show_topic(topic: str) -> None:
    number = topic.split("_", 1)[0]
    print(f"Quiz {number}: questions for this topic are being written; see quiz/ for the bank.")
