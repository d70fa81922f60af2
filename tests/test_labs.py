"""Labs and solutions come from one source; checks pass the solutions and catch wrong code.

The reference and wrong implementations the checks are run against live in
tests/lab_doubles/ (one module per lab), not in the installed package."""

import importlib
import pkgutil
from pathlib import Path

import nbformat
import pytest

import llmlab.checks
from llmlab.labs import STUB, MarkerError, lab_from_solution, sources, strip_solutions

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("lab*.ipynb"))
CHECK_MODULES = sorted(m.name for m in pkgutil.iter_modules(llmlab.checks.__path__) if m.name.startswith("lab"))


def _checks(module: str) -> tuple[object, object, list[str]]:
    """The check module, its doubles, and the names of its check functions."""
    mod = importlib.import_module(f"llmlab.checks.{module}")
    doubles = importlib.import_module(f"lab_doubles.{module}")
    return mod, doubles, sorted(name for name in vars(mod) if name.startswith("check_"))


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


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_offers_one_optional_stretch(solution):
    nb = nbformat.read(solution, as_version=4)
    lab = solution.stem[:5]
    calls = [c for c in nb.cells if c.cell_type == "code" and f"{lab}.check_stretch_" in c.source]
    assert len(calls) == 1, "one optional stretch check per lab"
    before = nb.cells[nb.cells.index(calls[0]) - 2:nb.cells.index(calls[0])]
    headings = [c.source for c in nb.cells if c.cell_type == "markdown" and "optional" in c.source.lower()
                and c.source.lstrip().startswith("## Stretch")]
    assert headings, "the stretch is introduced by a '## Stretch (optional)' heading"
    assert any(c.cell_type == "code" and "### BEGIN SOLUTION" in c.source for c in before), \
        "the stretch's answer sits in a marked code cell right before its check"


@pytest.mark.parametrize("module", CHECK_MODULES)
def test_every_check_has_a_reference_and_wrong_implementations(module):
    _, doubles, checks = _checks(module)
    assert sorted(doubles.REFERENCE) == checks, f"tests/lab_doubles/{module}.py: one reference per check"
    assert sorted(doubles.WRONG) == checks, f"tests/lab_doubles/{module}.py: wrong implementations for every check"
    assert all(doubles.WRONG[name] for name in checks)
    assert sum(name.startswith("check_stretch_") for name in checks) == 1, "one optional stretch check per lab"


@pytest.mark.parametrize("module", CHECK_MODULES)
def test_each_check_passes_the_reference_and_equivalent_answers(module):
    mod, doubles, _ = _checks(module)
    also = getattr(doubles, "ALSO_CORRECT", {})  # right answers in another spelling or order
    accepted = {name: [fn, *also.get(name, [])] for name, fn in doubles.REFERENCE.items()}
    for check_name, fns in accepted.items():
        for fn in fns:
            report = getattr(mod, check_name)(fn, quiet=True)
            assert report.ok, f"{module}.{check_name} fails {fn.__name__}:\n{report}"


@pytest.mark.parametrize("module", CHECK_MODULES)
def test_each_check_catches_a_plausible_wrong_implementation(module):
    mod, doubles, _ = _checks(module)
    for check_name, wrong_fns in doubles.WRONG.items():
        check = getattr(mod, check_name)
        for fn in wrong_fns:
            report = check(fn, quiet=True)
            assert not report.ok, f"{module}.{check_name} passed the wrong implementation {fn.__name__}"


def test_lab04_stores_the_strict_schema_the_solution_sends():
    """The stored schema must equal the reference's output exactly, list order included:
    a recorded strict request carried that text, and the live case sends it."""
    from lab_doubles.lab04 import strict

    from llmlab.checks.lab04 import INVOICE_STRICT, Invoice
    assert strict(Invoice.model_json_schema()) == INVOICE_STRICT
    assert strict(Invoice.model_json_schema())["required"] == INVOICE_STRICT["required"]
