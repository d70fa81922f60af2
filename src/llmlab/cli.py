"""The `llmlab` command: run the lab, record and execute notebooks, check the
environment, quiz, and the classroom and maintainer tools. Every error the kit
raises for a person (LlmlabError) ends a command here, in one place, as one line
on stderr with exit status 2; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from .errors import LlmlabError


def one_line(exc: BaseException) -> str:
    """An error's message on one line: multi-line messages (a replay miss, a list of
    schema problems) joined with " | " so nothing is lost."""
    return " | ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__


def _is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, LlmlabError)


class _Commands(TyperGroup):
    """Runs each command with the kit's one error handler around it."""

    def invoke(self, ctx: Any) -> Any:  # a click Context, from the copy of click typer vendors
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not _is_user_error(exc):
                raise
            typer.echo(f"llmlab: {one_line(exc)}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(cls=_Commands, help="LLM API Lab: run, record and check the notebooks.", no_args_is_help=True,
                  add_completion=False)


@app.command()
def serve(port: int = typer.Option(None, help="port on 127.0.0.1 (default 8765 or LLMLAB_LOCAL_PORT)")) -> None:
    """Start the local OpenAI-compatible server (chat + embeddings) on 127.0.0.1."""
    from .backends import LOCAL_PORT
    from .local_server import serve as run

    run(port or LOCAL_PORT)


@app.command()
def record(notebooks: list[str] = typer.Argument(..., help="names like 04_streaming, 04, or 'all'"),
           backend: str = typer.Option("local", help="local, ollama, openai or a base URL")) -> None:
    """Run notebooks live into fresh cassettes, then re-execute them in replay."""
    from contextlib import AbstractContextManager, nullcontext

    from .backends import resolve
    from .local_server import running
    from .notebooks import find_notebooks
    from .record import execute_in_replay
    from .record import record as rec

    paths = find_notebooks(notebooks)
    if backend == "replay":
        raise LlmlabError("recording needs a live backend: --backend local, ollama, openai or a base URL")
    resolve(backend)  # an unknown name fails here, not inside each notebook's kernel
    server: AbstractContextManager[Any] = running() if backend == "local" else nullcontext()
    with server:
        for path in paths:
            t0 = time.perf_counter()
            typer.echo(f"recording {path.stem} against {backend} ...")
            rec(path, backend)
            seconds = execute_in_replay(path)
            typer.echo(f"  done in {time.perf_counter() - t0:.0f} s (replay {seconds:.1f} s)")


@app.command()
def execute(notebooks: list[str] = typer.Argument(..., help="names like 04_streaming, or 'all'")) -> None:
    """Re-execute notebooks in replay and save their outputs (no recording)."""
    from .notebooks import find_notebooks
    from .record import execute_in_replay

    for path in find_notebooks(notebooks):
        typer.echo(f"{path.stem}: {execute_in_replay(path):.1f} s")


@app.command()
def doctor(backend: str | None = typer.Option(None, help="check this backend instead of the configured one")) -> None:
    """Check the environment: one OK/FAIL line per item."""
    from .doctor import main

    raise typer.Exit(main(backend))


@app.command()
def pull(models: list[str] | None = typer.Argument(
        None, help="Ollama model names (default: the kit's Ollama models per role that are not installed)")) -> None:
    """Pull models into Ollama (OLLAMA_HOST), with a progress bar; by default the missing defaults."""
    from rich.console import Console

    from .ollama_models import OllamaModels, default_models

    store = OllamaModels(read_timeout=None)  # a large layer can take a while between progress lines
    wanted: dict[str, list[str]] = {name: [] for name in models} if models else store.missing()

    def named(name: str, roles: list[str]) -> str:
        return f"{name} ({'/'.join(roles)})" if roles else name

    if not wanted:
        defaults = ", ".join(named(name, roles) for name, roles in default_models().items())
        typer.echo(f"nothing to pull: Ollama at {store.host} has every default model: {defaults}")
        return
    console = Console()
    for name, roles in wanted.items():
        typer.echo(f"pulling {named(name, roles)} into Ollama at {store.host}")
        store.pull(name, console)


