"""When a request is the one a cassette holds: same method, path and query, and the
same body once both are parsed as JSON (key order and spacing never matter). Hosts
and headers are not compared: they vary between machines, and the model is in the body.
Recording (vcrpy) and replay (replay.py) use the same rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlparse

from .scrub import json_or_text

MATCH_ON = ("method", "path", "query", "json_body")


def json_body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy's matcher protocol: raise AssertionError, saying how, when the bodies differ."""
    b1, b2 = json_or_text(r1.body), json_or_text(r2.body)
    if b1 != b2:
        raise AssertionError(f"bodies differ: {_diff_summary(b1, b2)}")


def _diff_summary(now: Any, recorded: Any) -> str:
    if isinstance(now, dict) and isinstance(recorded, dict):
        changed = sorted(k for k in set(now) | set(recorded) if now.get(k) != recorded.get(k))
        return "fields " + ", ".join(changed)
    return "content"


class RecordedRequest:
    """A request as the matchers see it (the shape of vcrpy's Request)."""

    def __init__(self, method: str, uri: str, body: bytes | str | None):
        self.method, self.uri = method.upper(), uri
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        parts = urlparse(uri)
        self.path, self.query = parts.path, sorted(parse_qsl(parts.query))


def match_failures(now: RecordedRequest, recorded: RecordedRequest) -> list[str]:
    """What differs, one phrase per rule that fails: vcrpy's method, path and query
    matchers plus ours for JSON bodies. Empty when the requests match."""
    failures = []
    if now.method != recorded.method:
        failures.append(f"method {now.method} != {recorded.method}")
    if now.path != recorded.path:
        failures.append(f"path {now.path} != {recorded.path}")
    if now.query != recorded.query:
        failures.append(f"query {now.query} != {recorded.query}")
    try:
        json_body_matcher(now, recorded)
    except AssertionError as exc:
        failures.append(str(exc))
    return failures
