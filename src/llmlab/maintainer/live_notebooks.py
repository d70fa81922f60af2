"""Every topic notebook, live, against a real OpenAI-compatible server the kit does not
know in advance: the promise of #17 (learners bring their own servers; Run All never dies)
checked against the kit's own server and against llama.cpp's llama-server.

`python -m llmlab.maintainer.live_notebooks --server kit|llama [NN ...]` (`make test-live-all`
runs all of them against both). The server is reached as a plain base URL (LLMLAB_BACKEND=<url>),
so `llmlab.start()` probes it as it would a learner's; a fresh temporary LLMLAB_HOME makes that
probe start from nothing. Notebooks run in a temporary copy of the checkout and are never
saved: nothing in the repository changes. Per notebook it reports whether every cell ran
without an exception (else which cell raised what, one line each) and how many of the cell
guard's one-line notices (llmlab.run_all) it printed. Exit status 1 if any notebook raised."""

from __future__ import annotations

import json
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..backends import Models
from ..config import project_root
from ..local_server import CHAT_ALIAS, EMBED_ALIAS
from ..notebooks import environment, execute, find_notebooks

# The one-line notices a live run prints instead of dying, by kind (the first prefix that fits):
# the cell guard's (llmlab.run_all.CellGuard.handle), and lab.can's for a capability the probe
# found missing ("Skipped: <why>", llmlab.session).
NOTICES: dict[str, str | tuple[str, ...]] = {
    "refused": "The server refused",
    "answered_without": "The server answered without",
    "request_failed": "This cell's request failed",
    "skipped_dependent": ("Skipped: this cell needs", "Skipped: this cell reads"),
    "skipped_by_can": "Skipped:",
}
# Not copied into the scratch checkout: history, environments, caches, test output.
NOT_COPIED = {".git", ".venv", ".venv-latest", ".mypy_cache", ".pytest_cache", ".ruff_cache", "__pycache__",
              "node_modules", ".proxy", "test-artifacts", ".ipynb_checkpoints"}
SERVERS = ("kit", "llama")
# The models each server is asked for, by role. llama-server serves the one file it was started
# with, under the kit's chat alias, and no embeddings (it answers 501 without --embeddings, and
# --embeddings would turn chat off): the probe finds that, and the notebooks must survive it.
MODELS = {
    "kit": {"chat": CHAT_ALIAS, "tools": CHAT_ALIAS, "embed": EMBED_ALIAS},
    "llama": {"chat": CHAT_ALIAS, "tools": CHAT_ALIAS, "embed": CHAT_ALIAS},
}


@dataclass
class NotebookRun:
    name: str
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # one line per cell that raised
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NOTICES, 0))

    @property
    def clean(self) -> bool:
        return not self.errors

    def notices(self) -> str:
        return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in self.counts.items() if n) or "no notices"

    def line(self) -> str:
        status = "clean" if self.clean else f"RAISED in {len(self.errors)} cell(s): " + " | ".join(self.errors)
        return f"{self.name}: {status}; {self.notices()} ({self.seconds:.0f} s)"