@app.command()
def probe(backend: str = typer.Argument(None, help="local, ollama, openai or a base URL (default: the configured one)"),
          refresh: bool = typer.Option(False, "--refresh", help="probe again even if a result is cached"),
          timeout: float = typer.Option(20.0, help="seconds to wait for each request")) -> None:
    """Find out what a server can do, with small real requests; the result is cached for llmlab.start()."""
    from rich.console import Console
    from rich.table import Table

    from . import probe as pr
    from .backends import CAPABILITIES, resolve
    from .session import choose_backend

    name = choose_backend(backend)
    if name == "replay":
        raise LlmlabError("Replay has no server to probe; name one: llmlab probe local|ollama|openai|URL")
    live = resolve(name)
    console = Console()
    result = None if refresh else pr.cached(live)
    if result is None:
        with console.status(f"probing {live.base_url} ...") as status:
            result = pr.probe(live, timeout, on_check=lambda c: status.update(f"probing {live.base_url}: {c}"))
        pr.remember(result)
    table = Table(title=f"{live.base_url} · model {result.model} · probed {result.probed} ({result.seconds} s)")
    for column in ("capability", "works", "what the probe saw"):
        table.add_column(column)
    for cap, ok in result.found.items():
        table.add_row(CAPABILITIES[cap], "yes" if ok else "no", result.detail.get(cap, ""))
    console.print(table)
    console.print(f"cached in {pr.cache_path()}; llmlab.start() uses it for URL and Ollama backends")


@app.command()
def backends() -> None:
    """Show what each backend can do."""
    from rich.console import Console
    from rich.table import Table

    from .backends import BACKENDS, CAPABILITIES

    table = Table(title="Capabilities by backend")
    table.add_column("capability")
    for name in BACKENDS:
        table.add_column(name)
    for cap, desc in CAPABILITIES.items():
        table.add_row(desc, *("yes" if cap in b.capabilities else "-" for b in BACKENDS.values()))
    Console().print(table)


@app.command()
def toc(write: bool = typer.Option(False, "--write", help="rewrite the README table from notebooks/toc.yaml")) -> None:
    """Print (or write into README.md) the notebook table made from notebooks/toc.yaml."""
    from .toc import render_table, write_readme_table

    if write:
        typer.echo("README.md updated" if write_readme_table() else "README.md already up to date")
    else:
        typer.echo(render_table())


@app.command()
def quiz(minutes: int = typer.Option(15, help="length of the interview"),
         questions: int = typer.Option(10, help="how many questions"),
         topic: list[str] = typer.Option(None, help="topic numbers, e.g. --topic 03 --topic 24 (default: all)"),
         level: str = typer.Option("any", help="any, junior, mid or senior"),
         export: str | None = typer.Option(None, help="write your progress to this file and exit"),
         import_: str | None = typer.Option(None, "--import", help="merge a progress file and exit")) -> None:
    """Run the timed mock interview in the terminal."""
    from .quiz.progress import Progress
    from .quiz.terminal import run

    progress = Progress.load()
    if export:
        typer.echo(f"progress written to {progress.export(Path(export))}")
        return
    if import_:
        typer.echo(f"{progress.import_file(Path(import_))} attempts added")
        return
    run(minutes=minutes, questions=questions, topics=topic or None, level=level, progress=progress)


@app.command()
def labs(names: list[str] = typer.Argument(None, help="lab names (default: all)"),
         run: bool = typer.Option(True, help="re-execute changed labs in replay so their outputs are saved")) -> None:
    """Generate labs/ from the marked regions of solutions/."""
    from .labs import generate
    from .record import execute_in_replay

    written = generate(names or None)
    for path in written:
        typer.echo(f"wrote {path.name}")
        if run:
            typer.echo(f"  executed in {execute_in_replay(path):.1f} s")
    if not written:
        typer.echo("labs are up to date")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def lab(ctx: typer.Context,
        notebook: str = typer.Option("notebooks/00_start_here.ipynb", help="the notebook to open")) -> None:
    """Open JupyterLab on the start notebook (replay unless LLMLAB_BACKEND says otherwise).
    Other options pass through to JupyterLab, e.g. llmlab lab --port=8900 --no-browser."""
    import os

    from .config import project_root

    root = project_root()
    os.chdir(root)
    # Serve the whole kit (labs/, quiz/ and ../ links must resolve) and open the notebook in it.
    args = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
            f"--LabApp.default_url=/lab/tree/{notebook}", *ctx.args]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args:
        args.append("--allow-root")  # containers and CI machines often run as root
    # The kit's own Jupyter config dir comes first on the search path: it switches off JupyterLab's
    # "get news?" pop-up for this launch only, without touching the learner's settings.
    os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).parent / "jupyter_config"), os.environ.get("JUPYTER_CONFIG_PATH")]))
    os.execv(sys.executable, args)


