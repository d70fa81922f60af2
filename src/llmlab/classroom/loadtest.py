"""How many learners can one inference server take? A bounded load test.

N simulated learners (threads) replay notebook 01's request sequence, read from
cassettes/01_chat_completions.yaml, concurrently against ONE server (the kit's local server
on 127.0.0.1 by default, reused if already up). Every body's max_completion_tokens is capped so the
test measures the server's queueing rather than long answers. Each run is bounded in count
(users x requests_per_user) and in time (a per-level deadline and a global one): it stops
by itself, and requests it did not get to send are reported as `not sent`.

    llmlab loadtest --users 10 25 50 --requests-per-user 4
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..config import load_yaml, project_root

CASSETTE = "01_chat_completions.yaml"
PATH = "/v1/chat/completions"

# send(body, timeout_s) -> None; raises on any failure (HTTP error, timeout, bad JSON).
Sender = Callable[[dict, float], None]


def notebook_requests(cassette: Path | None = None, max_tokens: int = 16) -> list[dict]:
    """The chat-completion request bodies notebook 01 sends, in order, max_completion_tokens capped."""
    cassette = cassette or project_root() / "cassettes" / CASSETTE
    data = load_yaml(cassette.read_text(encoding="utf-8"))
    bodies = []
    for interaction in data["interactions"]:
        request = interaction["request"]
        if request["method"] != "POST" or not request["uri"].endswith(PATH):
            continue
        body = json.loads(request["body"])
        asked = body.pop("max_tokens", None) or body.get("max_completion_tokens") or max_tokens
        body["max_completion_tokens"] = min(int(asked), max_tokens)
        body.pop("stream", None)
        bodies.append(body)
    if not bodies:
        raise ValueError(f"no {PATH} requests in {cassette}")
    return bodies


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class LevelResult:
    users: int
    planned: int
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    errors: int = 0
    not_sent: int = 0
    wall_s: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.ok / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95)

    def row(self) -> dict:
        return {"users": self.users, "planned": self.planned, "ok": self.ok, "errors": self.errors,
                "not_sent": self.not_sent, "wall_s": round(self.wall_s, 2),
                "throughput_rps": round(self.throughput, 2), "p50_s": round(self.p50, 2),
                "p95_s": round(self.p95, 2)}


def run_level(send: Sender, bodies: list[dict], users: int, requests_per_user: int,
              deadline: float, request_timeout: float = 60.0) -> LevelResult:
    """N users at once, each sending `requests_per_user` requests in notebook order, until done
    or until time.monotonic() passes `deadline`."""
    result = LevelResult(users=users, planned=users * requests_per_user)
    lock = threading.Lock()
    start_gate = threading.Barrier(users)

    def learner(i: int) -> None:
        start_gate.wait()  # everyone starts together, like a room pressing Run All
        for k in range(requests_per_user):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                with lock:
                    result.not_sent += requests_per_user - k
                return
            body = bodies[k % len(bodies)]  # every learner runs the notebook in order
            t0 = time.perf_counter()
            try:
                send(body, min(request_timeout, remaining))
            except Exception:  # noqa: BLE001 - any failure counts as an error for the learner
                with lock:
                    result.errors += 1
                continue
            with lock:
                result.latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(learner, range(users)))
    result.wall_s = time.perf_counter() - t0
    return result


def run(send: Sender, bodies: list[dict], levels: list[int], requests_per_user: int,
        level_budget_s: float = 180.0, total_budget_s: float = 600.0,
        on_level: Callable[[LevelResult], None] | None = None) -> list[LevelResult]:
    """Run each level in turn; each gets at most level_budget_s, all of them total_budget_s."""
    overall = time.monotonic() + total_budget_s
    results = []
    for users in levels:
        deadline = min(time.monotonic() + level_budget_s, overall)
        results.append(run_level(send, bodies, users, requests_per_user, deadline))
        if on_level:
            on_level(results[-1])
    return results


def http_sender(base_url: str, api_key: str = "llmlab") -> Sender:
    import httpx2

    client = httpx2.Client(base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {api_key}"},
                           limits=httpx2.Limits(max_connections=200, max_keepalive_connections=200))

    def send(body: dict, timeout: float) -> None:
        response = client.post("/chat/completions", json=body, timeout=timeout)  # base_url ends in /v1
        response.raise_for_status()
        if not response.json()["choices"][0]["message"]:
            raise ValueError("empty message")

    return send


def table(results: list[LevelResult]) -> str:
    lines = ["| learners | requests planned | ok | errors | not sent | wall time (s) | throughput (req/s) "
             "| p50 latency (s) | p95 latency (s) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.users} | {r.planned} | {r.ok} | {r.errors} | {r.not_sent} | {r.wall_s:.1f} "
                     f"| {r.throughput:.2f} | {r.p50:.2f} | {r.p95:.2f} |")
    return "\n".join(lines)


def plot(results: list[LevelResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    users = [r.users for r in results]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(users, [r.throughput for r in results], "o-")
    ax1.set(xlabel="concurrent learners", ylabel="requests per second", title="Throughput", ylim=(0, None))
    ax2.plot(users, [r.p50 for r in results], "o-", label="p50")
    ax2.plot(users, [r.p95 for r in results], "s--", label="p95")
    ax2.set(xlabel="concurrent learners", ylabel="seconds", title="Latency per request", ylim=(0, None))
    ax2.legend()
    for ax in (ax1, ax2):
        ax.set_xticks(users)
        ax.grid(alpha=0.3)
    fig.suptitle("Notebook 01's requests (max_completion_tokens <= 16) against one server")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sizing_notes(results: list[LevelResult], requests_per_learner_per_minute: float = 2.0) -> list[str]:
    """What the numbers mean for a workshop server, computed from them (not hard-coded)."""
    if not results:
        return []
    best = max(results, key=lambda r: r.throughput)
    notes = [f"- Peak throughput was **{best.throughput:.2f} req/s** (at {best.users} learners). "
             "Adding learners beyond that adds queueing, not throughput: latency grows roughly "
             "in proportion to the number of learners waiting."]
    for r in results:
        if r.ok:
            notes.append(f"- {r.users} learners pressing Run at once: half wait up to {r.p50:.1f} s per request, "
                         f"one in twenty waits {r.p95:.1f} s or more"
                         + (f"; {r.errors} errors" if r.errors else "")
                         + (f"; {r.not_sent} requests not sent before the deadline" if r.not_sent else "") + ".")
    sustainable = best.throughput * 60 / requests_per_learner_per_minute
    notes.append(f"- In a normal session a learner runs about {requests_per_learner_per_minute:g} chat requests a "
                 f"minute, so this server keeps up with about **{sustainable:.0f} learners working at their own "
                 "pace**; the stress is the synchronized moment (\"everyone run cell 3 now\"), which the table above "
                 "measures.")
    return notes


def machine_context() -> str:
    import os
    import platform

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return f"{platform.machine()}, {os.cpu_count()} CPUs, load average before the run {load}"


def write_report(results: list[LevelResult], md_path: Path, png_path: Path, *, base_url: str, server: str,
                 requests_per_user: int, max_tokens: int, n_bodies: int, context: str, notes: str = "") -> None:
    plot(results, png_path)
    lines = [
        "# Load test: one inference server, a room of learners",
        "",
        "Generated by `llmlab loadtest` (src/llmlab/classroom/loadtest.py). Each simulated learner is a thread that "
        f"replays notebook 01's {n_bodies} chat requests (the bodies in cassettes/01_chat_completions.yaml, "
        f"`max_completion_tokens` capped at {max_tokens}) in order, {requests_per_user} requests per learner; "
        "all learners start at the same instant, like a room told \"run the next cell now\". Every level is bounded in "
        "time (requests still unsent at the deadline are counted as *not sent*).",
        "",
        f"- server: {server} at `{base_url}`",
        f"- machine: {context}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        table(results),
        "",
        f"![throughput and latency by number of learners]({png_path.name})",
        "",
        "## What this means for sizing a workshop server",
        "",
        *sizing_notes(results),
    ]
    if notes:
        lines += ["", notes]
    lines += ["", "Re-run: `llmlab loadtest --users 10 25 50 --requests-per-user 4` "
              "(add `--base-url http://host:port/v1` to measure a shared server instead).", ""]
    md_path.write_text("\n".join(lines), encoding="utf-8")
