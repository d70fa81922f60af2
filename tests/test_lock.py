"""requirements.lock and pyproject.toml must agree: every dependency the project
declares (all extras) is locked at a version its range allows, and the lock
locks nothing as a direct dependency that the project no longer declares.
When this fails, run `make lock` and commit both files."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)")


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def _locked() -> tuple[dict[str, list[str]], set[str]]:
    """Pinned versions by name (several where markers split by Python version), and the
    names uv says are there because pyproject.toml asks for them."""
    versions: dict[str, list[str]] = {}
    direct: set[str] = set()
    current = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            versions.setdefault(current, []).append(match.group(2))
        elif current and "llmlab (pyproject.toml)" in line:
            direct.add(current)
    return versions, direct


def test_every_declared_dependency_is_locked_within_its_range():
    versions, _ = _locked()
    for req in _declared():
        name = canonicalize_name(req.name)
        assert name in versions, f"{req.name} is declared in pyproject.toml but not locked: run make lock"
        for version in versions[name]:
            assert req.specifier.contains(version, prereleases=True), (
                f"{req.name}=={version} in requirements.lock is outside pyproject.toml's {req}: run make lock")


def test_the_lock_has_no_direct_dependency_the_project_dropped():
    _, direct = _locked()
    declared = {canonicalize_name(r.name) for r in _declared()}
    assert direct, "requirements.lock has no 'via llmlab (pyproject.toml)' notes: was it written by make lock?"
    assert direct <= declared, f"locked as direct but not declared: {sorted(direct - declared)}: run make lock"


def test_every_install_path_uses_the_lock():
    """The README's commands (through the Makefile) and Binder install from the lock."""
    makefile = (ROOT / "Makefile").read_text()
    assert makefile.count("-c $(LOCK)") >= 2, "the Makefile's installs must be constrained by the lock"
    assert "-c ../requirements.lock" in (ROOT / "binder" / "requirements.txt").read_text()
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
