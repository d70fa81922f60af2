"""POST /v1/completions, the legacy endpoint: raw text in, text out, no template.
Useful in lessons to show what a chat template does, since here there is none."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .chat import check_model, new_id, sampling_from, usage
from .engine import Engine
from .errors import bad, context_exceeded
from .generation import Outcome, Spec, run_choice
from .params import Body, stop_list

COMPLETION_PARAMS = {"model", "prompt", "suffix", "max_tokens", "temperature", "top_p", "n", "stream",
                     "stream_options", "logprobs", "echo", "stop", "presence_penalty", "frequency_penalty",
                     "best_of", "logit_bias", "user", "seed"}


@dataclass
class CompletionRequest:
    model: str
    prompts: list[list[int]]
    texts: list[str]
    spec: Spec
    n: int
    echo: bool
    stream: bool
    include_usage: bool


def _prompts(engine: Engine, raw: Any) -> tuple[list[list[int]], list[str]]:
    """A string, a list of strings, a list of token ids, or a list of those lists."""
    def is_tokens(x):
        return isinstance(x, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in x)

    if isinstance(raw, str):
        items: list = [raw]
    elif is_tokens(raw) and raw:
        items = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, str) or is_tokens(x) for x in raw):
        items = raw
    else:
        raise bad("Invalid type for 'prompt': expected a string, an array of strings, an array of token ids, or "
                  "an array of token-id arrays.", "prompt", "invalid_type")
    prompts, texts = [], []
    for item in items:
        if isinstance(item, str):
            # Special-token text in a prompt is plain text, as at OpenAI.
            prompts.append(engine.tokenize(item))
            texts.append(item)
        else:
            if any(not 0 <= t < engine.n_vocab for t in item):
                raise bad("Invalid 'prompt': a token id is outside the vocabulary.", "prompt", "invalid_value")
            prompts.append(list(item))
            texts.append(b"".join(engine.piece(t) for t in item).decode("utf-8", "replace"))
    for p in prompts:
        if not p:
            raise bad("Invalid 'prompt': the prompt is empty.", "prompt", "invalid_value")
    return prompts, texts


def parse_completion(engine: Engine, data: Any) -> CompletionRequest:
    body = Body(data, COMPLETION_PARAMS)
    model = check_model(body.data.get("model"))
    if body.has("suffix"):
        raise bad("Unsupported parameter: 'suffix'. This model does not do fill-in-the-middle.", "suffix",
                  "unsupported_parameter")
    prompts, texts = _prompts(engine, body.required("prompt"))
    n = body.integer("n", 1, 1, 128)
    best_of = body.integer("best_of", None, 1, 20)
    if best_of is not None and best_of != n:
        raise bad("Unsupported value: 'best_of' other than n is not offered by this server.", "best_of",
                  "unsupported_value")
    stream = bool(body.boolean("stream", False))
    options = body.obj("stream_options")
    if options is not None and not stream:
        raise bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options",
                  None)
    logprobs = body.integer("logprobs", None, 0, 5)
    echo = bool(body.boolean("echo", False))
    if echo and logprobs is not None:
        raise bad("Unsupported combination: 'echo' with 'logprobs' would need logprobs for the prompt tokens, "
                  "which this server does not compute.", "echo", "unsupported_value")
    max_tokens = body.integer("max_tokens", 16, 0)  # the legacy endpoint's default is 16
    for p in prompts:
        if len(p) + max_tokens > engine.n_ctx or len(p) >= engine.n_ctx:
            raise context_exceeded(engine.n_ctx, len(p), max_tokens, "prompt")
    spec = Spec(max_tokens=max_tokens, sampling=sampling_from(body, engine), seed=body.integer("seed", None),
                stop=stop_list(body.data.get("stop")), logprobs=logprobs)
    return CompletionRequest(model, prompts, texts, spec, n, echo, stream,
                             bool((options or {}).get("include_usage")))


def _legacy_logprobs(entries: list[dict], offset: int) -> dict:
    tokens, lps, tops, offsets = [], [], [], []
    for e in entries:
        tokens.append(e["token"])
        lps.append(e["logprob"])
        tops.append({t["token"]: t["logprob"] for t in e["top_logprobs"]})
        offsets.append(offset)
        offset += len(bytes(e["bytes"]).decode("utf-8", "replace"))
    return {"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offsets}


def _run(engine: Engine, req: CompletionRequest, cancel: threading.Event | None):
    """(choice index, prompt index, event) for every prompt x n, holding the lock throughout."""
    with engine.lock:
        for p, prompt in enumerate(req.prompts):
            for j in range(req.n):
                if req.spec.max_tokens == 0:
                    yield p * req.n + j, p, ("finish", Outcome(finish_reason="length"))
                    continue
                for ev in run_choice(engine, prompt, req.spec, j, cancel):
                    yield p * req.n + j, p, ev
                if cancel is not None and cancel.is_set():
                    return


def complete(engine: Engine, req: CompletionRequest) -> dict:
    choices, completion, cached = [], 0, 0
    for index, p, ev in _run(engine, req, None):
        if ev[0] != "finish":
            continue
        out: Outcome = ev[1]
        completion += out.completion_tokens
        cached = cached or out.cached_tokens
        prefix = req.texts[p] if req.echo else ""
        choices.append({"text": prefix + out.text, "index": index,
                        "logprobs": None if req.spec.logprobs is None else _legacy_logprobs(out.logprobs, len(prefix)),
                        "finish_reason": out.finish_reason})
    return {"id": new_id("cmpl-"), "object": "text_completion", "created": int(time.time()), "model": req.model,
            "choices": choices, "system_fingerprint": engine.fingerprint,
            "usage": usage(sum(len(p) for p in req.prompts), completion, cached)}


def stream(engine: Engine, req: CompletionRequest, cancel: threading.Event) -> Iterator[dict]:
    base = {"id": new_id("cmpl-"), "object": "text_completion", "created": int(time.time()), "model": req.model,
            "system_fingerprint": engine.fingerprint}
    completion, offsets = 0, {}
    for index, p, ev in _run(engine, req, cancel):
        if index not in offsets:
            offsets[index] = 0
            if req.echo:
                yield {**base, "choices": [{"text": req.texts[p], "index": index, "logprobs": None,
                                            "finish_reason": None}]}
        if ev[0] == "text":
            lp = None if req.spec.logprobs is None else _legacy_logprobs(ev[2], offsets[index])
            offsets[index] += len(ev[1])
            yield {**base, "choices": [{"text": ev[1], "index": index, "logprobs": lp, "finish_reason": None}]}
        elif ev[0] == "finish":
            completion += ev[1].completion_tokens
            yield {**base, "choices": [{"text": "", "index": index, "logprobs": None,
                                        "finish_reason": ev[1].finish_reason}]}
    if req.include_usage:
        yield {**base, "choices": [], "usage": usage(sum(len(p) for p in req.prompts), completion, 0)}
