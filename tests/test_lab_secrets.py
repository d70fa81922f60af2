"""The installed package keeps the labs' answers to itself: llmlab.checks holds checks,
stored expected values and fixtures, never a working or deliberately broken copy of an
exercise. A class that withholds solutions/ must not hand learners the answers through
`import llmlab`. The doubles the checks are tested with live in tests/lab_doubles/."""

import ast
import importlib
import itertools
import pkgutil
import re
from pathlib import Path

import nbformat
import pytest

import llmlab.checks
from llmlab.labs import BEGIN, END

ROOT = Path(__file__).resolve().parents[1]
CHECKS_DIR = Path(llmlab.checks.__file__).parent
CHECK_SOURCES = sorted(CHECKS_DIR.glob("*.py"))
SOLUTIONS = sorted((ROOT / "solutions").glob("lab*.ipynb"))
FORBIDDEN_NAME = re.compile(r"^(_[Rr]eference|_[Ww]rong|WRONG$|REFERENCE$)")


def _defined_names(tree: ast.AST) -> set[str]:
    """Every name a module binds anywhere: functions, classes and assignments, nested ones too."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


@pytest.mark.parametrize("module", [m.name for m in pkgutil.iter_modules(llmlab.checks.__path__)] + ["__init__"])
def test_no_reference_or_wrong_implementation_is_importable(module):
    mod = llmlab.checks if module == "__init__" else importlib.import_module(f"llmlab.checks.{module}")
    leaked = [name for name in vars(mod) if FORBIDDEN_NAME.match(name)]
    assert not leaked, f"llmlab.checks.{module} exposes {leaked}: move them to tests/lab_doubles/"


@pytest.mark.parametrize("path", CHECK_SOURCES, ids=lambda p: p.name)
def test_no_reference_or_wrong_implementation_is_defined(path):
    leaked = sorted(n for n in _defined_names(ast.parse(path.read_text(encoding="utf-8"))) if FORBIDDEN_NAME.match(n))
    assert not leaked, f"{path.name} defines {leaked}: reference and wrong code belongs in tests/lab_doubles/"


def _normal(line: str) -> str:
    """A line as code, without its comment and with its spacing collapsed."""
    code = "" if line.lstrip().startswith("#") else re.sub(r"\s+#.*$", "", line)
    return " ".join(code.split())


def _substantial(line: str) -> bool:
    # Exception headers are how any code meets the SDK's errors, not part of an answer.
    return len(line) >= 12 and not line.startswith(("except", "try:", "else:", "finally:"))


def _answer_lines(path: Path) -> list[str]:
    """The code lines inside the solution's marked regions, in order."""
    lines, inside = [], False
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for raw in cell.source.splitlines():
            if BEGIN in raw or END in raw:
                inside = BEGIN in raw
            elif inside and _normal(raw):
                lines.append(_normal(raw))
    return lines


def _copies(answers: list[str], sources: list[Path]) -> list[str]:
    """Answer lines found in `sources`: one long line, or two substantial lines in a row."""
    found: dict[str, str] = {}
    pairs: set[tuple[str, str]] = set()
    for path in sources:
        numbered = enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        lines = [(_normal(raw), f"{path.name}:{n}") for n, raw in numbered if _normal(raw)]
        for line, where in lines:
            found.setdefault(line, where)
        pairs |= {(a, b) for (a, _), (b, _) in itertools.pairwise(lines)}
    copied = [f"{line!r} at {found[line]}" for line in answers
              if _substantial(line) and len(line) >= 30 and line in found]
    copied += [f"{a!r} then {b!r}" for a, b in itertools.pairwise(answers)
               if _substantial(a) and _substantial(b) and (a, b) in pairs]
    return copied


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_checks_hold_no_line_of_the_answers(solution):
    """A body copied from a solution into the checks shows as its lines."""
    answers = _answer_lines(solution)
    assert answers, f"{solution.name} has no marked answer"
    copied = _copies(answers, CHECK_SOURCES)
    assert not copied, f"src/llmlab/checks repeats {solution.stem}'s answer: {copied}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_a_pasted_answer_would_be_seen(solution, tmp_path):
    """The comparison is worth something only if each lab's answer, pasted as a helper, trips it."""
    answers = _answer_lines(solution)
    pasted = tmp_path / "labXX.py"
    pasted.write_text("def _helper(*args):\n" + "".join(f"    {line}\n" for line in answers), encoding="utf-8")
    assert _copies(answers, [pasted]), f"{solution.stem}'s answer is too short for the comparison to notice a copy"
