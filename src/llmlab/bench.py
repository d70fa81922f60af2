"""The performance budget, measured: `make bench` (python -m llmlab.bench) writes
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

from .config import project_root

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
    seconds, proc = _run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadscope",
                          "-m", "not live and not browser", "-p", "no:cacheprovider"], cwd=root)
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    return {"seconds": round(seconds, 1), "result": tail, "exit": proc.returncode}


def notebook_times(root: Path) -> dict:
    from .record import _env, execute

    paths = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted((root / "solutions").glob("*.ipynb"))
    times = {}
    with _env(LLMLAB_BACKEND="replay", LLMLAB_STRICT_REPLAY="1", LLMLAB_PACE="0", LLMLAB_RECORD=None):
        for path in paths:
            t0 = time.perf_counter()
            execute(path)
            times[f"{path.parent.name}/{path.stem}"] = round(time.perf_counter() - t0, 2)
    values = list(times.values())
    worst = max(times, key=times.get)
    return {"median": round(statistics.median(values), 2), "worst": times[worst], "worst_notebook": worst,
            "count": len(values), "each": times}


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
    import vcr

    import llmlab
    from .cassettes import make_vcr

    request = dict(messages=[{"role": "user", "content": "Say hello in French."}], temperature=0, max_tokens=10)
    n = 15 if live else 200
    if live:
        from .local_server import running

        with running() as url:
            os.environ["LLMLAB_STRICT_REPLAY"] = "0"
            lab = llmlab.start("bench", backend="local", quiet=True)
            bare = openai.OpenAI(base_url=url, api_key="not-needed", http_client=httpx2.Client())
            call_kit = lambda: lab.client.chat.completions.create(model=lab.models.chat, **request)  # noqa: E731
            call_bare = lambda: bare.chat.completions.create(model=lab.models.chat, **request)  # noqa: E731
            call_kit(), call_bare()  # warm up: model cache, connections
            kit, base = [], []
            for _ in range(n):  # interleave so drift hits both
                kit.append(_median_ms(call_kit, 1))
                base.append(_median_ms(call_bare, 1))
            k, b = statistics.median(kit), statistics.median(base)
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
    report = {"machine": f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
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
        ("offline test suite (pytest -n 2, not live/browser)", f"{suite.get('seconds', 'not run')} s",
         f"< {BUDGET['suite_seconds']:.0f} s", _verdict(suite.get("seconds"), BUDGET["suite_seconds"])),
        ("notebook replay, median", f"{nb['median']} s", f"< {BUDGET['notebook_median_seconds']:.0f} s",
         _verdict(nb["median"], BUDGET["notebook_median_seconds"])),
        (f"notebook replay, worst ({nb['worst_notebook']})", f"{nb['worst']} s",
         f"< {BUDGET['notebook_worst_seconds']:.0f} s", _verdict(nb["worst"], BUDGET["notebook_worst_seconds"])),
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
             f"Measured {report['date']} on {report['machine']} by `make bench` (`python -m llmlab.bench`).", "",
             "| what | measured | budget | verdict |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", f"Suite result line: `{suite.get('result', 'not run')}`", "",
              "The live overhead is the median of interleaved calls to the same local server through the kit's "
              "client and through a bare `openai.OpenAI`; model time dominates, so small negative values are noise.",
              "", "## Replay time per notebook", "", "| notebook | seconds |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in nb["each"].items()]
    (docs / "benchmark.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    out = main(skip_suite="--skip-suite" in sys.argv)
    print(json.dumps({k: v for k, v in out.items() if k != "notebooks"}, indent=1))