@app.command("class-report")
def class_report(files: list[str] = typer.Argument(..., help="progress files exported by learners"),
                 chart: str = typer.Option("class-report.png", help="where to save the chart")) -> None:
    """Merge learners' exported progress into a class report: weakest topics first."""
    from .classroom.report import class_report_table, merge_class, plot_class_report

    report = merge_class([Path(f) for f in files])
    typer.echo(class_report_table(report))
    plot_class_report(report, chart)
    typer.echo(f"chart saved to {chart}")


@app.command()
def agendas(write: bool = typer.Option(False, "--write", help="write docs/agendas.md from docs/agendas.yaml")) -> None:
    """Print (or write to docs/agendas.md) the workshop agendas from docs/agendas.yaml."""
    from .classroom.agendas import load, render
    from .classroom.agendas import write as write_md

    if write:
        typer.echo("docs/agendas.md updated" if write_md() else "docs/agendas.md already up to date")
    else:
        typer.echo(render(load()), nl=False)


@app.command()
def slides(notebooks: list[str] = typer.Argument(..., help="notebook paths or names like 01 or 01_chat_completions"),
           out: str = typer.Option("docs/slides", help="directory for the .slides.html files")) -> None:
    """Export notebooks as reveal.js slide decks (## headings start slides; the quiz is skipped)."""
    from .classroom.slides import export

    for name in notebooks:
        typer.echo(f"wrote {export(name, out)}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def loadtest(ctx: typer.Context,
             users: int = typer.Option(10, "--users", help="learner counts, e.g. --users 10 25 50"),
             requests_per_user: int = typer.Option(4, help="requests each simulated learner sends"),
             max_tokens: int = typer.Option(16, help="cap on every request's max_tokens"),
             base_url: str | None = typer.Option(None, help="measure this server (default: the local one)"),
             model: str | None = typer.Option(None, help="chat model name to send (default: the cassette's)"),
             api_key: str = typer.Option("llmlab", envvar="LLMLAB_API_KEY", help="bearer key for --base-url"),
             level_budget: float = typer.Option(180.0, help="seconds allowed per learner count"),
             total_budget: float = typer.Option(600.0, help="seconds allowed for the whole run"),
             out: str = typer.Option("docs", help="directory for loadtest.md and loadtest.png"),
             note: str = typer.Option("", help="a paragraph to add to the report")) -> None:
    """Simulate N learners replaying notebook 01 against one server; write a table and a plot."""
    from contextlib import AbstractContextManager, nullcontext

    from .classroom import loadtest as lt
    from .local_server import describe, running

    if not all(a.isdigit() for a in ctx.args):
        raise LlmlabError(f"unexpected arguments: {' '.join(ctx.args)} (learner counts must be integers)")
    levels = [users, *(int(a) for a in ctx.args)]
    bodies = lt.notebook_requests(max_tokens=max_tokens)
    if model:
        bodies = [{**b, "model": model} for b in bodies]
    context = lt.machine_context()
    server: AbstractContextManager[str] = nullcontext(base_url) if base_url else running()
    with server as url:
        send = lt.http_sender(url, api_key)
        send(bodies[-1], 60.0)  # warm up: the first request loads the model
        results = lt.run(send, bodies, levels, requests_per_user, level_budget, total_budget,
                         on_level=lambda r: typer.echo(str(r.row())))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    lt.write_report(results, out_dir / "loadtest.md", out_dir / "loadtest.png", base_url=url,
                    server=("a server at --base-url" if base_url else describe()),
                    requests_per_user=requests_per_user, max_tokens=max_tokens, n_bodies=len(bodies),
                    context=context, notes=note)
    typer.echo(lt.table(results))
    typer.echo(f"wrote {out_dir / 'loadtest.md'} and {out_dir / 'loadtest.png'}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
