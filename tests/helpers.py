"""Test doubles shared by test modules (pytest puts tests/ on sys.path): fake OpenAI
clients and labs, SDK errors made in memory, a fake clock, a free port. Fixtures
built on them are in tests/conftest.py. Nothing here touches a network."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace
from typing import Any

import httpx2
import openai
from openai.types.chat import ChatCompletion

BASE = "http://llmlab-test.invalid/v1"  # .invalid never resolves: a leak fails loudly


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- responses and clients ---------------------------------------------------------------

def chat_completion(model: str = "m", prompt: int = 100, completion_tokens: int = 20, cached: int = 0,
                    content: str = "ok") -> ChatCompletion:
    """A real SDK ChatCompletion, built in memory, with the usage given."""
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                             "total_tokens": prompt + completion_tokens}
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return ChatCompletion.model_validate({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": usage})


class FakeChatClient:
    """Just enough of openai.OpenAI for code that calls `client.chat.completions.create`:
    records each call's arguments in `calls` and answers `content` with the usage given
    (completion tokens capped by the request's max_tokens)."""

    def __init__(self, content: str = "ok", prompt: int = 100, out: int = 20):
        self.content, self.prompt, self.out = content, prompt, out
        self.calls: list[dict[str, Any]] = []
        self.chat = SimpleNamespace(completions=self)

    def create(self, **kwargs: Any) -> ChatCompletion:
        self.calls.append(kwargs)
        return chat_completion(kwargs.get("model", "m"), self.prompt, min(self.out, kwargs.get("max_tokens", self.out)),
                               content=self.content)


def fake_lab(content: str = "ok", capabilities: set[str] | frozenset[str] = frozenset(), backend: str = "openai",
             mode: str = "live", chat: str = "m") -> tuple[SimpleNamespace, FakeChatClient]:
    """A stand-in for llmlab.start()'s Lab (mode, backend, capabilities, client, models)
    whose client is a FakeChatClient; returns (lab, client)."""
    client = FakeChatClient(content)
    lab = SimpleNamespace(mode=mode, backend=backend, capabilities=frozenset(capabilities), client=client,
                          models=SimpleNamespace(chat=chat))
    return lab, client


def _answer(request: httpx2.Request) -> httpx2.Response:
    model = json.loads(request.content)["model"]
    return httpx2.Response(200, json={
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": f"hello from {model}"}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})


def ok_transport() -> httpx2.BaseTransport:
    """An in-memory server that answers every chat completion with `hello from <model>`."""
    return httpx2.MockTransport(_answer)


def sdk_client(transport: httpx2.BaseTransport) -> openai.OpenAI:
    """A real openai.OpenAI over `transport`, with the SDK's own retries off."""
    return openai.OpenAI(base_url=BASE, api_key="test", max_retries=0, http_client=httpx2.Client(transport=transport))


# -- SDK errors, as the SDK raises them ----------------------------------------------------

_STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
    404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


def status_error(status: int, headers: dict[str, str] | None = None, code: str | None = None,
                 type: str | None = None) -> openai.APIStatusError:
    """The SDK's error for an HTTP status (5xx: InternalServerError), with headers, an error code and type."""
    request = httpx2.Request("POST", f"{BASE}/chat/completions")
    response = httpx2.Response(status, headers=headers or {}, request=request)
    cls = _STATUS_ERRORS.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    fields = {k: v for k, v in (("code", code), ("type", type)) if v}
    body = {"message": f"status {status}", **fields} if fields else None
    return cls(f"status {status}", response=response, body=body)


def connection_error() -> openai.APIConnectionError:
    return openai.APIConnectionError(request=httpx2.Request("POST", f"{BASE}/chat/completions"))


def timeout_error() -> openai.APITimeoutError:
    return openai.APITimeoutError(request=httpx2.Request("POST", f"{BASE}/chat/completions"))


class Flaky:
    """A callable that raises the given errors in turn, then returns `result`."""

    def __init__(self, errors: list[BaseException], result: Any = "done"):
        self.errors, self.result, self.calls = list(errors), result, 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


# -- time ------------------------------------------------------------------------------------

DAY = 86_400.0


class FakeClock:
    """A clock to pass as `now=`: call it for the time, `days(n)` to move it on."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.t = start

    def __call__(self) -> float:
        return self.t

    def days(self, n: float) -> None:
        self.t += n * DAY


# -- a server like the ones learners bring ------------------------------------------------

def chat_only_server(request: httpx2.Request) -> httpx2.Response:
    """A server like the ones learners bring: chat answers, but no tool calls ever come back
    and embeddings are not implemented (the two failures that stopped Run All before)."""
    path = request.url.path
    if path.endswith("/models"):
        return httpx2.Response(200, json={"object": "list", "data": [{"id": "m", "object": "model"}]})
    if path.endswith("/chat/completions"):
        body = json.loads(request.content)
        if body.get("stream"):
            return httpx2.Response(200, text='data: {"choices":[{"index":0,"delta":{"content":"OK"}}]}\n\n'
                                              "data: [DONE]\n\n", headers={"content-type": "text/event-stream"})
        message = {"role": "assistant", "content": "OK"}
        return httpx2.Response(200, json={"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
    if path.endswith("/embeddings"):
        return httpx2.Response(501, json={"error": {"message": "embeddings are not implemented"}})
    return httpx2.Response(404, json={"error": {"message": f"no route {path}"}})
