"""Labs and solutions come from one source; checks pass the solutions and catch wrong code."""

import importlib
import pkgutil
from pathlib import Path

import nbformat
import pytest

import llmlab.checks
from llmlab.labs import MarkerError, STUB, lab_from_solution, sources, strip_solutions

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("lab*.ipynb"))
CHECK_MODULES = sorted(m.name for m in pkgutil.iter_modules(llmlab.checks.__path__) if m.name.startswith("lab"))


def test_strip_keeps_indentation_and_signature():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x * 2\n    ### END SOLUTION\n\nprint('ok')\n"
    out = strip_solutions(src)
    assert out == f"def f(x):\n    {STUB}\n\nprint('ok')\n"


def test_unbalanced_markers_are_an_error():
    with pytest.raises(MarkerError, match="1 BEGIN SOLUTION but 0 END"):
        strip_solutions("### BEGIN SOLUTION\nx = 1\n", "lab99 cell 3")


def test_there_are_at_least_twelve_labs():
    assert len(SOLUTIONS) >= 12
    assert {p.name for p in SOLUTIONS} == {p.name for p in (ROOT / "labs").glob("lab*.ipynb")}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_committed_lab_is_what_the_generator_makes(solution):
    expected = lab_from_solution(nbformat.read(solution, as_version=4), solution.stem)
    committed = nbformat.read(ROOT / "labs" / solution.name, as_version=4)
    assert sources(committed) == sources(expected), f"labs/{solution.name} is stale: run llmlab labs"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_has_marked_regions_and_names_its_notebooks(solution):
    nb = nbformat.read(solution, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "### BEGIN SOLUTION" in code
    assert "../notebooks/" in md, "a lab names the notebooks it builds on"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_passes_every_check_and_lab_passes_none(solution):
    def check_lines(path):
        nb = nbformat.read(path, as_version=4)
        return [line for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "stream" for line in o["text"].splitlines()
                if line[:1] in "✔✘…!" and line[2:6] in ("PASS", "FAIL", "TODO", "ERRO")]
    solved = check_lines(solution)
    todo = check_lines(ROOT / "labs" / solution.name)
    assert solved and all("PASS" in line for line in solved), f"solution fails: {solved}"
    assert todo and not any("PASS" in line for line in todo), f"lab passes checks without code: {todo}"


@pytest.mark.parametrize("module", CHECK_MODULES)
def test_each_check_catches_a_plausible_wrong_implementation(module):
    mod = importlib.import_module(f"llmlab.checks.{module}")
    assert mod.WRONG, f"{module} must list wrong implementations in WRONG"
    for check_name, wrong_fns in mod.WRONG.items():
        check = getattr(mod, check_name)
        for fn in wrong_fns:
            report = check(fn, quiet=True)
            assert not report.ok, f"{module}.{check_name} passed the wrong implementation {fn.__name__}"
