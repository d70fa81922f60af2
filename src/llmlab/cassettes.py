"""vcrpy in one place: matching, scrubbing, provenance, per-cell saving, the
miss message, and stream timing. Only this module imports vcr."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vcr
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.matchers import requests_match
from vcr.request import Request as VcrRequest

# Headers that identify a person, an account or a session. Removed from both
# requests and responses before anything reaches disk.
SECRET_HEADERS = (
    "authorization", "api-key", "x-api-key", "cookie", "set-cookie", "openai-organization",
    "openai-project", "x-request-id", "request-id", "cf-ray", "x-goog-api-key",
    "anthropic-organization-id", "openai-processing-ms", "x-stainless-retry-count",
)
# Fields in JSON bodies that name an account.
SECRET_BODY_FIELDS = ("organization", "organization_id", "project", "project_id")
# Strings that look like keys, wherever they appear.
KEY_PATTERNS = [
    re.compile(r"sk-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"AIza[0-9A-Za-z_\-]{30,}"),
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._\-]{16,}"),
]

CASSETTE_SUFFIX = ".yaml"
MATCH_ON = ("method", "path", "query", "json_body")


class ReplayMissError(RuntimeError):
    """A notebook asked for something its cassette does not hold."""


def _json_or_text(body: bytes | str | None) -> Any:
    if body is None:
        return None
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
    try:
        return json.loads(body)
    except (ValueError, TypeError):
        return body


def json_body_matcher(r1: VcrRequest, r2: VcrRequest) -> None:
    """Compare bodies as parsed JSON, so key order and spacing never matter."""
    b1, b2 = _json_or_text(r1.body), _json_or_text(r2.body)
    if b1 != b2:
        raise AssertionError(f"bodies differ: {_diff_summary(b1, b2)}")


def _diff_summary(now: Any, recorded: Any) -> str:
    if isinstance(now, dict) and isinstance(recorded, dict):
        changed = sorted(k for k in set(now) | set(recorded) if now.get(k) != recorded.get(k))
        return "fields " + ", ".join(changed)
    return "content"


def scrub_text(text: str) -> str:
    for pattern in KEY_PATTERNS:
        text = pattern.sub("[REDACTED]", text)
    return text


def _scrub_json_body(body: Any) -> Any:
    parsed = _json_or_text(body)
    if isinstance(parsed, dict):
        changed = False
        for key in SECRET_BODY_FIELDS:
            if key in parsed:
                parsed[key] = "[REDACTED]"
                changed = True
        if changed:
            return json.dumps(parsed)
    return body


# Request headers worth keeping; the rest (user-agent, x-stainless-* with OS and
# runtime versions, host) describe the recording machine, not the lesson.
KEEP_REQUEST_HEADERS = ("content-type", "accept")


def scrub_request(request: VcrRequest) -> VcrRequest:
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS or name.lower() not in KEEP_REQUEST_HEADERS:
            del request.headers[name]
    if request.body:
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
        request.body = scrub_text(str(_scrub_json_body(body))).encode("utf-8")
    return request


def scrub_response(response: dict) -> dict:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            del headers[name]
    body = response.get("body", {}).get("string")
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return response
        response["body"]["string"] = scrub_text(str(_scrub_json_body(text))).encode("utf-8")
    elif isinstance(body, str):
        response["body"]["string"] = scrub_text(str(_scrub_json_body(body)))
    return response


def make_vcr(cassette_dir: Path) -> vcr.VCR:
    v = vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        serializer="yaml",
        decode_compressed_response=True,
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        # Hosts and headers vary between machines; the model name is in the body.
        match_on=MATCH_ON,
        filter_headers=list(SECRET_HEADERS),
    )
    v.register_matcher("json_body", json_body_matcher)
    return v


@dataclass
class Provenance:
    """Where a cassette's responses came from, stored inside the cassette."""

    backend: str
    server: str
    models: dict[str, str]
    recorded: str  # ISO date
    capabilities: list[str]
    illustrative: bool = False
    note: str = ""

    def line(self) -> str:
        models = self.models.get("chat", "?")
        if self.models.get("embed") and "embeddings" in self.capabilities:
            models += f", embeddings {self.models['embed']}"
        kind = "illustrative responses written from the OpenAI API reference" if self.illustrative else "responses recorded"
        return (
            f"Replay: {kind} on {self.recorded} from {self.backend} "
            f"({self.server}; model {models}). No key, no network."
        )


