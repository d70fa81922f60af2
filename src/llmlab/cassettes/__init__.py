"""Recorded HTTP: how notebooks replay without a key or a network, and how their
cassettes (cassettes/<notebook>.yaml, vcrpy's format) are written.

    scrub.py         what never reaches a cassette (keys, account headers and fields)
    matching.py      when a request is the recorded one (method, path, query, JSON body)
    format.py        the file, its provenance, what an open cassette offers
    replay.py        the replay engine: answers httpx2 requests from the file
    recorder.py      recording through vcrpy while a notebook runs live
    pacing.py        streams noted while recording, replayed at their recorded pace
    illustrative.py  hand-written responses for endpoints no server here offers

The names below are the ones lessons read (notebook 36 shows the scrubbing rules)."""

from .format import Provenance, ReplayMissError, cassette_path
from .scrub import (
    KEEP_REQUEST_HEADERS,
    KEY_PATTERNS,
    SECRET_BODY_FIELDS,
    SECRET_HEADERS,
    scrub_body,
    scrub_request,
    scrub_response,
    scrub_text,
)

__all__ = [
    "KEEP_REQUEST_HEADERS",
    "KEY_PATTERNS",
    "SECRET_BODY_FIELDS",
    "SECRET_HEADERS",
    "Provenance",
    "ReplayMissError",
    "cassette_path",
    "scrub_body",
    "scrub_request",
    "scrub_response",
    "scrub_text",
]
