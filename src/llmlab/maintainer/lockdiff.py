"""Which installed versions differ from requirements.lock: the first half of the
drift canary (`make test-latest`), printed before its test run."""

from __future__ import annotations

import importlib.metadata as md
import re
import sys
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import NormalizedName, canonicalize_name

# The installer's own tools arrive with every venv at the Python's bundled versions; the lock
# pins them only because a dependency of the [local] extra (simonw's llm) names them.
INSTALLER_TOOLS = {"pip", "setuptools", "wheel"}
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.+))?$")


def locked_versions(lock: Path) -> dict[NormalizedName, str]:
    """name -> version for the entries of the lock whose markers hold on this Python."""
    pins: dict[NormalizedName, str] = {}
    for line in lock.read_text().splitlines():
        match = PIN.match(line.strip())
        if match and (not match.group(3) or Marker(match.group(3)).evaluate()):
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def differences(lock: Path) -> list[tuple[str, str, str]]:
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in md.distributions()}
    return sorted((name, pinned, installed[name]) for name, pinned in locked_versions(lock).items()
                  if name in installed and installed[name] != pinned and name not in INSTALLER_TOOLS)


def main(argv: list[str]) -> int:
    lock = Path(argv[0] if argv else "requirements.lock")
    rows = differences(lock)
    if not rows:
        print(f"drift: every installed package matches {lock}")
    for name, pinned, now in rows:
        print(f"drift: {name} {pinned} (locked) -> {now} (newest allowed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
