"""`llmlab quiz`: the mock interview in a terminal, for people away from Jupyter."""

from __future__ import annotations

import random
import time
from typing import Callable, Optional, Sequence

from rich.console import Console
from rich.prompt import Prompt
from rich.table import Table

from . import bank as qb
from .grading import Result, grade, self_grade
from .mock import draw, make_report, pool_for
from .progress import Progress


def run(minutes: int = 15, questions: int = 10, topics: Optional[Sequence[str]] = None, level: str = "any",
        seed: int | None = None, console: Console | None = None, ask: Callable[[str], str] | None = None,
        progress: Progress | None = None, clock: Callable[[], float] = time.monotonic) -> dict:
    console = console or Console()
    ask = ask or (lambda prompt: Prompt.ask(prompt, console=console))
    progress = progress or Progress.load()
    pool = pool_for(topics, level)
    if not pool:
        console.print("[red]No questions match these topics and level.[/red]")
        return {}
    asked = draw(pool, progress, questions, random.Random(seed))
    deadline = clock() + minutes * 60
    results: dict[str, Result] = {}
    for number, q in enumerate(asked, 1):
        left = deadline - clock()
        if left <= 0:
            console.print("[bold red]Time is up.[/bold red]")
            break
        console.rule(f"Q{number}/{len(asked)} · topic {q.id[:2]} · {q.difficulty} · {int(left // 60)}:{int(left % 60):02d} left")
        console.print(q.prompt)
        result = _ask_one(q, console, ask)
        if result is None:
            continue
        results[q.id] = result
        progress.record(q.id, q.id[:2], result.score)
        colour = "green" if result.correct else "red"
        console.print(f"[{colour}]{result.score:.0%}[/{colour}] {result.feedback}")
    report = make_report(asked, results)
    table = Table(title="Score by topic")
    table.add_column("topic")
    table.add_column("score")
    for topic, score in report.by_topic.items():
        table.add_row(topic, f"{score:.0%}")
    console.print(table)
    for line in report.lines():
        console.print(line)
    return {"report": report, "results": results}


def _ask_one(q: qb.Question, console: Console, ask: Callable[[str], str]) -> Result | None:
    if isinstance(q, (qb.SingleChoice, qb.MultipleChoice)):
        for i, option in enumerate(q.options, 1):
            console.print(f"  {i}. {option}")
        hint = "number" if isinstance(q, qb.SingleChoice) else "numbers separated by commas"
        raw = ask(f"Your answer ({hint}, empty to skip)")
        if not raw.strip():
            return None
        try:
            picks = [int(x) - 1 for x in raw.replace(" ", "").split(",") if x]
        except ValueError:
            console.print("[yellow]Not a number; skipped.[/yellow]")
            return None
        return grade(q, picks[0] if isinstance(q, qb.SingleChoice) else picks)
    if isinstance(q, qb.Numeric):
        raw = ask(f"Your answer{' in ' + q.unit if q.unit else ''} (empty to skip)")
        return grade(q, raw) if raw.strip() else None
    ask("Your answer (say it aloud or type it; Enter to see the model answer)")
    console.print(f"[bold]Model answer:[/bold] {q.model_answer}")
    ticks = []
    for point in q.rubric:
        ticks.append(ask(f"Did you make this point? {point} [y/n]").strip().lower().startswith("y"))
    return self_grade(q, ticks)
