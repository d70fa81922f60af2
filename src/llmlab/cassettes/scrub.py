"""What never reaches a cassette: headers that identify a person, an account or a
session, account fields in JSON bodies, and anything shaped like a key. Applied to
requests and responses while recording, and to live requests before matching."""

from __future__ import annotations

import json
import re
from typing import Any

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
# Request headers worth keeping; the rest (user-agent, x-stainless-* with OS and
# runtime versions, host) describe the recording machine, not the lesson.
KEEP_REQUEST_HEADERS = ("content-type", "accept")


def json_or_text(body: bytes | str | None) -> Any:
    """A body parsed as JSON when it is JSON, else as text (bytes if not UTF-8)."""
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


def scrub_text(text: str) -> str:
    for pattern in KEY_PATTERNS:
        text = pattern.sub("[REDACTED]", text)
    return text


def _scrub_json_body(body: Any) -> Any:
    parsed = json_or_text(body)
    if isinstance(parsed, dict):
        changed = False
        for key in SECRET_BODY_FIELDS:
            if key in parsed:
                parsed[key] = "[REDACTED]"
                changed = True
        if changed:
            return json.dumps(parsed)
    return body


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
