"""No secret lands in the repo: cassettes are scrubbed, and no tracked file holds a key."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from vcr.request import Request

from llmlab import cassettes as cs

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = sorted((ROOT / "cassettes").glob("*.yaml"))
ACCOUNT_IDS = [re.compile(p) for p in (r"\borg-[A-Za-z0-9]{16,}", r"\bproj_[A-Za-z0-9]{16,}", r"\buser-[A-Za-z0-9]{20,}")]


def _problems(text: str) -> list[str]:
    found = [p.pattern for p in cs.KEY_PATTERNS if p.search(text)]
    found += [p.pattern for p in ACCOUNT_IDS if p.search(text)]
    return found


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.stem)
def test_cassette_has_no_secret(path):
    data = yaml.safe_load(path.read_text())
    for i, interaction in enumerate(data["interactions"]):
        for side in ("request", "response"):
            headers = {h.lower() for h in interaction[side].get("headers", {})}
            leaked = headers & set(cs.SECRET_HEADERS)
            assert not leaked, f"{path.name} interaction {i} {side} keeps {sorted(leaked)}"
    assert not _problems(path.read_text()), f"{path.name} holds something that looks like a key or account id"


def test_there_are_cassettes_to_scan():
    assert len(CASSETTES) >= 4


def test_no_tracked_file_holds_a_key():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    offenders = []
    for name in files:
        path = ROOT / name
        if path.suffix in (".png", ".jpg", ".gz", ".wav", ".mp3") or not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        # Test files and docs show fake keys on purpose, built so they never match in full.
        if _problems(text):
            offenders.append(name)
    assert not offenders, f"possible secrets in: {offenders}"


def test_scrubber_removes_auth_and_account_headers():
    req = Request("POST", "https://api.openai.com/v1/chat/completions",
                  b'{"model": "m", "organization": "org-abc"}',
                  {"Authorization": "Bearer " + "sk-" + "a" * 40, "OpenAI-Organization": "org-x", "Cookie": "s=1",
                   "Content-Type": "application/json"})
    out = cs.scrub_request(req)
    assert set(h.lower() for h in out.headers) == {"content-type"}
    assert b"org-abc" not in out.body

    resp = {"headers": {"Set-Cookie": ["a=b"], "openai-project": ["proj_x"], "x-request-id": ["req_1"],
                        "content-type": ["application/json"]},
            "body": {"string": b'{"note": "key sk-' + b"b" * 30 + b'"}'}}
    out = cs.scrub_response(resp)
    assert list(out["headers"]) == ["content-type"]
    assert b"sk-bbbb" not in out["body"]["string"] and b"[REDACTED]" in out["body"]["string"]
