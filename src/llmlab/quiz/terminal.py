"""`llmlab quiz`: the mock interview in a terminal, for people away from Jupyter.
Imports no ipywidgets (the interview logic is in interview.py)."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt
from rich.table import Table

from . import bank as qb
from .grading import NotAnAnswer, Result, grade, self_grade
from .interview import draw, make_report, pool_for
from .numbers import example
from .progress import Progress
from .sitting import Sitting


def run(minutes: int = 15, questions: int = 10, topics: Sequence[str] | None = None, level: str = "any",
        seed: int | None = None, console: Console | None = None, ask: Callable[[str], str] | None = None,
        progress: Progress | None = None, clock: Callable[[], float] = time.monotonic,
        sitting: Sitting | None = None) -> dict:
    console = console or Console()
    ask = ask or (lambda prompt: Prompt.ask(prompt, console=console))
    progress = progress or Progress.load()
    sitting = sitting or Sitting.begin(progress)
    pool = pool_for(topics, level)
    if not pool:
        console.print("[red]No questions match these topics and level.[/red]")
        return {}
    asked = draw(pool, progress, questions, random.Random(seed))
    deadline = clock() + minutes * 60
    for number, q in enumerate(asked, 1):
        left = deadline - clock()
        if left <= 0:
            console.print("[bold red]Time is up.[/bold red]")
            break
        clock_left = f"{int(left // 60)}:{int(left % 60):02d}"
        console.rule(f"Q{number}/{len(asked)} · topic {q.id[:2]} · {q.difficulty} · {clock_left} left")
        console.print(escape(q.prompt))
        result = _ask_one(q, console, ask, sitting)
        if result is None:
            continue
        result = sitting.answer(result)  # kept and saved: one answer per question
        colour = "green" if result.correct else "red"
        console.print(f"[{colour}]{result.score:.0%}[/{colour}] {escape(result.feedback)}")
    report = make_report(asked, sitting.results)
    table = Table(title="Score by topic")
    table.add_column("topic")
    table.add_column("score")
    for topic, score in report.by_topic.items():
        table.add_row(topic, f"{score:.0%}")
    console.print(table)
    for line in report.lines():
        console.print(line)
    return {"report": report, "results": dict(sitting.results)}


def _ask_one(q: qb.Question, console: Console, ask: Callable[[str], str], sitting: Sitting) -> Result | None:
    """One question; None when skipped. An entry that cannot be read is asked again, not scored."""
    if isinstance(q, (qb.SingleChoice, qb.MultipleChoice)):
        order = sitting.order(q)  # shown shuffled; picks map back to bank indexes
        for shown, index in enumerate(order, 1):
            console.print(f"  {shown}. {escape(q.options[index])}")
        single = isinstance(q, qb.SingleChoice)
        hint = "number" if single else "numbers separated by commas"
        while True:
            raw = ask(f"Your answer ({hint}, empty to skip)")
            if not raw.strip():
                return None
            picks = _picks(raw, len(order), single)
            if picks is None:
                console.print(f"[yellow]Type {'one number' if single else 'numbers'} from 1 to {len(order)}.[/yellow]")
                continue
            chosen = [order[p - 1] for p in picks]
            return grade(q, chosen[0] if single else chosen)
    if isinstance(q, qb.Numeric):
        while True:
            raw = ask(f"Your answer{' in ' + q.unit if q.unit else ''} ({example(q.unit)}; empty to skip)")
            if not raw.strip():
                return None
            try:
                return grade(q, raw)
            except NotAnAnswer as exc:
                console.print(f"[yellow]{escape(str(exc))}[/yellow]")
    ask("Your answer (say it aloud or type it; Enter to see the model answer)")
    console.print(f"[bold]Model answer:[/bold] {escape(q.model_answer)}")
    ticks = [_yes(ask(f"Did you make this point? {point} [y/n]")) for point in q.rubric]
    claims = [_yes(ask(f"Did you claim this (it is wrong)? {claim} [y/n]")) for claim in q.must_not_claim]
    return self_grade(q, ticks, claims)


def _picks(raw: str, n: int, single: bool) -> list[int] | None:
    parts = [p for p in re.split(r"[,;\s]+", raw.strip()) if p]
    if not all(p.isdigit() and 1 <= int(p) <= n for p in parts) or (single and len(parts) != 1):
        return None
    return sorted({int(p) for p in parts})


def _yes(raw: str) -> bool:
    return raw.strip().lower().startswith("y")
