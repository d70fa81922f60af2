"""`llmlab probe`: find out what a server can do with small real requests, instead of
trusting a table. One check per capability, each a request of a few tokens, each
bounded in time; the result is cached per server and model in the kit's home, so
`llmlab.start()` asks once and `lab.can(...)` answers for the server in front of the learner."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from . import backends as bk
from .config import home

CACHE_NAME = "probes.json"
PARALLEL_TRIES = 6
# A 1x1 PNG: enough for a server to show whether it takes image input at all.
PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
         "z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
        "additionalProperties": False}
WEATHER: dict[str, Any] = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city", "parameters": CITY}}
TIME: dict[str, Any] = {"type": "function", "function": {
    "name": "get_time", "description": "Get the local time in a city", "parameters": CITY}}
# Endpoints whose real use costs money or minutes: an empty request tells us whether they exist
# (a 400/422 names the missing field; a 404/405/501 means no such endpoint), without generating anything.
EXISTENCE_ONLY = {"images": "/images/generations", "speech": "/audio/speech",
                  "transcription": "/audio/transcriptions", "batch": "/batches"}


@dataclass
class ProbeResult:
    base_url: str
    model: str
    probed: str  # ISO timestamp
    found: dict[str, bool] = field(default_factory=dict)
    detail: dict[str, str] = field(default_factory=dict)  # capability -> what was seen, in words
    seconds: float = 0.0

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(c for c, ok in self.found.items() if ok)

    def notes(self) -> dict[str, str]:
        """Why each missing capability is missing, for `lab.can`'s one line."""
        return {c: f"llmlab probe found no {bk.CAPABILITIES[c]} here ({self.detail.get(c, 'not seen')})"
                for c, ok in self.found.items() if not ok}


class _Failed(Exception):
    """A check saw something other than the capability working; the message says what."""


