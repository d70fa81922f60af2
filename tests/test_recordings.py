"""Every cassette, every interaction: what learners replay must be what the OpenAI API
says it is. Each recorded response validates against the vendored reference, no text
carries HTML-escape artefacts, every request would be valid for the model the `openai`
backend sends it to, and the Responses API is recorded for real, not only illustrated."""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openai_reference import operation, problems, problems_in

from llmlab import backends, catalogue
from llmlab.cassettes.format import as_bytes, load_cassette_file, rerecord_command
from llmlab.cassettes.illustrative import HEADER

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = sorted((ROOT / "cassettes").glob("*.yaml"))

# Response schemas the reference documents per endpoint for JSON and for each event of a stream.
STREAM_SCHEMAS = {"/chat/completions": "CreateChatCompletionStreamResponse", "/completions": "CreateCompletionResponse",
                  "/responses": "ResponseStreamEvent"}


@cache
def _load(path: Path) -> dict:
    return load_cassette_file(path)


def _interactions():
    for path in CASSETTES:
        for i, entry in enumerate(_load(path)["interactions"]):
            yield pytest.param(path.stem, entry, id=f"{path.stem}-{i}")


INTERACTIONS = list(_interactions())


def _path(entry: dict) -> str:
    from urllib.parse import urlparse

    return urlparse(entry["request"]["uri"]).path.removeprefix("/secured").removeprefix("/v1")


def _header(entry: dict, name: str) -> str:
    for key, values in (entry["response"].get("headers") or {}).items():
        if key.lower() == name:
            return values[0] if isinstance(values, list) else values
    return ""


def _response_text(entry: dict) -> str:
    return as_bytes(entry["response"]["body"].get("string")).decode("utf-8", errors="replace")


def _request_json(entry: dict) -> Any:
    body = entry["request"].get("body")
    if not body:
        return None
    try:
        return json.loads(as_bytes(body))
    except ValueError:
        return None  # multipart uploads (files, audio) are not JSON


def _sse_events(text: str) -> list[Any]:
    events = []
    for line in text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            events.append(json.loads(line[6:]))
    return events


def _embeddings_as_floats(entry: dict, body: dict) -> dict:
    """The SDK asks for base64 (`encoding_format`), and the API then sends each vector as a
    base64 string of float32s; the reference documents only the float form, so decode it."""
    if (_request_json(entry) or {}).get("encoding_format") != "base64":
        return body
    import base64
    import struct

    data = []
    for item in body.get("data", []):
        raw = base64.b64decode(item["embedding"])
        data.append({**item, "embedding": list(struct.unpack(f"<{len(raw) // 4}f", raw))})
    return {**body, "data": data}


def _is_illustrative(entry: dict) -> bool:
    return bool(_header(entry, HEADER))


@pytest.mark.parametrize("notebook, entry", INTERACTIONS)
def test_every_recorded_response_matches_the_reference(notebook, entry):
    """Real recordings too, not only the illustrative ones: a field the server forgot or
    got wrong (a missing `refusal`, a finish_reason OpenAI never sends) fails here."""
    status = entry["response"]["status"]["code"]
    path, method = _path(entry), entry["request"]["method"]
    where = f"{notebook}: {method} {path} ({status}); re-record with: {rerecord_command(notebook)}"
    op = operation(method, path)
    assert op is not None, f"{where}: not an endpoint of the OpenAI reference"
    ctype = _header(entry, "content-type")
    text = _response_text(entry)
    if status >= 400:
        found = problems("ErrorResponse", json.loads(text))
    elif ctype.startswith("text/event-stream"):
        events = _sse_events(text)
        assert events, f"{where}: an empty stream"
        found = [f"event {i}: {p}" for i, e in enumerate(events) for p in problems(STREAM_SCHEMAS[path], e)]
    elif ctype.startswith("application/json"):
        content = op["responses"].get(str(status), {}).get("content", {})
        assert "application/json" in content, f"{where}: the reference documents no JSON response here"
        schema = content["application/json"]["schema"]
        if schema.get("type") == "string":  # e.g. a file's content: text, not a JSON document
            found = []
        elif "$ref" in schema:
            found = problems(schema["$ref"].rsplit("/", 1)[-1], json.loads(text))
        else:
            found = problems_in(schema, json.loads(text))
        if path == "/embeddings":
            found = problems(schema["$ref"].rsplit("/", 1)[-1], _embeddings_as_floats(entry, json.loads(text)))
    else:  # audio bytes: the reference documents only the media type
        content = op["responses"].get(str(status), {}).get("content", {})
        assert ctype.split(";")[0] in content or "application/octet-stream" in content, f"{where}: {ctype}"
        found = []
    assert not found, f"{where}: " + "; ".join(found[:5])


# An escape artefact is an entity where the sender wrote a character: &#39; for ', &amp;#39; once re-sent.
ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|amp|quot|apos|lt|gt);")


