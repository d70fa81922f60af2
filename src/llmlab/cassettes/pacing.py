"""Streams at the pace they were recorded. While recording, the Lab's transport
notes when each chunk of a streamed response arrived (stored in the cassette's
metadata); in replay it hands the recorded chunks back at those moments, so a
learner sees tokens arrive as they did. Off in tests and scripts (LLMLAB_PACE=0)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx2

from ..config import truthy
from .recorder import RecordingSession
from .replay import ReplaySession

if TYPE_CHECKING:
    from ..session import Lab


def now_ms() -> float:
    return time.perf_counter() * 1000.0


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def pace_enabled() -> bool:
    """Paced replay of streams: on by default in Jupyter, off in tests and scripts."""
    value = os.environ.get("LLMLAB_PACE")
    if value is not None:
        return truthy(value)
    return _in_kernel()


class _Timing:
    """Wraps a network stream to note when each chunk arrived (recording only)."""

    def __init__(self, stream: Any, sink: list[list[float]]):
        self._stream, self._sink, self._t0 = stream, sink, now_ms()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._sink.append([round(now_ms() - self._t0, 1), len(chunk)])
            yield chunk

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close:
            close()


class _TimedPool:
    """Stands in for httpcore's pool while recording, so chunk timing is real."""

    def __init__(self, pool: Any, transport: LabTransport):
        self._pool, self._transport = pool, transport

    def handle_request(self, request: Any) -> Any:
        response = self._pool.handle_request(request)
        self._transport.last_timing = []
        response.stream = _Timing(response.stream, self._transport.last_timing)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class _PacedStream(httpx2.SyncByteStream):
    """Replays a recorded body in its recorded chunks, at the recorded pace."""

    def __init__(self, body: bytes, timing: list[list[float]]):
        self._body, self._timing = body, timing

    def __iter__(self) -> Iterator[bytes]:
        start, offset = time.perf_counter(), 0
        for at_ms, size in self._timing:
            delay = at_ms / 1000.0 - (time.perf_counter() - start)
            if delay > 0:
                time.sleep(delay)
            yield self._body[offset:offset + int(size)]
            offset += int(size)
        if offset < len(self._body):
            yield self._body[offset:]


class LabTransport(httpx2.HTTPTransport):
    """The kit's hook into HTTP: times streams while recording and paces them in replay.
    Live, it is a plain HTTPTransport; in replay the cassette answers, because httpx2's
    transports are patched while it is open (replay.py)."""

    def __init__(self, lab: Lab, **kwargs: Any):
        super().__init__(**kwargs)
        self._lab = lab
        self.last_timing: list[list[float]] = []
        if lab.mode == "record":
            self._pool = _TimedPool(self._pool, self)  # type: ignore[assignment]

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        lab = self._lab
        if lab.mode == "live" and lab.backend == "ollama":
            from ..ollama_compat import with_max_tokens

            request = with_max_tokens(request)
        response = super().handle_request(request)
        lab.requests_made += 1
        streamed = "text/event-stream" in response.headers.get("content-type", "")
        if lab.mode == "live" and not streamed and "json" in response.headers.get("content-type", ""):
            # Kept so that a cell that cannot read the answer can say what came instead (run_all.py).
            from ..run_all import summarize_answer

            lab.last_answer = summarize_answer(response.read())
        if isinstance(lab._cassette, RecordingSession):
            if streamed and self.last_timing:
                lab._cassette.note_stream_timing(self.last_timing)
                self.last_timing = []
        elif isinstance(lab._cassette, ReplaySession) and lab.pace and streamed:
            timing = (lab._timings or {}).get(lab._cassette.last_played)  # type: ignore[arg-type]
            if timing:
                body = response.read()
                response = httpx2.Response(
                    response.status_code, headers=response.headers,
                    stream=_PacedStream(body, timing), request=request,
                )
        return response
