"""Maintainers' check that notebooks/seed_questions.yaml still matches the seed
documents it was drawn from (kept beside the repository, in ../shared/seeds, not
shipped: the questions are in the YAML, the documents are not ours to copy).

`make check-seeds` runs it; the test suite checks the YAML on its own."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from ..config import project_root
from ..toc import load_seed_blocks

# How each interview-question document marks a question, so its questions can be counted.
QUESTION_MARKERS = {
    "000": re.compile(r"(?m)^\d+\. .*\?$"),
    "001": re.compile(r"(?m)^\d\d\s*$"),
    "002": re.compile(r"(?m)^Q\d+:"),
}


def problems(seed_dir: Path) -> list[str]:
    found = []
    for key, block in load_seed_blocks(project_root()).items():
        path = seed_dir / block["file"]
        if not path.exists():
            found.append(f"{key}: {path} is missing")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != block["sha256"]:
            found.append(f"{key}: {path.name} changed (sha256 {digest}); re-read it and update seed_questions.yaml")
        marker = QUESTION_MARKERS.get(key)
        if marker and len(marker.findall(path.read_text())) != len(block["questions"]):
            found.append(f"{key}: the document has {len(marker.findall(path.read_text()))} questions, "
                         f"seed_questions.yaml lists {len(block['questions'])}")
    return found


def main(argv: list[str]) -> int:
    seed_dir = Path(argv[0] if argv else "../shared/seeds")
    found = problems(seed_dir)
    for line in found:
        print(line)
    print("seed_questions.yaml matches the seed documents" if not found else f"{len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
