"""Offline link check: every relative link in README.md and docs/**/*.md points at a
file or folder that exists. External links (http, mailto) and pure #anchors are not
followed; an anchor after a path is dropped and the path checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# [text](target) and [text](target "title"); images too. Reference-style definitions: [id]: target
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def relative_links(text: str) -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", text))  # examples in code are not links
    targets = INLINE.findall(text) + DEFINITION.findall(text)
    return [t for t in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|#|//)", t, re.I)]


def test_there_are_pages_to_check():
    assert len(PAGES) >= 5 and all(p.exists() for p in PAGES[:1])


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    broken = []
    for target in relative_links(page.read_text(encoding="utf-8")):
        path = target.split("#", 1)[0].split("?", 1)[0]
        if not path:
            continue
        resolved = (ROOT / path.lstrip("/")) if path.startswith("/") else (page.parent / path)
        if not resolved.exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"


def test_the_checker_finds_links_and_skips_code_and_urls():
    text = ("See [a](docs/a.md#part), ![img](pic.png \"t\"), [web](https://x.org), [top](#here),\n"
            "`[not](code.md)`\n```\n[nor](fenced.md)\n```\n[ref]: ../b.md\n")
    assert relative_links(text) == ["docs/a.md#part", "pic.png", "../b.md"]