def cassette_path(cassette_dir: Path, notebook: str) -> Path:
    return cassette_dir / f"{notebook}{CASSETTE_SUFFIX}"


def read_metadata(path: Path) -> dict:
    """Read a cassette's metadata without opening it through vcrpy."""
    import yaml

    with path.open() as f:
        data = yaml.safe_load(f) or {}
    return data.get("metadata") or {}


class CassetteSession:
    """One notebook's cassette, open for the life of the kernel."""

    def __init__(self, notebook: str, cassette_dir: Path, mode: str, strict: bool = True):
        assert mode in ("replay", "record")
        self.notebook = notebook
        self.path = cassette_path(cassette_dir, notebook)
        self.mode = mode
        self.strict = strict
        self.stream_timings: list[dict] = []
        self._vcr = make_vcr(cassette_dir)
        if mode == "replay" and not self.path.exists():
            raise ReplayMissError(
                f"No cassette for notebook {notebook}: {self.path} does not exist. "
                f"Record it with: llmlab record {notebook} --backend local"
            )
        self._cm = self._vcr.use_cassette(
            self.path.name,
            record_mode="none" if mode == "replay" else "all",
            allow_playback_repeats=False,
        )
        self.cassette = self._cm.__enter__()
        self._open = True

    # -- metadata -------------------------------------------------------
    def metadata(self) -> dict:
        return dict(self.cassette._metadata)

    def set_metadata(self, key: str, value: Any) -> None:
        self.cassette._metadata[key] = value
        self.cassette.dirty = True

    def provenance(self) -> Provenance | None:
        data = self.cassette._metadata.get("provenance")
        return Provenance(**data) if data else None

    # -- saving ---------------------------------------------------------
    def save(self) -> None:
        """Write the cassette now. Called after every cell while recording,
        because nbval kills kernels without running atexit."""
        if self.mode == "record" and self._open:
            if self.stream_timings:
                self.cassette._metadata["stream_timing"] = self.stream_timings
            self.cassette._save(force=True)

    def close(self) -> None:
        if self._open:
            self.save()
            self._open = False
            self._cm.__exit__(None, None, None)

    # -- misses ---------------------------------------------------------
    def handle_miss(self, method: str, url: str, body: bytes) -> bool:
        """Called when vcr refuses a request. Returns True if the request can be
        retried (a learner re-running a cell); otherwise raises the clear error."""
        request = VcrRequest(method, url, body, {})
        matching = [i for i, (stored, _) in enumerate(self.cassette.data)
                    if requests_match(request, stored, self.cassette._match_on)]
        if matching and not self.strict:
            # Everything matching was played already: the learner re-ran a cell.
            for i in matching:
                self.cassette.play_counts[i] = 0
            return True
        raise ReplayMissError(self.miss_message(request, already_played=bool(matching)))

    def miss_message(self, request: VcrRequest, already_played: bool) -> str:
        body = _json_or_text(request.body)
        summary = json.dumps(body, sort_keys=True)[:400] if isinstance(body, (dict, list)) else str(body)[:200]
        closest = ""
        best = self.cassette.find_requests_with_most_matches(request)
        if best:
            stored, _, failures = best[0]
            reasons = "; ".join(str(f[1]).splitlines()[0] for f in failures)[:300]
            closest = f"\nClosest recorded request: {stored.method} {stored.path} ({reasons})."
        why = ("it was sent more often than when the cassette was recorded"
               if already_played else "the notebook's request changed since the cassette was recorded")
        return (
            f"Replay miss in notebook {self.notebook}: {request.method} {request.path} "
            f"is not in {self.path.name} ({why}).\nRequest body: {summary}{closest}\n"
            f"Re-record this notebook with: llmlab record {self.notebook} --backend local"
        )


def is_vcr_miss(exc: BaseException) -> bool:
    return isinstance(exc, CannotOverwriteExistingCassetteException)


def now_ms() -> float:
    return time.perf_counter() * 1000.0