def _first_line(source: str) -> str:
    text = next((ln.strip() for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    return text[:50] + ("..." if len(text) > 50 else "")


def survey(nb, name: str) -> NotebookRun:
    """What an executed notebook shows: errors outside `raises-exception` cells, and notices."""
    run = NotebookRun(name)
    for index, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code":
            continue
        expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and not expected:
                evalue = " ".join(str(out.get("evalue", "")).split())[:140]
                run.errors.append(f"cell {index} `{_first_line(cell.source)}`: {out.get('ename')}: {evalue}")
            elif out.get("output_type") == "stream":
                for text in str(out.get("text", "")).splitlines():
                    kind = next((k for k, prefix in NOTICES.items() if text.startswith(prefix)), None)
                    if kind:
                        run.counts[kind] += 1
    return run


def run_notebook(path: Path, timeout: int = 600) -> NotebookRun:
    """One notebook top to bottom in a fresh kernel (the environment is the caller's)."""
    t0 = time.perf_counter()
    try:
        run = survey(execute(path, timeout=timeout, allow_errors=True), path.stem)
    except Exception as exc:  # noqa: BLE001  a timeout or a dead kernel: the notebook did not finish
        message = " ".join(str(exc).split())[:200]
        run = NotebookRun(path.stem, errors=[f"did not finish: {type(exc).__name__}: {message}"])
    run.seconds = time.perf_counter() - t0
    return run


def scratch_copy(root: Path, dest: Path) -> Path:
    """The checkout's files (notebooks, cassettes, quiz, docs, ...) copied to dest."""
    shutil.copytree(root, dest, ignore=lambda _dir, names: [n for n in names if n in NOT_COPIED])
    return dest


@dataclass
class LiveRun:
    """A scratch checkout and home wired to one server; `run(name)` runs a notebook there."""
    base_url: str
    root: Path
    home: Path
    timeout: int = 600

    def env(self) -> dict[str, str | None]:
        return {"LLMLAB_BACKEND": self.base_url, "LLMLAB_HOME": str(self.home), "LLMLAB_ROOT": str(self.root),
                "LLMLAB_RECORD": None, "LLMLAB_STRICT": None, "LLMLAB_STRICT_REPLAY": None, "LLMLAB_PACE": "0",
                "LLMLAB_API_KEY": None, "OPENAI_API_KEY": None}

    def paths(self, names: list[str]) -> list[Path]:
        return find_notebooks(names or ["all"], root=self.root)

    def run(self, name: str) -> NotebookRun:
        (path,) = self.paths([name])
        with environment(**self.env()):
            return run_notebook(path, self.timeout)

    def probe_gaps(self) -> dict[str, str]:
        """What the kit's probe (cached in the scratch home by the first notebook) found missing."""
        try:
            entries = json.loads((self.home / "probes.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}
        found: dict[str, str] = {}
        for entry in entries.values():
            found.update({c: entry["detail"].get(c, "") for c, ok in entry["found"].items() if not ok})
        return found


@contextmanager
def live_run(base_url: str, models: dict[str, str], timeout: int = 600) -> Iterator[LiveRun]:
    """A LiveRun against base_url with the given models by role (chat, tools, embed), in a
    temporary copy of the checkout and a temporary LLMLAB_HOME, removed after."""
    roles = {f"LLMLAB_MODEL_{f.name.upper()}": models.get(f.name) for f in fields(Models)}
    with tempfile.TemporaryDirectory(prefix="llmlab-live-notebooks-") as scratch, environment(**roles):
        home = Path(scratch) / "home"
        home.mkdir()
        yield LiveRun(base_url, scratch_copy(project_root(), Path(scratch) / "kit"), home, timeout)


@contextmanager
def server(kind: str) -> Iterator[str]:
    """The base URL of a server started for the block: the kit's own on a free port, or
    llama.cpp's llama-server (built first if this machine has none)."""
    from .llama_server import free_port

    if kind == "kit":
        from ..local_server import running

        with tempfile.TemporaryDirectory(prefix="llmlab-kit-server-") as home, environment(LLMLAB_HOME=home), \
                running(port=free_port()) as url:
            yield url
    elif kind == "llama":
        from . import llama_server

        with llama_server.running() as url:
            yield url
    else:
        raise ValueError(f"unknown server {kind!r}; one of {', '.join(SERVERS)}")


def run_against(kind: str, names: list[str], say: Callable[[str], None] = print) -> tuple[list[NotebookRun], dict]:
    """Run the named notebooks (all topic notebooks when none) against a server; say each result."""
    with server(kind) as url, live_run(url, MODELS[kind]) as live:
        say(f"{kind}: {url} (models {MODELS[kind]})")
        runs = []
        for path in live.paths(names):
            runs.append(live.run(path.stem))
            say(runs[-1].line())
        return runs, live.probe_gaps()


def markdown(kind: str, runs: list[NotebookRun]) -> str:
    head = ("| notebook | result | refused | answered without | request failed | skipped (earlier cell) "
            "| skipped (lab.can) | s |\n|---|---|---|---|---|---|---|---|")
    rows = [f"| {r.name} | {'clean' if r.clean else 'raised: ' + '; '.join(r.errors).replace('|', '/')} | "
            + " | ".join(str(r.counts[k]) for k in NOTICES) + f" | {r.seconds:.0f} |" for r in runs]
    return f"### {kind}\n\n{head}\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m llmlab.maintainer.live_notebooks",
                                     description="Run topic notebooks live against a real server.")
    parser.add_argument("--server", choices=SERVERS, action="append", required=True,
                        help="kit: the kit's own server; llama: llama.cpp's llama-server (repeatable)")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table per server")
    parser.add_argument("notebooks", nargs="*", help="names or prefixes (NN); default: every topic notebook")
    args = parser.parse_args(argv)
    # Stopped with kill: leave through the context managers, which stop the server and remove the scratch copy.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    raised = False
    for kind in args.server:
        runs, gaps = run_against(kind, args.notebooks)
        clean = sum(r.clean for r in runs)
        print(f"{kind}: {clean} of {len(runs)} notebooks ran without an exception; "
              f"{sum(sum(r.counts.values()) for r in runs)} guard notices; "
              f"the probe found no: {', '.join(sorted(gaps)) or 'nothing missing'}", flush=True)
        if args.markdown:
            print(markdown(kind, runs), flush=True)
        raised |= clean < len(runs)
    return 1 if raised else 0


if __name__ == "__main__":
    sys.exit(main())
