"""The performance budget, measured: `make bench` (python -m llmlab.maintainer.bench) writes
docs/benchmark.md and docs/benchmark.json. Run it on an otherwise idle machine."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..config import project_root

BUDGET = {
    "suite_seconds": 180.0,
    "notebook_median_seconds": 3.0,
    "notebook_worst_seconds": 10.0,
    "overhead_ms_per_call": 5.0,
    "cassettes_mb": 15.0,
}


def _run(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - t0, proc


def suite_time(root: Path) -> dict:
    import shlex

    # The same worker settings as `make test` (the Makefile passes its PYTEST_ARGS).
    args = shlex.split(os.environ.get("PYTEST_ARGS") or "-n 3 --dist loadscope --no-loadscope-reorder")
    seconds, proc = _run([sys.executable, "-m", "pytest", "-q", *args,
                          "-m", "not live and not browser", "-p", "no:cacheprovider"], cwd=root)
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    return {"seconds": round(seconds, 1), "result": tail, "exit": proc.returncode, "args": " ".join(args)}


def _timed_run(path: Path) -> tuple[float, float]:
    """(kernel start-up, Run All) seconds for one notebook in a fresh kernel.

    Start-up is Jupyter's own cost (the same for an empty notebook) and happens
    when a learner opens the notebook; Run All is what they then wait for."""
    import asyncio

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(path.parent)}})

    async def run() -> tuple[float, float]:
        t0 = time.perf_counter()
        async with client.async_setup_kernel():
            t1 = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                await client.async_execute_cell(cell, index)
            return t1 - t0, time.perf_counter() - t1

    return asyncio.run(run())


def notebook_times(root: Path, repeats: int = 3) -> dict:
    """Each notebook `repeats` times, in rounds (so a noisy moment hits one run,
    not all of one notebook's); each figure is the notebook's median run."""
    from ..notebooks import REPLAY_ENV, environment, topic_notebooks

    paths = topic_notebooks(root) + sorted((root / "solutions").glob("*.ipynb"))
    samples: dict[str, list[tuple[float, float]]] = {f"{p.parent.name}/{p.stem}": [] for p in paths}
    with environment(**REPLAY_ENV):
        for _ in range(repeats):
            for path in paths:
                samples[f"{path.parent.name}/{path.stem}"].append(_timed_run(path))
    start_up = {k: round(statistics.median(s for s, _ in v), 2) for k, v in samples.items()}
    run_all = {k: round(statistics.median(r for _, r in v), 2) for k, v in samples.items()}
    worst = max(run_all, key=lambda k: run_all[k])
    cold = [start_up[k] + run_all[k] for k in run_all]
    return {"median": round(statistics.median(run_all.values()), 2), "worst": run_all[worst],
            "worst_notebook": worst, "count": len(run_all),
            "kernel_start_median": round(statistics.median(start_up.values()), 2),
            "cold_median": round(statistics.median(cold), 2), "cold_worst": round(max(cold), 2),
            "repeats": repeats, "each": run_all, "kernel_start": start_up}


def _median_ms(fn, n: int) -> float:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def call_overhead(root: Path, live: bool) -> dict:
    """Kit client vs a bare openai client making the same call, median of paired runs."""
    import httpx2
    import openai

    import llmlab

    from ..cassettes.format import recorded_chat_request
    from ..cassettes.recorder import make_vcr

    # A request notebook 01's cassette holds, so replay answers it (and it stays current when 01 is re-recorded).
    request: dict[str, Any] = recorded_chat_request(root / "cassettes" / "01_chat_completions.yaml")
    request.pop("model")
    n = 80 if live else 200
    if live:
        from ..local_server import running

        # One token per call keeps model time (the noise) small next to the client's own time.
        request = dict(request, max_completion_tokens=1)
        with running() as url:
            os.environ["LLMLAB_STRICT_REPLAY"] = "0"
            lab = llmlab.start("bench", backend="local", quiet=True)
            bare = openai.OpenAI(base_url=url, api_key="not-needed", http_client=httpx2.Client())
            call_kit = lambda: lab.client.chat.completions.create(model=lab.models.chat, **request)  # noqa: E731
            call_bare = lambda: bare.chat.completions.create(model=lab.models.chat, **request)  # noqa: E731
            for _ in range(3):  # warm up: model cache, connections
                call_kit(), call_bare()
            kit, base = [], []
            for i in range(n):  # pairs, alternating who goes first, so drift and order hit both alike
                first, second = (call_kit, call_bare) if i % 2 == 0 else (call_bare, call_kit)
                a, b_ = _median_ms(first, 1), _median_ms(second, 1)
                kit.append(a if i % 2 == 0 else b_)
                base.append(b_ if i % 2 == 0 else a)
            k, b = statistics.median(kit), statistics.median(base)
            overhead = statistics.median(x - y for x, y in zip(kit, base, strict=True))
            return {"kit_ms": round(k, 2), "bare_ms": round(b, 2), "overhead_ms": round(overhead, 2), "calls": n}
    else:
        os.environ["LLMLAB_STRICT_REPLAY"] = "0"  # replay the same recorded call repeatedly
        lab = llmlab.start("01_chat_completions", quiet=True)
        call_kit = lambda: lab.client.chat.completions.create(model=lab.models.chat, **request)  # noqa: E731
        # The bare baseline: the plain SDK under plain vcrpy, same cassette, same matching.
        my_vcr = make_vcr(root / "cassettes")
        with my_vcr.use_cassette("01_chat_completions.yaml", record_mode="none", allow_playback_repeats=True):
            bare = openai.OpenAI(base_url="http://replay.llmlab.invalid/v1", api_key="x", max_retries=0,
                                 http_client=httpx2.Client())
            call_bare = lambda: bare.chat.completions.create(model=lab.models.chat, **request)  # noqa: E731
            call_bare()
            b = _median_ms(call_bare, n)
        call_kit()
        k = _median_ms(call_kit, n)
        lab.close()  # release vcr's patches before anything else makes real calls
    return {"kit_ms": round(k, 2), "bare_ms": round(b, 2), "overhead_ms": round(k - b, 2), "calls": n}


def import_time() -> float:
    samples = []
    for _ in range(5):
        _, proc = _run([sys.executable, "-c",
                        "import time; t=time.perf_counter(); import llmlab; print(time.perf_counter()-t)"])
        samples.append(float(proc.stdout.strip()))
    return round(statistics.median(samples) * 1000, 1)


def dir_size_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 2)


def install_size(root: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = venv / "bin" / "pip"
        seconds, proc = _run([str(pip), "install", "-q", str(root)])
        size = dir_size_mb(venv)
    return {"mb": size, "seconds": round(seconds, 1), "ok": proc.returncode == 0}


def main(skip_suite: bool = False) -> dict:
    root = project_root()
    machine = f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    report: dict[str, Any] = {"machine": machine, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    report["import_ms"] = import_time()
    report["cassettes_mb"] = dir_size_mb(root / "cassettes")
    report["replay_overhead"] = call_overhead(root, live=False)
    try:
        report["live_overhead"] = call_overhead(root, live=True)
    except Exception as exc:  # noqa: BLE001 - the local extra may be absent
        report["live_overhead"] = {"error": f"{type(exc).__name__}: {exc}"}
    report["notebooks"] = notebook_times(root)
    if not skip_suite:
        report["suite"] = suite_time(root)
    report["install"] = install_size(root)
    write(report, root)
    return report


def _verdict(value, budget) -> str:
    return "within budget" if value is not None and value <= budget else "OVER BUDGET"


def write(report: dict, root: Path) -> None:
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "benchmark.json").write_text(json.dumps(report, indent=1))
    nb, ro, lo = report["notebooks"], report["replay_overhead"], report.get("live_overhead", {})
    suite = report.get("suite", {})
    rows = [
        ("offline test suite (`make test` arguments, not live/browser)", f"{suite.get('seconds', 'not run')} s",
         f"< {BUDGET['suite_seconds']:.0f} s",
         _verdict(suite.get("seconds"), BUDGET["suite_seconds"]) if suite.get("exit", 0) == 0 else "FAILED"),
        ("notebook replay (Run All), median", f"{nb['median']} s", f"< {BUDGET['notebook_median_seconds']:.0f} s",
         _verdict(nb["median"], BUDGET["notebook_median_seconds"])),
        (f"notebook replay (Run All), worst ({nb['worst_notebook']})", f"{nb['worst']} s",
         f"< {BUDGET['notebook_worst_seconds']:.0f} s", _verdict(nb["worst"], BUDGET["notebook_worst_seconds"])),
        ("kernel start-up before Run All (Jupyter's own), median", f"{nb['kernel_start_median']} s", "-", "measured"),
        ("notebook cold (start-up + Run All), median / worst", f"{nb['cold_median']} / {nb['cold_worst']} s",
         "-", "measured"),
        ("kit overhead per call, replay", f"{ro['overhead_ms']} ms ({ro['kit_ms']} vs {ro['bare_ms']} ms bare)",
         f"< {BUDGET['overhead_ms_per_call']:.0f} ms", _verdict(ro["overhead_ms"], BUDGET["overhead_ms_per_call"])),
        ("kit overhead per call, live (local server)",
         f"{lo.get('overhead_ms', lo.get('error'))} ms ({lo.get('kit_ms')} vs {lo.get('bare_ms')} ms bare)",
         f"< {BUDGET['overhead_ms_per_call']:.0f} ms", _verdict(lo.get("overhead_ms"), BUDGET["overhead_ms_per_call"])),
        ("import llmlab", f"{report['import_ms']} ms", "-", "measured"),
        ("cassette store", f"{report['cassettes_mb']} MB", f"< {BUDGET['cassettes_mb']:.0f} MB",
         _verdict(report["cassettes_mb"], BUDGET["cassettes_mb"])),
        ("install size, fresh venv (pip install ., no extras)", f"{report['install']['mb']} MB", "-", "measured"),
    ]
    lines = ["# Performance budget", "",
             f"Measured {report['date']} on {report['machine']} by `make bench` "
             "(`python -m llmlab.maintainer.bench`).", "",
             "| what | measured | budget | verdict |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", f"Suite result line: `{suite.get('result', 'not run')}` (pytest {suite.get('args', '')}, "
              "wall time of the whole command including start-up)", "",
              "The overheads compare the kit's client with a bare `openai.OpenAI` making the same call. Replay: the "
              "bare client runs under plain vcrpy on the same cassette (the kit reads cassettes itself, hence a "
              "negative figure). Live: the median difference of interleaved pairs of one-token calls to the same "
              "local server; a negative figure means the kit's cost is below the server's noise.",
              "",
              f"Notebook times come from executing each notebook top to bottom in replay, one at a time, in a "
              f"fresh `python3` kernel (nbclient, as nbval does), {nb.get('repeats', 1)} times in rounds; each "
              "figure is that notebook's median run. *Run All* is the time from the first cell to the "
              "last, which is what a learner waits for; the kernel start-up before it happens when the notebook "
              "is opened and costs the same for an empty notebook, so it is shown separately.",
              "", "## Replay time per notebook", "",
              "| notebook | Run All (s) | kernel start-up (s) |", "|---|---|---|"]
    lines += [f"| {k} | {v} | {nb['kernel_start'][k]} |" for k, v in nb["each"].items()]
    (docs / "benchmark.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    out = main(skip_suite="--skip-suite" in sys.argv)
    print(json.dumps({k: v for k, v in out.items() if k != "notebooks"}, indent=1))
