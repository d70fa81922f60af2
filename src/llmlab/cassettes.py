"""Cassettes in one place: matching, scrubbing, provenance, per-cell saving,
the miss message, and stream timing. vcrpy is imported only to record.

Recording goes through vcrpy. Replay reads vcrpy's cassette format directly
and answers httpx2 requests from it: importing vcrpy pulls in stubs for every
HTTP library installed (requests, httpx, botocore, tornado...), about 0.35 s of
every notebook's start, and the kit only ever speaks httpx2. A test checks that
this reader and vcrpy load every cassette identically."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from urllib.parse import parse_qsl, urlparse

from .config import load_yaml

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


def json_body_matcher(r1: Any, r2: Any) -> None:
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


def scrub_body(body: bytes | str | None) -> bytes | None:
    if not body:
        return body if isinstance(body, bytes) or body is None else body.encode("utf-8")
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return scrub_text(str(_scrub_json_body(text))).encode("utf-8")


def scrub_request(request: Any) -> Any:
    """vcrpy's before_record_request: also applied to live requests before matching."""
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS or name.lower() not in KEEP_REQUEST_HEADERS:
            del request.headers[name]
    if request.body:
        request.body = scrub_body(request.body)
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


def make_vcr(cassette_dir: Path):
    import vcr

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


class RecordedRequest:
    """A request as the matchers see it (the shape of vcrpy's Request)."""

    def __init__(self, method: str, uri: str, body: bytes | str | None):
        self.method, self.uri = method.upper(), uri
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        parts = urlparse(uri)
        self.path, self.query = parts.path, sorted(parse_qsl(parts.query))


def _match_failures(now: RecordedRequest, recorded: RecordedRequest) -> list[str]:
    """vcrpy's method, path and query matchers plus ours for JSON bodies."""
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


def load_cassette_file(path: Path) -> dict:
    """A cassette's YAML as vcrpy wrote it: {interactions, version, metadata}."""
    import yaml

    try:
        data = load_yaml(path.read_bytes()) or {}
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())  # one line: where and what
        raise ReplayMissError(f"Cassette {path.name} is not valid YAML ({detail}); restore it from git "
                              f"or re-record it with: llmlab record {path.stem} --backend local") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise ReplayMissError(f"Cassette {path.name} has no interactions list; restore it from git "
                              f"or re-record it with: llmlab record {path.stem} --backend local")
    return data


class _ReplayTransportPatch:
    """While a replay session is open, httpx2's own transports answer from it,
    as vcrpy's patch would: the Lab's client, a notebook's AsyncOpenAI, and the
    simulators that wrap a plain HTTPTransport all replay the same cassette."""

    active: "CassetteSession | None" = None
    _saved: tuple | None = None

    @classmethod
    def install(cls, session: "CassetteSession") -> None:
        import httpx2

        if cls._saved is None:
            cls._saved = (httpx2.HTTPTransport.handle_request, httpx2.AsyncHTTPTransport.handle_async_request)

            def handle_request(transport: Any, request: Any) -> Any:
                return cls.serve(request, request.read())

            async def handle_async_request(transport: Any, request: Any) -> Any:
                return cls.serve(request, await request.aread())

            httpx2.HTTPTransport.handle_request = handle_request
            httpx2.AsyncHTTPTransport.handle_async_request = handle_async_request
        cls.active = session

    @classmethod
    def remove(cls, session: "CassetteSession") -> None:
        import httpx2

        if cls.active is session and cls._saved is not None:
            httpx2.HTTPTransport.handle_request, httpx2.AsyncHTTPTransport.handle_async_request = cls._saved
            cls._saved, cls.active = None, None

    @classmethod
    def serve(cls, request: Any, body: bytes) -> Any:
        import httpx2

        response = cls.active.play(request.method, str(request.url), body)
        message = response["status"].get("message")
        return httpx2.Response(
            response["status"]["code"],
            headers=[(name, value) for name, values in response["headers"].items() for value in values],
            stream=httpx2.ByteStream(_as_bytes(response["body"]["string"])),
            extensions={"reason_phrase": message.encode("ascii")} if message else None,
            request=request,
        )


