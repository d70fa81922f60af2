"""No secret lands in the repo: cassettes are scrubbed, and no tracked file holds a key."""

import re
import subprocess
from pathlib import Path

import pytest
from vcr.request import Request

from llmlab import cassettes as cs
from llmlab.config import load_yaml

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = sorted((ROOT / "cassettes").glob("*.yaml"))
ACCOUNT_IDS = [re.compile(p) for p in
               (r"\borg-[A-Za-z0-9]{16,}", r"\bproj_[A-Za-z0-9]{16,}", r"\buser-[A-Za-z0-9]{20,}")]


def _looks_fake(token: str) -> bool:
    """Teaching examples: alphabet or digit runs (sk-abcdef..., AIza...1234567890), or plain
    lowercase words (sk-scheduler-configuration). Real keys are random mixed-case strings."""
    low = token.lower()
    return ("abcdef" in low or "123456" in low or ("abc" in low and "123" in low)
            or re.fullmatch(r"(sk|bearer)[- ][a-z]+(-[a-z0-9]+)*", low) is not None)


def _problems(text: str, allow_examples: bool = False) -> list[str]:
    found = []
    for pattern in [*cs.KEY_PATTERNS, *ACCOUNT_IDS]:
        hits = [m.group(0) for m in pattern.finditer(text)]
        if allow_examples:
            hits = [h for h in hits if not _looks_fake(h)]
        if hits:
            found.append(f"{pattern.pattern}: {hits[0][:12]}...")
    return found


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.stem)
def test_cassette_has_no_secret(path):
    data = load_yaml(path.read_text())
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
        if name.startswith("vendor/"):
            continue  # public documents copied verbatim: OpenAI's spec shows its own example project ids
        text = path.read_text(errors="ignore")
        # Labs and tests show fake keys on purpose; only obvious teaching examples are allowed.
        problems = _problems(text, allow_examples=True)
        if problems:
            offenders.append(f"{name} ({problems[0]})")
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


def test_fake_key_allowance_is_narrow():
    real_looking = "sk-" + "Zq8vR2mX" + "t9LwP4kN7bYc1HdF"
    assert not _looks_fake(real_looking)
    assert _problems(f"key = '{real_looking}'", allow_examples=True)
    assert _looks_fake("sk-" + "abcdefghijklmnopqrstuvwx")
