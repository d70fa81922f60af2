"""The table of contents is data: checked against the files, the seeds and the README."""

import json
import re
from pathlib import Path

import pytest

from llmlab.toc import load_seed_blocks, load_seed_questions, load_toc, readme_section, render_table

ROOT = Path(__file__).resolve().parents[1]
TOC = load_toc(ROOT)
TOPICS = [e for e in TOC if e["number"] != "00"]
SKELETON = ["## Objectives", "## The answer in 30 seconds", "## Setup", "## Pitfalls and follow-ups", "## Quiz",
            "## Summary"]


def test_forty_topics_in_seed_order():
    assert [e["number"] for e in TOPICS] == [f"{i:02d}" for i in range(1, 41)]
    assert [e["seed_question"] for e in TOPICS] == [f"000:{i}" for i in range(1, 41)]


def test_every_listed_notebook_exists_and_every_notebook_is_listed():
    listed = {e["file"] for e in TOC}
    on_disk = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert listed - on_disk == set(), f"listed but missing: {sorted(listed - on_disk)}"
    assert on_disk - listed == set(), f"not in toc.yaml: {sorted(on_disk - listed)}"


def test_every_seed_question_is_answered_by_a_notebook():
    seeds = load_seed_questions(ROOT)
    answered = {e["seed_question"] for e in TOPICS} | {q for e in TOC for q in e["also_answers"]}
    for key in ("000", "001", "002", "003"):
        missing = [q["id"] for q in seeds[key] if q["id"] not in answered]
        assert not missing, f"seed {key} questions with no notebook: {missing}"
    unknown = answered - {q["id"] for qs in seeds.values() for q in qs}
    assert not unknown, f"toc names seed ids that do not exist: {sorted(unknown)}"


def test_seed_question_list_is_complete_and_pinned():
    """The repository's copy of the seed questions: every document pinned by hash,
    ids numbered 1..N without gaps. (`make check-seeds` compares it with the documents.)"""
    blocks = load_seed_blocks(ROOT)
    assert sorted(blocks) == ["000", "001", "002", "003", "004"]
    for key, block in blocks.items():
        assert re.fullmatch(r"[0-9a-f]{64}", block.get("sha256", "")), f"seed {key}: no sha256 of {block['file']}"
        ids = [q["id"] for q in block["questions"]]
        assert ids == [f"{key}:{i}" for i in range(1, len(ids) + 1)], f"seed {key}: ids not numbered 1..N"
        assert all(len(q["text"]) > 8 for q in block["questions"]), f"seed {key}: a question without text"
    # The three interview-question documents hold 40, 50 and 10 questions.
    assert [len(blocks[k]["questions"]) for k in ("000", "001", "002")] == [40, 50, 10]


@pytest.mark.parametrize("entry", TOPICS, ids=lambda e: e["number"])
def test_notebook_follows_the_skeleton(entry):
    path = ROOT / "notebooks" / entry["file"]
    if not path.exists():
        pytest.fail(f"{entry['file']} is missing")
    nb = json.loads(path.read_text())
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert md.lstrip().startswith(f"# {entry['number']} · "), "first line must be '# NN · <question>'"
    positions = [md.find(h) for h in SKELETON]
    missing = [h for h, p in zip(SKELETON, positions, strict=True) if p < 0]
    assert not missing, f"missing headings: {missing}"
    assert positions == sorted(positions), "skeleton headings out of order"
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    stem = Path(entry["file"]).stem
    assert f'llmlab.start("{stem}")' in code, "setup must call llmlab.start with the notebook's own name"
    assert f'llmlab.quiz.show("{entry["number"]}")' in code, "quiz cell missing"
    assert not any(c["cell_type"] == "code" and c.get("execution_count") is None and "".join(c["source"]).strip()
                   for c in nb["cells"]), "committed with unexecuted cells: run llmlab execute"
    assert "widgets" not in nb["metadata"], "saved widget state shows a dead quiz: re-run llmlab execute"
    assert not any("execution" in c["metadata"] for c in nb["cells"]), "cell timings make noisy diffs: llmlab execute"
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert counts == list(range(1, len(counts) + 1)), "execution counts must run 1..N, top to bottom, one kernel"


@pytest.mark.parametrize("entry", [e for e in TOPICS if e.get("lab")], ids=lambda e: e["number"])
def test_named_labs_and_quizzes_exist(entry):
    assert (ROOT / "labs" / f"{entry['lab']}.ipynb").exists(), f"lab {entry['lab']} missing"
    assert (ROOT / "solutions" / f"{entry['lab']}.ipynb").exists(), f"solution {entry['lab']} missing"


@pytest.mark.parametrize("entry", TOPICS, ids=lambda e: e["number"])
def test_quiz_file_exists(entry):
    assert (ROOT / entry["quiz"]).exists(), f"{entry['quiz']} missing"


def test_readme_table_is_generated_from_the_toc():
    readme = (ROOT / "README.md").read_text()
    assert readme_section(readme) == render_table(ROOT), "README table is stale: run llmlab toc --write"
