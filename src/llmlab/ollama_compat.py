"""Ollama's OpenAI-compatible layer reads `max_tokens` and not `max_completion_tokens`: its
compatibility page lists only `max_tokens` among the request fields (docs.ollama.com/api/
openai-compatibility, read 2026-12-03; ollama/ollama#14464, which adds the newer name, was still
open). The kit's notebooks send today's name, so against a live Ollama the cap would silently not
apply and a 3B model on a laptop would write until it stops on its own. The kit's client copies
the value into `max_tokens` for Ollama; notebook 35 says so, and that your own code must do the same."""

from __future__ import annotations

import json

import httpx2

_PATHS = ("/chat/completions", "/completions")


def with_max_tokens(request: httpx2.Request) -> httpx2.Request:
    """The request with max_tokens = max_completion_tokens added when only the latter is set."""
    if request.method != "POST" or not request.url.path.endswith(_PATHS):
        return request
    try:
        body = json.loads(request.content)
    except ValueError:
        return request
    if not isinstance(body, dict) or "max_completion_tokens" not in body or "max_tokens" in body:
        return request
    body["max_tokens"] = body["max_completion_tokens"]
    headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
    return httpx2.Request(request.method, request.url, headers=headers, content=json.dumps(body).encode(),
                          extensions=request.extensions)
