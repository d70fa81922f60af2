"""The vendored OpenAI API reference (vendor/openai-openapi/openapi.json, MIT) as JSON
Schema validators, for the tests that hold our server and our recordings to it."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator

REF = Path(__file__).resolve().parents[1] / "vendor" / "openai-openapi" / "openapi.json"


def _nullable(node):
    """OpenAPI 3.0's `nullable: true` (still used in a few 3.1 schemas) as JSON Schema."""
    if isinstance(node, list):
        return [_nullable(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable(v) for k, v in node.items()}
    if node.pop("nullable", False):
        if "$ref" in node:
            ref = {"$ref": node.pop("$ref")}
            node = {**node, "anyOf": [ref, {"type": "null"}]}
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
    return node


@lru_cache(maxsize=1)
def reference() -> dict:
    return json.loads(REF.read_text())


@lru_cache(maxsize=1)
def _components() -> dict:
    return _nullable(reference()["components"])


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": _components()})


def problems(name: str, instance) -> list[str]:
    """What is wrong with `instance` as the reference's schema `name` (empty when it conforms)."""
    errors = sorted(_validator(name).iter_errors(instance), key=lambda e: list(e.path))
    return [f"{list(e.path)}: {e.message[:300]}" for e in errors[:5]]


def problems_in(schema: dict, instance) -> list[str]:
    """Like `problems`, for a schema written inline in an operation (it may $ref components)."""
    validator = Draft202012Validator({**_nullable(schema), "components": _components()})
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    return [f"{list(e.path)}: {e.message[:300]}" for e in errors[:5]]


def conforms(name: str, instance) -> None:
    found = problems(name, instance)
    assert not found, f"{name}: " + "; ".join(found)


def operation(method: str, path: str) -> dict | None:
    """The reference's operation for a request path such as /v1/batches/batch_abc (None if absent)."""
    spec_path = path.split("?", 1)[0].removeprefix("/secured").removeprefix("/v1")
    paths = reference()["paths"]
    if spec_path not in paths:  # templated paths such as /batches/{batch_id}
        for template in paths:
            parts, real = template.split("/"), spec_path.split("/")
            if len(parts) == len(real) and all(p == r or p.startswith("{") for p, r in zip(parts, real, strict=True)):
                spec_path = template
                break
    return paths.get(spec_path, {}).get(method.lower())