class Prober:
    def __init__(self, backend: bk.Backend, timeout: float = 20.0, transport: httpx2.BaseTransport | None = None):
        self.backend, self.timeout = backend, timeout
        self.http = httpx2.Client(base_url=backend.base_url, timeout=timeout, transport=transport,
                                  headers={"Authorization": f"Bearer {backend.api_key()}"})

    # -- one request ----------------------------------------------------------------------------
    def post(self, path: str, body: dict) -> dict:
        try:
            try:
                r = self.http.post(path, json=body)
            except httpx2.RemoteProtocolError:
                # A server may close a kept-alive connection as the next request goes out
                # (llama-server does, now and then): that says nothing about the capability.
                r = self.http.post(path, json=body)
        except httpx2.TimeoutException:
            raise _Failed(f"no answer within {self.timeout:.0f} s") from None
        except httpx2.TransportError as exc:
            raise _Failed(f"cannot connect ({type(exc).__name__})") from None
        if r.status_code != 200:
            raise _Failed(f"HTTP {r.status_code}: {_message(r)}")
        try:
            return r.json()
        except ValueError:
            raise _Failed("the answer was not JSON") from None

    def chat(self, **extra: Any) -> dict:
        body = {"model": self.backend.models.chat, "max_completion_tokens": 16,
                "messages": [{"role": "user", "content": "Say OK."}], **extra}
        return self.post("/chat/completions", body)

    def stream(self, **extra: Any) -> list[dict]:
        body = {"model": self.backend.models.chat, "max_completion_tokens": 8, "stream": True,
                "messages": [{"role": "user", "content": "Say OK."}], **extra}
        try:
            try:
                chunks = self._stream_chunks(body)
            except httpx2.RemoteProtocolError:  # a dropped kept-alive connection, as in post()
                chunks = self._stream_chunks(body)
        except httpx2.TimeoutException:
            raise _Failed(f"no answer within {self.timeout:.0f} s") from None
        except httpx2.TransportError as exc:
            raise _Failed(f"the stream broke off ({type(exc).__name__})") from None
        except ValueError:
            raise _Failed("a stream event was not JSON") from None
        if not chunks:
            raise _Failed("the stream carried no chunks")
        return chunks

    def _stream_chunks(self, body: dict) -> list[dict]:
        chunks = []
        with self.http.stream("POST", "/chat/completions", json=body) as r:
            if r.status_code != 200:
                r.read()
                raise _Failed(f"HTTP {r.status_code}: {_message(r)}")
            for line in r.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    chunks.append(json.loads(line[6:]))
        return chunks

    # -- the checks: each returns what it saw when the capability works, or raises _Failed ------
    def check_models(self) -> str:
        try:
            r = self.http.get("/models")
        except httpx2.TransportError as exc:
            raise _Failed(f"cannot connect ({type(exc).__name__})") from None
        if r.status_code != 200:
            raise _Failed(f"HTTP {r.status_code}")
        ids = [m.get("id") for m in r.json().get("data", [])]
        return f"{len(ids)} listed"

    def check_chat(self) -> str:
        message = self.chat()["choices"][0]["message"]
        return f"answered {str(message.get('content') or '')[:24]!r}"

    def check_stream(self) -> str:
        return f"{len(self.stream())} chunks"

    def check_stream_usage(self) -> str:
        last = self.stream(stream_options={"include_usage": True})[-1]
        if not last.get("usage"):
            raise _Failed("no usage in the last chunk")
        return f"usage {last['usage'].get('total_tokens')} tokens"

    def _calls(self, tool_choice: Any, prompt: str, tools: list[dict], **extra: Any) -> list[dict]:
        extra = extra or {"temperature": 0}
        message = self.chat(messages=[{"role": "user", "content": prompt}], tools=tools,
                            tool_choice=tool_choice, max_completion_tokens=80, **extra)["choices"][0]["message"]
        return message.get("tool_calls") or []

    def check_tools(self) -> str:
        calls = self._calls({"type": "function", "function": {"name": "get_weather"}},
                            "What is the weather in Paris?", [WEATHER])
        if not calls:
            raise _Failed("a named tool_choice brought no tool_calls")
        return f"called {calls[0]['function']['name']}"

    def check_tool_choice_auto(self) -> str:
        calls = self._calls("required", "What is the weather in Paris?", [WEATHER])
        if not calls:
            raise _Failed('tool_choice "required" brought no tool_calls')
        return 'a call under "required"'

    def check_parallel_tools(self) -> str:
        # Whether a model makes two calls at once is its choice, so sample a few times (seeded, so a
        # repeat probe sees the same); a server that can do it shows it within these tries.
        for seed in range(PARALLEL_TRIES):
            calls = self._calls("required", "What is the weather in Paris and the time in Tokyo? Use both tools.",
                                [WEATHER, TIME], seed=seed)
            if len(calls) >= 2:
                return f"{len(calls)} calls in one response (try {seed + 1})"
        raise _Failed(f"one call per response in {PARALLEL_TRIES} tries (the model may still do it on other prompts)")

    def check_n(self) -> str:
        choices = self.chat(n=2, max_completion_tokens=4)["choices"]
        if len(choices) < 2:
            raise _Failed(f"asked for 2 choices, got {len(choices)}")
        return "2 choices"

    def check_seed(self) -> str:
        texts = {self.chat(seed=7, temperature=1.0, max_completion_tokens=12,
                           messages=[{"role": "user", "content": "Name a colour."}])["choices"][0]["message"]["content"]
                 for _ in range(2)}
        if len(texts) != 1:
            raise _Failed("the same seed gave different text")
        return "same seed, same text"

    def check_json_object(self) -> str:
        # Greedy, with room to finish: a sampled or truncated answer is cut JSON, which says
        # nothing about whether the server constrains its output to JSON.
        choice = self.chat(response_format={"type": "json_object"}, max_completion_tokens=60, temperature=0,
                           messages=[{"role": "user", "content": 'Reply in JSON: {"ok": true}'}])["choices"][0]
        if choice.get("finish_reason") == "length":
            raise _Failed("the JSON was cut by the token limit")
        _parse(choice["message"]["content"])
        return "valid JSON"

    def check_json_schema(self) -> str:
        schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
                  "additionalProperties": False}
        content = self.chat(max_completion_tokens=40, messages=[{"role": "user", "content": "Is water wet?"}],
                            response_format={"type": "json_schema",
                                             "json_schema": {"name": "answer", "schema": schema, "strict": True}})
        value = _parse(content["choices"][0]["message"]["content"])
        if not isinstance(value, dict) or not isinstance(value.get("ok"), bool) or set(value) != {"ok"}:
            raise _Failed(f"JSON that breaks the schema: {str(value)[:40]}")
        return "schema kept"

    def check_logprobs(self) -> str:
        logprobs = self.chat(logprobs=True, top_logprobs=2, max_completion_tokens=4)["choices"][0].get("logprobs")
        if not logprobs or not logprobs.get("content"):
            raise _Failed("no logprobs in the answer")
        return f"{len(logprobs['content'])} tokens with logprobs"

    def check_embeddings(self) -> str:
        data = self.post("/embeddings", {"model": self.backend.models.embed, "input": "hello"}).get("data") or []
        if not data or not data[0].get("embedding"):
            raise _Failed("no embedding in the answer")
        return f"{len(data[0]['embedding'])} dimensions"

    def check_vision(self) -> str:
        model = self.backend.models.vision or self.backend.models.chat
        self.post("/chat/completions", {"model": model, "max_completion_tokens": 8, "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What colour is this?"},
                                         {"type": "image_url", "image_url": {"url": PIXEL}}]}]})
        return "took an image"

    def check_responses(self) -> str:
        body = self.post("/responses", {"model": self.backend.models.chat, "input": "Say OK.",
                                        "max_output_tokens": 16})
        if not isinstance(body.get("output"), list):
            raise _Failed("no output items")
        return f"status {body.get('status')}"

    def check_completions(self) -> str:
        body = self.post("/completions", {"model": self.backend.models.chat, "prompt": "Hello", "max_tokens": 4})
        if not body.get("choices"):
            raise _Failed("no choices")
        return "answered"

    def check_moderation(self) -> str:
        body = self.post("/moderations", {"model": self.backend.models.moderation or "omni-moderation-latest",
                                          "input": "hello"})
        if not body.get("results"):
            raise _Failed("no results")
        return "results"

    def exists(self, path: str) -> str:
        try:
            r = self.http.post(path, json={})
        except httpx2.TransportError as exc:
            raise _Failed(f"cannot connect ({type(exc).__name__})") from None
        if r.status_code in (400, 422):
            return f"endpoint exists (HTTP {r.status_code} to an empty request; nothing generated)"
        raise _Failed(f"HTTP {r.status_code} at {path}")

    def checks(self) -> dict[str, Callable[[], str]]:
        own = {c: getattr(self, f"check_{c}") for c in bk.CAPABILITIES if hasattr(self, f"check_{c}")}
        return {**own, **{c: (lambda p=p: self.exists(p)) for c, p in EXISTENCE_ONLY.items()}}


