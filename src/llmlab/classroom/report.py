"""The class report: learners export their quiz progress (`llmlab quiz --export`),
the instructor merges the files (`llmlab class-report`) into a table of topics, the
weakest first, and a bar chart."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ..quiz.progress import Progress, ProgressFileError, parse


def merge_class(files: Iterable[Path]) -> dict[str, dict[str, float]]:
    """topic -> learner file -> score (the mean of each question's latest score)."""
    report: dict[str, dict[str, float]] = {}
    for f in files:
        try:
            _, attempts = parse(json.loads(Path(f).read_text()))
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