def _as_bytes(body: bytes | str | None) -> bytes:
    if body is None:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else body


class CassetteSession:
    """One notebook's cassette, open for the life of the kernel."""

    def __init__(self, notebook: str, cassette_dir: Path, mode: str, strict: bool = True):
        assert mode in ("replay", "record")
        self.notebook = notebook
        self.path = cassette_path(cassette_dir, notebook)
        self.mode = mode
        self.strict = strict
        self.stream_timings: list[dict] = []
        self.last_played: int | None = None
        if mode == "replay":
            if not self.path.exists():
                raise ReplayMissError(
                    f"No cassette for notebook {notebook}: {self.path} does not exist. "
                    f"Record it with: llmlab record {notebook} --backend local"
                )
            data = load_cassette_file(self.path)
            self.recorded: list[dict] = data["interactions"]
            self._metadata: dict = data.get("metadata") or {}
            self._requests = [RecordedRequest(i["request"]["method"], i["request"]["uri"], i["request"].get("body"))
                              for i in self.recorded]
            self.play_counts = [0] * len(self.recorded)
            self.cassette = None
            _ReplayTransportPatch.install(self)
        else:
            self._vcr = make_vcr(cassette_dir)
            self._cm = self._vcr.use_cassette(self.path.name, record_mode="all", allow_playback_repeats=False)
            self.cassette = self._cm.__enter__()
            self._metadata = self.cassette._metadata
        self._open = True

    # -- metadata -------------------------------------------------------
    def metadata(self) -> dict:
        return dict(self._metadata)

    def set_metadata(self, key: str, value: Any) -> None:
        self._metadata[key] = value
        self.cassette.dirty = True

    def provenance(self) -> Provenance | None:
        data = self._metadata.get("provenance")
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
            if self.mode == "replay":
                _ReplayTransportPatch.remove(self)
            else:
                self._cm.__exit__(None, None, None)

    # -- replay ---------------------------------------------------------
    def play(self, method: str, url: str, body: bytes) -> dict:
        """The recorded response for this request: the first matching one not
        played yet, as vcrpy plays them. A learner re-running a cell (not strict)
        starts that request's answers over; otherwise a miss is a clear error."""
        request = RecordedRequest(method, url, scrub_body(body))
        matching = [i for i, stored in enumerate(self._requests) if not _match_failures(request, stored)]
        fresh = [i for i in matching if self.play_counts[i] == 0]
        if not fresh:
            if not matching or self.strict:
                raise ReplayMissError(self.miss_message(request, already_played=bool(matching)))
            for i in matching:
                self.play_counts[i] = 0
            fresh = matching
        self.play_counts[fresh[0]] += 1
        self.last_played = fresh[0]
        return self.recorded[fresh[0]]["response"]

    def miss_message(self, request: RecordedRequest, already_played: bool) -> str:
        body = _json_or_text(request.body)
        summary = json.dumps(body, sort_keys=True)[:400] if isinstance(body, (dict, list)) else str(body)[:200]
        closest = ""
        if self._requests and not already_played:
            stored, failures = min(((r, _match_failures(request, r)) for r in self._requests),
                                   key=lambda pair: len(pair[1]))
            closest = f"\nClosest recorded request: {stored.method} {stored.path} ({'; '.join(failures)[:300]})."
        why = ("it was sent more often than when the cassette was recorded"
               if already_played else "the notebook's request changed since the cassette was recorded")
        return (
            f"Replay miss in notebook {self.notebook}: {request.method} {request.path} "
            f"is not in {self.path.name} ({why}).\nRequest body: {summary}{closest}\n"
            f"Re-record this notebook with: llmlab record {self.notebook} --backend local"
        )


def now_ms() -> float:
    return time.perf_counter() * 1000.0