def _message(r: httpx2.Response) -> str:
    try:
        error = r.json().get("error")
        text = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        text = r.text
    return " ".join(str(text or "").split())[:120]


def _parse(content: str | None) -> Any:
    try:
        return json.loads(content or "")
    except ValueError:
        raise _Failed(f"not JSON: {str(content)[:40]!r}") from None


def probe(backend: bk.Backend, timeout: float = 20.0, on_check: Callable[[str], None] | None = None,
          transport: httpx2.BaseTransport | None = None) -> ProbeResult:
    """Run every check against `backend`; a check that fails marks its capability missing."""
    prober = Prober(backend, timeout, transport)
    result = ProbeResult(base_url=backend.base_url, model=backend.models.chat,
                         probed=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    t0 = time.perf_counter()
    for capability, check in prober.checks().items():
        if on_check:
            on_check(capability)
        try:
            result.detail[capability], result.found[capability] = check(), True
        except _Failed as exc:
            result.detail[capability], result.found[capability] = str(exc), False
        except httpx2.TransportError as exc:  # a dropped connection twice over, on any request
            result.detail[capability], result.found[capability] = f"the connection broke ({type(exc).__name__})", False
        except (KeyError, IndexError, TypeError, AttributeError):
            result.detail[capability], result.found[capability] = "an answer without the expected fields", False
    result.seconds = round(time.perf_counter() - t0, 1)
    return result


# -- the cache ------------------------------------------------------------------------------------
def cache_path() -> Path:
    return home() / CACHE_NAME


def _key(base_url: str, model: str) -> str:
    return f"{base_url.rstrip('/')} {model}"


def _read_cache() -> dict[str, Any]:
    try:
        data = json.loads(cache_path().read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        return {}  # a damaged cache is only lost time: the next probe rewrites it
    return data if isinstance(data, dict) else {}


def cached(backend: bk.Backend) -> ProbeResult | None:
    entry = _read_cache().get(_key(backend.base_url, backend.models.chat))
    try:
        return ProbeResult(**entry) if isinstance(entry, dict) else None
    except TypeError:
        return None


def remember(result: ProbeResult) -> None:
    data = _read_cache()
    data[_key(result.base_url, result.model)] = asdict(result)
    cache_path().write_text(json.dumps(data, indent=1, sort_keys=True))


def capabilities_for(backend: bk.Backend, announce: Callable[[str], None] = print) -> ProbeResult:
    """The cached probe of this server and model, probing once (and saying so) if there is none."""
    found = cached(backend)
    if found is None:
        announce(f"Probing {backend.base_url} (model {backend.models.chat}) once to see what it can do; "
                 f"the result is kept in {cache_path()} (refresh: llmlab probe --refresh).")
        found = probe(backend)
        remember(found)
    return found

