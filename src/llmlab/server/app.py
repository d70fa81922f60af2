"""The HTTP layer: Starlette routes under /v1 and /secured/v1, OpenAI-shaped errors,
and server-sent events fed from the generation thread.

Generation runs in a worker thread holding the engine's lock; a stream's thread
hands each event to the event loop through an asyncio queue, so the loop keeps
serving other requests (they queue on the lock, they do not cut into a stream)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from . import chat, completions, ollama_native, responses
from .engine import Engine
from .errors import APIError, bad
from .settings import CHAT_ALIAS, EMBED_ALIAS, SECURED_KEY, SECURED_PREFIX

_DONE = object()


def error_response(err: APIError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


async def read_json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise bad("We could not parse the JSON body of your request. The API expects a JSON payload.", None,
                  "invalid_json") from None


def sse(produce: Callable[[threading.Event], Iterator[dict]], typed: bool, done_marker: bool) -> StreamingResponse:
    """Run `produce` in a thread and stream what it yields as SSE.
    typed: Responses-style `event: <type>` lines; done_marker: end with `data: [DONE]`."""

    async def body():
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancel = threading.Event()

        def worker():
            try:
                for item in produce(cancel):
                    loop.call_soon_threadsafe(queue.put_nowait, item)
                    if cancel.is_set():
                        break
            except APIError as err:
                loop.call_soon_threadsafe(queue.put_nowait, err.body())
            except Exception as exc:  # noqa: BLE001 - a stream has no status line left to change: report in-band
                loop.call_soon_threadsafe(queue.put_nowait, {"error": {
                    "message": f"The server had an error while generating: {exc}", "type": "server_error",
                    "param": None, "code": None}})
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        threading.Thread(target=worker, name="llmlab-stream", daemon=True).start()
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                data = json.dumps(item, ensure_ascii=False)
                if typed and "type" in item:
                    yield f"event: {item['type']}\ndata: {data}\n\n"
                else:
                    yield f"data: {data}\n\n"
            if done_marker:
                yield "data: [DONE]\n\n"
        finally:
            cancel.set()  # the client left or the stream ended: stop generating, free the lock

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def build_app(engine: Engine | None = None, embedder=None) -> Starlette:
    engine = engine or Engine()
    if embedder is None:
        from .embeddings import Embedder

        embedder = Embedder()
    store = responses.Store()

    def endpoint(parse: Callable[..., Any], complete: Callable[..., Any], stream: Callable[..., Any], *context: Any,
                 typed: bool):
        """One POST route: parse and validate off the event loop, then answer whole or as SSE.
        Chat and legacy completions stream bare chunks ending in [DONE]; Responses streams
        typed events and no [DONE]."""

        async def handle(request: Request):
            data = await read_json(request)
            req = await run_in_threadpool(parse, *context, data)
            if req.stream:
                return sse(lambda cancel: stream(*context, req, cancel), typed=typed, done_marker=not typed)
            return JSONResponse(await run_in_threadpool(complete, *context, req))

        return handle

    chat_completions = endpoint(chat.parse_chat, chat.complete, chat.stream, engine, typed=False)
    legacy_completions = endpoint(completions.parse_completion, completions.complete, completions.stream, engine,
                                  typed=False)
    create_response = endpoint(responses.parse_responses, responses.create, responses.stream, engine, store,
                               typed=True)

    async def get_response(request: Request):
        rid = request.path_params["response_id"]
        found = store.get(rid)
        if found is None:
            raise APIError(404, f"Response with id '{rid}' not found.", None, None)
        return JSONResponse(found[0])

    async def delete_response(request: Request):
        rid = request.path_params["response_id"]
        if not store.delete(rid):
            raise APIError(404, f"Response with id '{rid}' not found.", None, None)
        return JSONResponse({"id": rid, "object": "response", "deleted": True})

    async def embeddings(request: Request):
        data = await read_json(request)
        return JSONResponse(await run_in_threadpool(embedder.create, data))

    def model_card(name: str) -> dict:
        return {"id": name, "object": "model", "created": 0, "owned_by": "llmlab"}

    async def list_models(request: Request):
        return JSONResponse({"object": "list", "data": [model_card(CHAT_ALIAS), model_card(EMBED_ALIAS)]})

    async def get_model(request: Request):
        name = request.path_params["model"]
        if name not in (CHAT_ALIAS, EMBED_ALIAS):
            raise APIError(404, f"The model '{name}' does not exist", "model", "model_not_found")
        return JSONResponse(model_card(name))

    routes = ollama_native.routes(engine)  # /api/...: what the `ollama` client lists, shows and pulls
    for prefix in ("/v1", SECURED_PREFIX + "/v1"):
        routes += [
            Route(f"{prefix}/chat/completions", chat_completions, methods=["POST"]),
            Route(f"{prefix}/completions", legacy_completions, methods=["POST"]),
            Route(f"{prefix}/responses", create_response, methods=["POST"]),
            Route(f"{prefix}/responses/{{response_id}}", get_response, methods=["GET"]),
            Route(f"{prefix}/responses/{{response_id}}", delete_response, methods=["DELETE"]),
            Route(f"{prefix}/embeddings", embeddings, methods=["POST"]),
            Route(f"{prefix}/models", list_models, methods=["GET"]),
            Route(f"{prefix}/models/{{model:path}}", get_model, methods=["GET"]),
        ]

    async def api_error(request: Request, exc: APIError) -> Response:
        return error_response(exc)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code in (404, 405) and request.url.path.startswith("/api/"):  # as Ollama's router (gin)
            text = "404 page not found" if exc.status_code == 404 else "405 method not allowed"
            return PlainTextResponse(text, status_code=exc.status_code)
        if exc.status_code in (404, 405):  # OpenAI's wording for a path or method it does not serve
            return error_response(APIError(exc.status_code, f"Invalid URL ({request.method} {request.url.path})"))
        return error_response(APIError(exc.status_code, str(exc.detail)))

    async def server_error(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):  # Ollama's error shape
            return JSONResponse({"error": f"the server had an error: {exc}"}, status_code=500)
        return error_response(APIError(500, f"The server had an error while processing your request: {exc}",
                                       type="server_error"))

    handlers: dict[Any, Callable] = {APIError: api_error, HTTPException: http_error, Exception: server_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.add_middleware(SecuredKey)
    app.state.engine = engine
    return app


class SecuredKey:
    """Under /secured the server demands SECURED_KEY as a bearer token, for a real 401.
    Plain ASGI (not BaseHTTPMiddleware), so streamed responses pass through untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(SECURED_PREFIX + "/"):
            auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            if auth != f"Bearer {SECURED_KEY}":
                err = APIError(401, "Incorrect API key provided. This endpoint wants the workshop key.", None,
                               "invalid_api_key")
                return await error_response(err)(scope, receive, send)
        return await self.app(scope, receive, send)
