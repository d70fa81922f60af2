"""Run All never dies on a live server that lacks something. Learners bring servers
the kit cannot know (a workshop's vLLM, LM Studio, llama.cpp): a cell may get an
HTTP error, or an answer without the field the lesson reads (`tool_calls` is None).
In Jupyter, one such error stops Run All, and every later lesson with it.

On live backends, `llmlab.start()` installs a cell guard: each cell runs as written,
and if it fails *because of the server* it prints one line (the server's message and
the likely fix, or what came back instead) and the notebook moves on. Cells that
need a value such a cell would have made say so in one line too. Anything else (a
typo, a bug in the learner's own code) raises as usual: only failures that follow
an API call, or a name an API-failed cell would have defined, are caught.

Replay and recording never install it: there, a failure is a bug to see. Set
LLMLAB_STRICT=1 to turn it off live as well."""

from __future__ import annotations

import ast
import json
import os
from typing import Any

GUARD_NAME = "__llmlab_guard__"
LAST_VALUE = "__llmlab_last__"
# What reading an answer that lacks a field raises: a missing attribute, key or item, or
# next() over output items that hold none of the kind asked for (StopIteration).
SHAPE_ERRORS = (TypeError, AttributeError, IndexError, KeyError, ValueError, StopIteration)


def summarize_answer(body: bytes) -> str:
    """What a chat or Responses answer held, in a few words, for 'what came instead'."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message") or {}
        calls = message.get("tool_calls") or []
        content = " ".join(str(message.get("content") or "").split())
        parts = [f"finish_reason {choices[0].get('finish_reason')!r}", f"{len(calls)} tool calls"]
        if content:
            parts.append(f"text {content[:60]!r}{'...' if len(content) > 60 else ''}")
        return ", ".join(parts)
    if isinstance(data.get("output"), list):
        kinds = [item.get("type") for item in data["output"] if isinstance(item, dict)]
        return f"status {data.get('status')!r}, output items {kinds}"
    return ""


def _stored_names(tree: ast.Module) -> set[str]:
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


class _WrapCell(ast.NodeTransformer):
    """Turn a cell's code into: try: <cell> except BaseException as e: if not guard.handle(e, names): raise.
    A trailing expression keeps being the cell's displayed value."""

    def visit_Module(self, node: ast.Module) -> ast.Module:
        if not node.body or any(isinstance(s, ast.ImportFrom) and s.module == "__future__" for s in node.body):
            return node
        names = sorted(_stored_names(node) - {LAST_VALUE})
        body = list(node.body)
        last = body[-1] if isinstance(body[-1], ast.Expr) else None
        if last is not None:
            body[-1] = ast.Assign(targets=[ast.Name(LAST_VALUE, ast.Store())], value=last.value)
        handler = ast.ExceptHandler(
            type=ast.Name("BaseException", ast.Load()), name="__llmlab_error__",
            body=[ast.If(
                test=ast.UnaryOp(ast.Not(), ast.Call(
                    func=ast.Attribute(ast.Name(GUARD_NAME, ast.Load()), "handle", ast.Load()),
                    args=[ast.Name("__llmlab_error__", ast.Load()),
                          ast.List([ast.Constant(n) for n in names], ast.Load())], keywords=[])),
                body=[ast.Raise()], orelse=[])])
        reset = ast.Assign(targets=[ast.Name(LAST_VALUE, ast.Store())], value=ast.Constant(None))
        wrapped: list[ast.stmt] = [reset, ast.Try(body=body, handlers=[handler], orelse=[], finalbody=[])]
        if last is not None:
            wrapped.append(ast.Expr(ast.Name(LAST_VALUE, ast.Load())))
        node.body = wrapped
        return ast.fix_missing_locations(node)


class CellGuard:
    """Decides, for an exception raised in a cell, whether the server caused it."""

    def __init__(self, lab: Any):
        self.lab = lab
        self.unavailable: set[str] = set()
        self.answers_lacking = 0  # answers so far that lacked what a cell read
        self._requests_at_start = 0

    def before_cell(self, *_: Any) -> None:
        self._requests_at_start = self.lab.requests_made

    def handle(self, exc: BaseException, names: list[str]) -> bool:
        import openai

        from .errors import explain

        asked_server = self.lab.requests_made > self._requests_at_start
        if isinstance(exc, openai.APIStatusError):
            message = _server_message(exc)
            fix = explain(exc, self.lab.backend, self.lab.models.chat) or (
                "Fix: this server may not offer what the cell asks for; `llmlab probe` shows what it can do.")
            print(f"The server refused this cell's request (HTTP {exc.status_code}: {message}). {fix}")
        elif isinstance(exc, openai.APIError):
            print(f"This cell's request failed ({type(exc).__name__}). {explain(exc, self.lab.backend) or ''}".strip())
        elif isinstance(exc, SHAPE_ERRORS) and asked_server:
            came = self.lab.last_answer or "an answer this cell could not read"
            print(f"The server answered without what this cell reads ({type(exc).__name__}: {exc}). "
                  f"What came instead: {came}. Cells that build on this one will say so and move on.")
            self.answers_lacking += 1
        elif isinstance(exc, SHAPE_ERRORS) and self.answers_lacking:
            # No request here, but an earlier answer lacked something: a cell that reads that
            # answer (a result kept in a variable, say a list of tool calls that came back empty)
            # fails for the same reason, so it says so instead of raising.
            print(f"Skipped: this cell reads what an earlier answer lacked ({type(exc).__name__}: {exc}); "
                  "see the notice above.")
        elif isinstance(exc, NameError) and getattr(exc, "name", None) in self.unavailable:
            print(f"Skipped: this cell needs `{exc.name}`, which an earlier cell could not make (see above).")
        else:
            return False
        self.unavailable.update(names)
        return True


def _server_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        text = error.get("message") if isinstance(error, dict) else error
    else:
        text = body or getattr(exc, "message", "") or str(exc)
    return " ".join(str(text).split())[:160]


def install(lab: Any, shell: Any = None) -> CellGuard | None:
    """Guard every later cell of this kernel (live backends; not under LLMLAB_STRICT=1)."""
    from .config import truthy

    if lab.mode != "live" or truthy(os.environ.get("LLMLAB_STRICT", "0")):
        return None
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return None
        shell = get_ipython()
    if shell is None:
        return None
    old = shell.user_ns.get(GUARD_NAME)
    if isinstance(old, CellGuard):  # start() again in the same kernel: replace, do not stack
        shell.events.unregister("pre_run_cell", old.before_cell)
    guard = CellGuard(lab)
    shell.user_ns[GUARD_NAME] = guard
    shell.events.register("pre_run_cell", guard.before_cell)
    if not any(isinstance(t, _WrapCell) for t in shell.ast_transformers):
        shell.ast_transformers.append(_WrapCell())
    return guard
