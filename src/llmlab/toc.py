"""The table of contents as data (notebooks/toc.yaml) and the README table made from it."""

from __future__ import annotations

from pathlib import Path

from .config import load_yaml, project_root

START, END = "<!-- toc:start -->", "<!-- toc:end -->"


def load_toc(root: Path | None = None) -> list[dict]:
    root = root or project_root()
    return load_yaml((root / "notebooks" / "toc.yaml").read_text())["notebooks"]


def load_seed_blocks(root: Path | None = None) -> dict[str, dict]:
    """Each seed document's entry: its file name, the sha256 read, its questions."""
    root = root or project_root()
    return load_yaml((root / "notebooks" / "seed_questions.yaml").read_text())["seeds"]


def load_seed_questions(root: Path | None = None) -> dict[str, list[dict]]:
    return {key: block["questions"] for key, block in load_seed_blocks(root).items()}


def render_table(root: Path | None = None) -> str:
    rows = ["| # | notebook | interview question | lab | quiz |", "|---|---|---|---|---|"]
    for e in load_toc(root):
        lab = f"[{e['lab']}](labs/{e['lab']}.ipynb) · [solution](solutions/{e['lab']}.ipynb)" if e.get("lab") else ""
        quiz = f"[{Path(e['quiz']).stem}]({e['quiz']})" if e.get("quiz") else ""
        notebook = f"[{Path(e['file']).stem}](notebooks/{e['file']})"
        rows.append(f"| {e['number']} | {notebook} | {e['title']} | {lab} | {quiz} |")
    return "\n".join(rows)


def readme_section(text: str) -> str:
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def write_readme_table(root: Path | None = None) -> bool:
    root = root or project_root()
    readme = root / "README.md"
    text = readme.read_text()
    new = text.split(START, 1)[0] + START + "\n" + render_table(root) + "\n" + END + text.split(END, 1)[1]
    if new != text:
        readme.write_text(new)
    return new != text
