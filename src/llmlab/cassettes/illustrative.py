"""Illustrative responses: for capabilities the recording backend lacks (images,
speech, transcription, moderation, batch, vision, the Responses API), written by
hand from the OpenAI API reference, merged into the cassette at record time,
marked as such, and validated against the reference by tests/test_illustrative.py."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from ..config import load_yaml
from .recorder import RecordingSession

HEADER = "x-llmlab-illustrative"
SOURCE = "written from the OpenAI API reference (vendor/openai-openapi/openapi.json); not a recording"


def source_path(cassette_dir: Path, notebook: str) -> Path:
    return cassette_dir / "illustrative" / f"{notebook}.yaml"


def load(cassette_dir: Path, notebook: str) -> list[dict]:
    path = source_path(cassette_dir, notebook)
    if not path.exists():
        return []
    with path.open() as f:
        data = load_yaml(f) or {}
    return data.get("interactions", [])


def response_body(entry: dict) -> bytes:
    response = entry["response"]
    if "body_base64" in response:
        return base64.b64decode(response["body_base64"])
    if "body_text" in response:
        return response["body_text"].encode()
    return json.dumps(response["body"]).encode()


def merge_into(session: RecordingSession, cassette_dir: Path, notebook: str) -> None:
    """Add the illustrative interactions the live backend cannot produce (at record time)."""
    from vcr.request import Request

    from ..backends import resolve

    provenance = session.metadata().get("provenance", {})
    live_caps = set(provenance.get("capabilities", []))
    added = []
    for entry in load(cassette_dir, notebook):
        if entry["capability"] in live_caps:
            continue  # the live backend records the real thing
        req = entry["request"]
        body = json.dumps(req["body"]).encode() if "body" in req else b""
        url = resolve("openai").base_url.rsplit("/v1", 1)[0] + req["path"]
        request = Request(req["method"], url, body, {"content-type": "application/json"})
        response = {
            "status": {"code": entry["response"].get("status", 200), "message": "OK"},
            "headers": {
                "content-type": [entry["response"].get("content_type", "application/json")],
                HEADER: [SOURCE],
            },
            "body": {"string": response_body(entry)},
        }
        session.cassette.append(request, response)
        added.append(entry["capability"])
    if added:
        session.set_metadata("illustrative", {"capabilities": sorted(set(added)), "models": models_used(
            [e for e in load(cassette_dir, notebook) if e["capability"] in added]), "source": SOURCE})


# Capabilities that are also model roles (llmlab.backends.Models): replay names the model
# the illustrative request was written for, not whatever the openai backend uses today.
ROLE_CAPABILITIES = ("vision", "images", "speech", "transcription", "moderation")


def models_used(entries: list[dict]) -> dict[str, str]:
    """role -> model, from the illustrative requests' JSON bodies."""
    found: dict[str, str] = {}
    for entry in entries:
        body = entry["request"].get("body")
        if entry["capability"] in ROLE_CAPABILITIES and isinstance(body, dict) and body.get("model"):
            found.setdefault(entry["capability"], body["model"])
    return found
