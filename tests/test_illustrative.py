"""Illustrative responses (hand-written where no server here can answer) must be
marked and must match the OpenAI API reference, request and response alike."""

import json
from functools import lru_cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from llmlab.cassettes.illustrative import HEADER
from llmlab.config import load_yaml

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "vendor" / "openai-openapi" / "openapi.json"  # MIT, version in VERSION beside it
SOURCES = sorted((ROOT / "cassettes" / "illustrative").glob("*.yaml"))


@lru_cache(maxsize=1)
def reference() -> dict:
    return json.loads(REF.read_text())


def _operation(method: str, path: str) -> dict:
    spec_path = path.split("?", 1)[0].removeprefix("/v1")
    paths = reference()["paths"]
    if spec_path not in paths:  # templated paths such as /batches/{batch_id}
        for template in paths:
            parts, real = template.split("/"), spec_path.split("/")
            if len(parts) == len(real) and all(p == r or p.startswith("{") for p, r in zip(parts, real, strict=True)):
                spec_path = template
                break
    assert spec_path in paths, f"{path} is not an endpoint of the OpenAI API reference"
    op = paths[spec_path].get(method.lower())
    assert op, f"{method} {path} is not in the reference"
    return op


def _validate(schema: dict, instance, what: str) -> None:
    root = dict(schema)
    root["components"] = reference()["components"]
    errors = sorted(Draft202012Validator(root).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{what}: " + "; ".join(f"{list(e.path)}: {e.message[:200]}" for e in errors[:5])


def _interactions():
    for path in SOURCES:
        for i, entry in enumerate(load_yaml(path.read_text())["interactions"]):
            yield pytest.param(path, entry, id=f"{path.stem}-{i}")


@pytest.mark.parametrize("path, entry", list(_interactions()))
def test_illustrative_matches_the_reference(path, entry):
    req, resp = entry["request"], entry["response"]
    op = _operation(req["method"], req["path"])
    if "body" in req and "requestBody" in op:
        content = op["requestBody"]["content"]
        assert "application/json" in content, f"{req['path']} does not take JSON"
        _validate(content["application/json"]["schema"], req["body"], f"{path.name} request")
    status = str(resp.get("status", 200))
    assert status in op["responses"], f"status {status} not documented for {req['path']}"
    content = op["responses"][status].get("content", {})
    ctype = resp.get("content_type", "application/json")
    assert ctype in content, f"{ctype} is not a documented response type of {req['path']}: {sorted(content)}"
    if ctype == "application/json":
        _validate(content[ctype]["schema"], resp["body"], f"{path.name} response")


def test_illustrative_interactions_in_cassettes_are_marked():
    """Every cassette that replays an illustrative response says so in its metadata."""
    for cassette in sorted((ROOT / "cassettes").glob("*.yaml")):
        data = load_yaml(cassette.read_text())
        marked = [i for i in data["interactions"] if HEADER in {h.lower() for h in i["response"].get("headers", {})}]
        caps = (data.get("metadata") or {}).get("illustrative", {}).get("capabilities", [])
        assert bool(marked) == bool(caps), f"{cassette.name}: illustrative responses and metadata disagree"