def _strings(node: Any):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.stem)
def test_no_cassette_holds_html_escape_artefacts(path):
    for i, entry in enumerate(_load(path)["interactions"]):
        texts = list(_strings(_request_json(entry)))
        body = _response_text(entry)
        events = _sse_events(body) if _header(entry, "content-type").startswith("text/event-stream") else []
        if events:
            texts += [s for e in events for s in _strings(e)]
        else:  # JSON, JSON Lines (a batch's output file) or text: every string in it
            for line in body.splitlines() if "\n" in body.strip() else [body]:
                try:
                    texts += list(_strings(json.loads(line)))
                except ValueError:
                    texts.append(line)
        for text in texts:
            hit = ENTITY.search(text)
            if hit:
                around = text[max(0, hit.start() - 40):hit.end() + 20]
                pytest.fail(f"{path.stem} interaction {i}: {hit.group()!r} in {around!r} (should read "
                            f"{html.unescape(hit.group())!r}); re-record with: {rerecord_command(path.stem)}")


# -- requests valid for today's OpenAI models -------------------------------------------------------
def _role(path: str, body: dict) -> str | None:
    if path == "/embeddings":
        return "embed"
    if path not in {"/chat/completions", "/responses"}:
        return None  # media, batch and legacy endpoints: no family rules in the catalogue
    if body.get("tools"):
        return "tools"
    if "image_url" in json.dumps(body.get("messages") or body.get("input")) or "input_image" in json.dumps(
            body.get("input")):
        return "vision"
    return "chat"


def rule_breaks(path: str, body: dict) -> list[str]:
    """What the `openai` backend's model for this request's role would refuse in it."""
    role = _role(path, body)
    model = catalogue.default_model("openai", role) if role else None
    family = catalogue.rules(model) if model else None
    if family is None:
        return []
    if path == "/responses":
        effort = (body.get("reasoning") or {}).get("effort")
        restricted = {"temperature", "top_p", "top_logprobs"}  # tools need no effort on Responses
    else:
        effort = body.get("reasoning_effort")
        restricted = set(family.rules)
    breaks = []
    for param, rule in family.rules.items():
        if param not in body or param not in restricted:
            continue
        if rule.rule == "rejected":
            breaks.append(f"{model} rejects {param}")
        elif rule.rule == "only_with_reasoning_effort_none" and effort != "none":
            breaks.append(f"{model} takes {param} only with reasoning effort \"none\" (sent: {effort!r})")
    if family.max_tokens_param == "max_completion_tokens" and "max_tokens" in body:
        breaks.append(f"{model} takes max_completion_tokens, not the deprecated max_tokens")
    if effort is not None and family.reasoning_effort and effort not in family.reasoning_effort.values:
        breaks.append(f"{model} has no reasoning effort {effort!r}")
    return breaks


@pytest.mark.parametrize("notebook, entry", INTERACTIONS)
def test_every_request_is_valid_for_the_openai_model_of_its_role(notebook, entry):
    """Re-targeted to the `openai` backend's default for its role (catalogue.yaml), each
    recorded request follows that model family's request rules. Requests a lesson sends
    to fail (answered with a 4xx) are exempt: their point is the error."""
    body = _request_json(entry)
    if not isinstance(body, dict) or entry["response"]["status"]["code"] >= 400:
        return
    breaks = rule_breaks(_path(entry), body)
    assert not breaks, f"{notebook}: {'; '.join(breaks)}; fix the request, then: {rerecord_command(notebook)}"


def test_the_rules_check_can_fail():
    """The check above is not vacuous: yesterday's requests break it."""
    old = {"model": "m", "messages": [], "max_tokens": 60, "temperature": 0}
    assert len(rule_breaks("/chat/completions", old)) == 2
    now = {"model": "m", "messages": [], "max_completion_tokens": 60, "temperature": 0, "reasoning_effort": "none"}
    assert rule_breaks("/chat/completions", now) == []
    assert rule_breaks("/responses", {"input": "hi", "temperature": 0})


# -- the Responses API, recorded for real ------------------------------------------------------------
def test_the_responses_api_is_recorded_from_a_real_server_in_ten_notebooks():
    recorded = {path.stem for path in CASSETTES if path.stem[:2].isdigit()
                for e in _load(path)["interactions"]
                if _path(e) == "/responses" and e["response"]["status"]["code"] == 200 and not _is_illustrative(e)}
    assert len(recorded) >= 10, f"only {sorted(recorded)} record client.responses.create from a real server"


# -- "Skipped" only for what the local server really lacks --------------------------------------------
SKIP_LINE = re.compile(r"Skipped: (?P<why>.+?)\. Try the openai backend")


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")), ids=lambda p: p.stem)
def test_skipped_lines_name_a_real_gap_of_the_recording_server(path):
    """Notebooks are recorded on the local server; a cell may skip only a capability it lacks."""
    real_gaps = set(backends.LOCAL.notes.values())
    for cell in json.loads(path.read_text())["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            for hit in SKIP_LINE.finditer(text):
                assert hit["why"] in real_gaps, f"{path.stem} skips what the local server can do: {hit.group()}"
