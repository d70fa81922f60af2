"""How long a notebook's core path is: the words of prose a learner reads before the
"## Going deeper" heading (or to the end, if a notebook has none). The budget is
1,200 words: the 30-second answer, evidence and pitfalls fit in about 15 minutes of
reading beside the code; side topics, long tables and simulators go deeper.

    python -m llmlab.maintainer.core_path          # every notebook, longest first
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

BUDGET = 1200
DEEPER = "## Going deeper"
_LINK_TARGET = re.compile(r"\]\([^)]*\)")  # keep a link's words, drop its URL
_TAG = re.compile(r"<[^>]+>")


def prose_words(markdown: str) -> int:
    text = _TAG.sub(" ", _LINK_TARGET.sub("]", markdown))
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))


def core_words(path: Path) -> int:
    """Prose words in markdown cells before the "## Going deeper" heading."""
    words = 0
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        if source.lstrip().startswith(DEEPER):
            break
        words += prose_words(source)
    return words


def main(argv: list[str] | None = None) -> int:
    from ..config import project_root

    paths = sorted((project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    counts = sorted(((core_words(p), p.stem) for p in paths), reverse=True)
    for words, stem in counts:
        print(f"{words:5d}  {'OVER ' if words > BUDGET else '     '}{stem}")
    over = [s for w, s in counts if w > BUDGET]
    print(f"{len(over)} of {len(counts)} notebooks over the {BUDGET}-word core budget")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
