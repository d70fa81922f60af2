"""Illustrative responses (hand-written where no server here can answer) must be
marked and must match the OpenAI API reference, request and response alike."""

from pathlib import Path

import pytest
from openai_reference import operation, problems_in

from llmlab.cassettes.illustrative import HEADER
from llmlab.config import load_yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "cassettes" / "illustrative").glob("*.yaml"))


def _interactions():
    for path in SOURCES:
        for i, entry in enumerate(load_yaml(path.read_text())["interactions"]):
            yield pytest.param(path, entry, id=f"{path.stem}-{i}")


@pytest.mark.parametrize("path, entry", list(_interactions()))
def test_illustrative_matches_the_reference(path, entry):
    req, resp = entry["request"], entry["response"]
    op = operation(req["method"], req["path"])
    assert op, f"{req['method']} {req['path']} is not an endpoint of the OpenAI reference"
    if "body" in req and "requestBody" in op:
        content = op["requestBody"]["content"]
        assert "application/json" in content, f"{req['path']} does not take JSON"
        found = problems_in(content["application/json"]["schema"], req["body"])
        assert not found, f"{path.name} request: " + "; ".join(found)
    status = str(resp.get("status", 200))
    assert status in op["responses"], f"status {status} not documented for {req['path']}"
    content = op["responses"][status].get("content", {})
    ctype = resp.get("content_type", "application/json")
    assert ctype in content, f"{ctype} is not a documented response type of {req['path']}: {sorted(content)}"
    if ctype == "application/json":
        found = problems_in(content[ctype]["schema"], resp["body"])
        assert not found, f"{path.name} response: " + "; ".join(found)


def test_illustrative_interactions_in_cassettes_are_marked():
    """Every cassette that replays an illustrative response says so in its metadata."""
    for cassette in sorted((ROOT / "cassettes").glob("*.yaml")):
        data = load_yaml(cassette.read_text())
        marked = [i for i in data["interactions"] if HEADER in {h.lower() for h in i["response"].get("headers", {})}]
        caps = (data.get("metadata") or {}).get("illustrative", {}).get("capabilities", [])
        assert bool(marked) == bool(caps), f"{cassette.name}: illustrative responses and metadata disagree"
