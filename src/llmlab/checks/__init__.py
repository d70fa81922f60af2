"""Lab checks: run a learner's function against fixed inputs (and replayed API
responses), print one pass/fail line per case with a hint, never the solution.

    from llmlab.checks import lab01
    lab01.check_trim_history(trim_history)
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

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
