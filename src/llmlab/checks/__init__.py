"""Lab checks: run a learner's function against fixed inputs (and replayed API
responses), print one pass/fail line per case with a hint, never the solution.

    from llmlab.checks import lab01
    lab01.check_trim_to_budget(trim_to_budget)

The package ships to every learner, so a check compares with stored expected
values or with properties the answer must have, never with a working copy of the
answer: reference and wrong implementations live in tests/lab_doubles/, where
tests/test_labs.py runs every check against them. Each lab also has one optional
`check_stretch_*` for learners who finish early.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, TODO, ERROR = "PASS", "FAIL", "TODO", "ERROR"


@dataclass
class CaseResult:
    name: str
    status: str
    hint: str = ""

    def line(self) -> str:
        mark = {PASS: "✔", FAIL: "✘", TODO: "…", ERROR: "!"}[self.status]
        text = f"{mark} {self.status:<5} {self.name}"
        return f"{text}: {self.hint}" if self.hint and self.status != PASS else text


@dataclass
class Report:
    title: str
    results: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.status == PASS for r in self.results)

    @property
    def ok(self) -> bool:
        return bool(self.results) and self.passed == len(self.results)

    def _ipython_display_(self) -> None:
        """The check has printed its lines already; a bare call in a cell shows nothing more."""

    def __str__(self) -> str:
        lines = [f"{self.title}: {self.passed}/{len(self.results)} checks pass"]
        return "\n".join(lines + [r.line() for r in self.results])


@dataclass
class Case:
    """One check: `run(fn)` raises AssertionError(hint) when the function is wrong."""

    name: str
    run: Callable[[Callable[..., Any]], None]
    hint: str = ""  # shown when the case fails without its own message


def run_cases(title: str, fn: Callable[..., Any], cases: list[Case], quiet: bool = False) -> Report:
    report = Report(title)
    for case in cases:
        try:
            case.run(fn)
        except NotImplementedError:
            report.results.append(CaseResult(case.name, TODO, "not implemented yet"))
        except AssertionError as exc:
            report.results.append(CaseResult(case.name, FAIL, str(exc) or case.hint))
        except Exception as exc:  # noqa: BLE001 - a learner's bug is a finding, not a crash
            where = traceback.extract_tb(exc.__traceback__)[-1]
            report.results.append(CaseResult(case.name, ERROR, f"{type(exc).__name__}: {exc} (line {where.lineno})"))
        else:
            report.results.append(CaseResult(case.name, PASS))
    if not quiet:
        print(report)
    return report


def expect(condition: bool, hint: str) -> None:
    """Assert with a hint for the learner (an assert statement would vanish under -O)."""
    if not condition:
        raise AssertionError(hint)


def is_replay_miss(exc: BaseException | None) -> bool:
    """True if `exc` (or anything it was raised from) is a replay miss: the learner's
    request differs from the one the lab's cassette recorded."""
    from ..cassettes import ReplayMissError

    while exc is not None:
        if isinstance(exc, ReplayMissError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def chat_completion(text: str | None, finish: str = "stop", refusal: str | None = None,
                    usage: tuple[int, int] = (50, 9)) -> Any:
    """A prepared ChatCompletion for a fake client to answer with."""
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate({
        "id": "chatcmpl-lab", "object": "chat.completion", "created": 1767225600, "model": "fake-model",
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": text, "refusal": refusal}}],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    })


class FakeChatClient:
    """Stands in for openai.OpenAI in the lab checks: keeps a deep copy of every
    request's arguments in `requests` and every answer in `responses`.

    Without `inner` it answers `prepared` in order (an exception in the list is
    raised); with `inner` (lab.client) each request goes to the real, replayed API,
    and a replay miss becomes `miss_hint`, while `limit` (with hint `over_limit`)
    caps how many requests may go there. `too_many` is the hint when the learner
    calls more often than `prepared` allows ({n} is the request number)."""

    def __init__(self, prepared: Sequence[Any] = (), inner: Any = None, *, miss_hint: str = "",
                 too_many: str = "request {n} was not expected: you called the API more often than needed",
                 limit: int | None = None, over_limit: str = "",
                 prepare: Callable[[dict], dict] | None = None):
        import copy
        from types import SimpleNamespace

        self._copy = copy.deepcopy
        self._prepared, self._inner = list(prepared), inner
        # `prepare` rewrites a request before it goes to `inner`: an answer that is correct but
        # spelled differently (a JSON Schema's `required` in another order) still finds the
        # recorded response, while `requests` keeps what the learner really sent.
        self._prepare = prepare
        self.miss_hint = miss_hint or "the request you sent is not the one the cassette recorded"
        self.too_many, self.limit, self.over_limit = too_many, limit, over_limit
        self.requests: list[dict] = []
        self.responses: list[Any] = []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))

    def _create(self, *args: Any, **kwargs: Any) -> Any:
        expect(not args, "call client.chat.completions.create with keyword arguments only")
        self.requests.append(self._copy(kwargs))
        n = len(self.requests)
        if self._inner is not None:
            expect(self.limit is None or n <= self.limit, self.over_limit.format(n=n))
            try:
                sent = self._prepare(self._copy(kwargs)) if self._prepare else kwargs
                response = self._inner.chat.completions.create(**sent)
            except Exception as exc:
                if is_replay_miss(exc):
                    raise AssertionError(self.miss_hint) from None
                raise
        else:
            expect(bool(self._prepared), self.too_many.format(n=n))
            response = self._prepared.pop(0)
            if isinstance(response, BaseException):
                raise response
        self.responses.append(response)
        return response


class FakeClock:
    """Virtual time for checks of code that takes a `clock`: `clock()` reads it, a check
    moves it by assigning `now`, and nothing ever sleeps."""

    def __init__(self, start: float = 1000.0):
        self.now = float(start)

    def __call__(self) -> float:
        return self.now
