"""The replay engine: answers HTTP requests from a cassette, with no network.

Replay reads vcrpy's cassette format directly and answers httpx2 requests from
it: importing vcrpy pulls in stubs for every HTTP library installed (requests,
httpx, botocore, tornado...), about 0.35 s of every notebook's start, and the
kit only ever speaks httpx2. A test checks that this reader and vcrpy load every
cassette identically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .format import OpenCassette, ReplayMissError, as_bytes, load_cassette_file, rerecord_command
from .matching import RecordedRequest, match_failures
from .scrub import json_or_text, scrub_body


class _TransportPatch:
    """While a replay session is open, httpx2's own transports answer from it,
    as vcrpy's patch would: the Lab's client, a notebook's AsyncOpenAI, and the
    simulators that wrap a plain HTTPTransport all replay the same cassette."""

    active: ReplaySession | None = None
    _saved: tuple[Any, Any] | None = None

    @classmethod
    def install(cls, session: ReplaySession) -> None:
        import httpx2

        if cls._saved is None:
            cls._saved = (httpx2.HTTPTransport.handle_request, httpx2.AsyncHTTPTransport.handle_async_request)

            def handle_request(transport: Any, request: Any) -> Any:
                return cls.serve(request, request.read())

            async def handle_async_request(transport: Any, request: Any) -> Any:
                return cls.serve(request, await request.aread())

            # Patching a class's method is what vcrpy does too; mypy rightly calls it unusual.
            httpx2.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign,assignment]
            httpx2.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign,assignment]
        cls.active = session

    @classmethod
    def remove(cls, session: ReplaySession) -> None:
        import httpx2

        if cls.active is session and cls._saved is not None:
            saved_sync, saved_async = cls._saved
            httpx2.HTTPTransport.handle_request = saved_sync  # type: ignore[method-assign]
            httpx2.AsyncHTTPTransport.handle_async_request = saved_async  # type: ignore[method-assign]
            cls._saved, cls.active = None, None

    @classmethod
    def serve(cls, request: Any, body: bytes) -> Any:
        import httpx2

        if cls.active is None:  # pragma: no cover - the patch is removed with its session
            raise RuntimeError("replay transport used after its session closed")
        response = cls.active.play(request.method, str(request.url), body)
        message = response["status"].get("message")
        return httpx2.Response(
            response["status"]["code"],
            headers=[(name, value) for name, values in response["headers"].items() for value in values],
            stream=httpx2.ByteStream(as_bytes(response["body"]["string"])),
            extensions={"reason_phrase": message.encode("ascii")} if message else None,
            request=request,
        )


class ReplaySession(OpenCassette):
    """A cassette being replayed: each request gets the first matching recorded
    response not played yet; a request it does not hold is a ReplayMissError."""

    mode = "replay"

    def __init__(self, notebook: str, cassette_dir: Path, strict: bool = True):
        super().__init__(notebook, cassette_dir)
        self.strict = strict
        self.last_played: int | None = None  # index of the interaction answered last (for pacing)
        if not self.path.exists():
            raise ReplayMissError(f"No cassette for notebook {notebook}: {self.path} does not exist. "
                                  f"Record it with: {rerecord_command(notebook)}")
        data = load_cassette_file(self.path)
        self.recorded: list[dict] = data["interactions"]
        self._metadata = data.get("metadata") or {}
        self._requests = [RecordedRequest(i["request"]["method"], i["request"]["uri"], i["request"].get("body"))
                          for i in self.recorded]
        self.play_counts = [0] * len(self.recorded)
        self._open = True
        _TransportPatch.install(self)

    def close(self) -> None:
        if self._open:
            self._open = False
            _TransportPatch.remove(self)

    def play(self, method: str, url: str, body: bytes) -> dict:
        """The recorded response for this request: the first matching one not
        played yet, as vcrpy plays them. A learner re-running a cell (not strict)
        starts that request's answers over; otherwise a miss is a clear error."""
        request = RecordedRequest(method, url, scrub_body(body))
        matching = [i for i, stored in enumerate(self._requests) if not match_failures(request, stored)]
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
        body = json_or_text(request.body)
        summary = json.dumps(body, sort_keys=True)[:400] if isinstance(body, (dict, list)) else str(body)[:200]
        closest = ""
        if self._requests and not already_played:
            stored, failures = min(((r, match_failures(request, r)) for r in self._requests),
                                   key=lambda pair: len(pair[1]))
            closest = f"\nClosest recorded request: {stored.method} {stored.path} ({'; '.join(failures)[:300]})."
        why = ("it was sent more often than when the cassette was recorded"
               if already_played else "the notebook's request changed since the cassette was recorded")
        return (
            f"Replay miss in notebook {self.notebook}: {request.method} {request.path} "
            f"is not in {self.path.name} ({why}).\nRequest body: {summary}{closest}\n"
            f"Re-record this notebook with: {rerecord_command(self.notebook)}"
        )
