"""The Responses API: POST /v1/responses (plain or streamed as typed events),
GET and DELETE /v1/responses/{id}.

Input items become the same conversation a chat request would make, so the model,
template, grammars and token loop are the chat endpoint's. What is added here:
the Response object and its events, and an in-memory store so previous_response_id
can continue a conversation (lost when the server stops, as `store` says nothing
about durability here)."""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import tools as T
from .chat import (
    check_grammar,
    check_model,
    check_no_reasoning,
    mentions_json,
    new_id,
    render,
    response_format_grammar,
    sampling_from,
    turns_from_messages,
)
from .engine import Engine
from .errors import APIError, bad, context_exceeded
from .generation import Outcome, Spec, run_choice
from .params import Body

RESPONSE_PARAMS = {
    "model", "input", "instructions", "max_output_tokens", "temperature", "top_p", "tools", "tool_choice",
    "parallel_tool_calls", "text", "store", "previous_response_id", "stream", "stream_options", "metadata", "user",
    "safety_identifier", "prompt_cache_key", "service_tier", "truncation", "include", "top_logprobs",
    "max_tool_calls", "reasoning", "background", "conversation", "context_management", "prompt", "moderation",
    "prompt_cache_options", "prompt_cache_retention",
}
UNSUPPORTED = {"conversation": "conversations", "context_management": "context management",
               "prompt": "prompt templates", "moderation": "moderation", "prompt_cache_options": "prompt cache options",
               "prompt_cache_retention": "prompt cache retention"}
LOGPROBS_INCLUDE = "message.output_text.logprobs"
STORE_LIMIT = 1000


class Store:
    """Earlier responses by id: the Response object and the conversation it ended with."""

    def __init__(self, limit: int = STORE_LIMIT):
        self._items: OrderedDict[str, tuple[dict, list[dict]]] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    def put(self, response: dict, conversation: list[dict]) -> None:
        with self._lock:
            self._items[response["id"]] = (copy.deepcopy(response), copy.deepcopy(conversation))
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def get(self, rid: str) -> tuple[dict, list[dict]] | None:
        with self._lock:
            item = self._items.get(rid)
            return copy.deepcopy(item) if item else None

    def delete(self, rid: str) -> bool:
        with self._lock:
            return self._items.pop(rid, None) is not None


# -- input items -> chat messages ----------------------------------------------------------------
def messages_from_input(raw: Any) -> list[dict]:
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    if not isinstance(raw, list):
        raise bad("Invalid type for 'input': expected a string or an array of input items.", "input", "invalid_type")
    messages: list[dict] = []
    for i, item in enumerate(raw):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise bad(f"Invalid type for '{where}': expected an object.", where, "invalid_type")
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise bad(f"Invalid value: '{role}'. Supported values are: 'assistant', 'system', 'developer', and "
                          "'user'.", f"{where}.role", "invalid_value")
            content = item.get("content")
            if isinstance(content, list):
                parts = []
                for part in content:
                    ptype = part.get("type") if isinstance(part, dict) else None
                    if ptype in ("input_text", "output_text"):
                        parts.append({"type": "text", "text": part.get("text")})
                    elif ptype == "refusal":
                        parts.append({"type": "text", "text": part.get("refusal")})
                    else:
                        parts.append({"type": ptype or "unknown"})  # chat's check names the unsupported type
                content = parts
            messages.append({"role": role, "content": content})
        elif kind == "function_call":
            call = {"id": item.get("call_id"), "type": "function",
                    "function": {"name": item.get("name"), "arguments": item.get("arguments", "")}}
            if not isinstance(call["id"], str) or not isinstance(item.get("name"), str):
                raise bad(f"Missing required parameter: '{where}.call_id' and '{where}.name'.", where,
                          "missing_required_parameter")
            last = messages[-1] if messages else None
            if last and last["role"] == "assistant" and last.get("tool_calls") is not None:
                last["tool_calls"].append(call)  # consecutive calls are one parallel turn
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            if isinstance(output, list):
                output = "\n".join(p.get("text", "") for p in output if isinstance(p, dict))
            if not isinstance(item.get("call_id"), str) or not isinstance(output, str):
                raise bad(f"Missing required parameter: '{where}.call_id' or '{where}.output'.", where,
                          "missing_required_parameter")
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": output})
        elif kind == "reasoning":
            continue  # no reasoning in this model; such items carry nothing it could read
        else:
            raise bad(f"Invalid value: '{kind}'. This server accepts input items of type 'message', "
                      "'function_call' and 'function_call_output'.", f"{where}.type", "invalid_value")
    return messages


def messages_from_output(output: list[dict]) -> list[dict]:
    items = []
    for item in output:
        if item["type"] == "message":
            items.append({"type": "message", "role": "assistant",
                          "content": [{"type": "output_text", "text": "".join(c["text"] for c in item["content"])}]})
        else:
            items.append({"type": "function_call", "call_id": item["call_id"], "name": item["name"],
                          "arguments": item["arguments"]})
    return messages_from_input(items)


# -- request ------------------------------------------------------------------------------------
@dataclass
class ResponsesRequest:
    model: str
    prompt: list[int]
    spec: Spec
    stream: bool
    store: bool
    conversation: list[dict]  # messages before this response's output (instructions excluded)
    echo: dict = field(default_factory=dict)  # request fields the Response object repeats


def _tool_echo(raw: Any, tools: list[T.Tool]) -> list[dict]:
    echoed = []
    for item, tool in zip(raw or [], tools, strict=True):
        strict = item.get("strict")
        if strict is None:  # the Responses API's default is strict when the schema allows it
            try:
                T.check_strict_schema(tool.parameters, "", root_object=True)
                strict = True
            except APIError:
                strict = False
        echoed.append({"type": "function", "name": tool.name, "description": tool.description or None,
                       "parameters": tool.parameters, "strict": strict})
    return echoed


def parse_responses(engine: Engine, store: Store, data: Any) -> ResponsesRequest:
    body = Body(data, RESPONSE_PARAMS, responses_style=True)
    for param, what in UNSUPPORTED.items():
        if body.has(param):
            raise bad(f"Unsupported parameter: '{param}'. This server does not offer {what}.", param,
                      "unsupported_parameter")
    if body.boolean("background", False):
        raise bad("Unsupported parameter: 'background'. This server answers in the foreground only.",
                  "background", "unsupported_parameter")
    reasoning = body.obj("reasoning") or {}
    if set(reasoning) - {"effort"}:
        raise bad("Unsupported parameter: 'reasoning.summary' is not supported with this model.", "reasoning.summary",
                  "unsupported_parameter")
    check_no_reasoning(reasoning.get("effort"), "reasoning.effort")
    model = check_model(body.data.get("model"))
    include = body.get("include", [])
    if not isinstance(include, list) or any(x != LOGPROBS_INCLUDE for x in include):
        raise bad(f"Invalid value for 'include': this server can include only '{LOGPROBS_INCLUDE}'.", "include",
                  "invalid_value")
    top_logprobs = body.integer("top_logprobs", 0, 0, 20)
    tools = T.parse_tools(body.data.get("tools"), responses=True)
    mode, name = T.parse_tool_choice(body.data.get("tool_choice"), tools, responses=True)
    parallel = bool(body.boolean("parallel_tool_calls", True))
    max_calls = body.integer("max_tool_calls", None, 1)
    text = body.obj("text") or {}
    fmt = text.get("format") or {"type": "text"}
    kind, text_grammar = response_format_grammar(fmt, "text.format")
    instructions = body.string("instructions")
    previous_id = body.string("previous_response_id")
    history: list[dict] = []
    if previous_id is not None:
        found = store.get(previous_id)
        if found is None:
            raise bad(f"Previous response with id '{previous_id}' not found.", "previous_response_id",
                      "previous_response_not_found")
        history = found[1]
    conversation = history + messages_from_input(body.required("input"))
    messages = ([{"role": "system", "content": instructions}] if instructions else []) + conversation
    truncation = body.string("truncation", "disabled")
    if truncation not in ("auto", "disabled"):
        raise bad(f"Invalid value: '{truncation}'. Supported values are: 'auto' and 'disabled'.", "truncation",
                  "invalid_value")
    max_tokens = body.integer("max_output_tokens", None, 16)
    call_grammar = None
    if mode != "none":
        call_grammar = T.call_grammar(tools, only=name if mode == "named" else None, parallel=parallel,
                                      limit=max_calls or T.MAX_CALLS)
        check_grammar(engine, call_grammar, "tools")
    if text_grammar:
        check_grammar(engine, text_grammar, "text.format")
    turns = turns_from_messages(messages, tools, show_tools=True, responses=True)
    if kind == "json_object" and not mentions_json(turns):
        raise bad("Response input messages must contain the word 'json' in some form to use 'text.format' of type "
                  "'json_object'.", "input", None)
    prompt = render(engine, turns)
    # truncation "auto" drops the oldest turns after the system message until the prompt fits.
    while truncation == "auto" and len(prompt) + (max_tokens or 0) > engine.n_ctx and len(turns) > 2:
        del turns[1]
        prompt = render(engine, turns)
    if len(prompt) + (max_tokens or 0) > engine.n_ctx or len(prompt) >= engine.n_ctx:
        raise context_exceeded(engine.n_ctx, len(prompt), max_tokens, "input")
    sampling = sampling_from(body, engine)
    spec = Spec(max_tokens=max_tokens, sampling=sampling, logprobs=top_logprobs if include else None,
                text_grammar=text_grammar, tool_mode=mode, call_grammar=call_grammar)
    raw_choice = body.data.get("tool_choice")
    echo = {
        "instructions": instructions, "max_output_tokens": max_tokens, "max_tool_calls": max_calls,
        "metadata": body.obj("metadata") or {}, "parallel_tool_calls": parallel,
        "previous_response_id": previous_id, "prompt_cache_key": body.string("prompt_cache_key"),
        "safety_identifier": body.string("safety_identifier"), "temperature": sampling.temperature,
        "top_p": sampling.top_p, "text": {"format": fmt, "verbosity": "medium"},
        "tool_choice": raw_choice if raw_choice is not None else ("auto" if tools else "none"),
        "tools": _tool_echo(body.data.get("tools"), tools), "top_logprobs": top_logprobs,
        "truncation": truncation,
    }
    if body.has("user"):  # deprecated, a string when present: repeated only when sent
        echo["user"] = body.string("user")
    return ResponsesRequest(model, prompt, spec, bool(body.boolean("stream", False)),
                            bool(body.boolean("store", True)), conversation, echo)


# -- response -----------------------------------------------------------------------------------
def _usage(prompt: int, out: Outcome) -> dict:
    return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": out.cached_tokens,
                                                            "cache_write_tokens": 0},
            "output_tokens": out.completion_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + out.completion_tokens}


def _shell(rid: str, created: int, req: ResponsesRequest) -> dict:
    return {"id": rid, "object": "response", "created_at": created, "status": "in_progress", "background": False,
            "completed_at": None, "error": None, "incomplete_details": None, "model": req.model, "output": [],
            "reasoning": {"effort": None, "summary": None}, "service_tier": "default", "store": req.store,
            **req.echo}  # usage comes with the finished response (the reference has no null for it)


def _logprobs(entries: list[dict]) -> list[dict]:
    return [{"token": e["token"], "logprob": e["logprob"], "bytes": e["bytes"],
             "top_logprobs": [{"token": t["token"], "logprob": t["logprob"], "bytes": t["bytes"]}
                              for t in e["top_logprobs"]]} for e in entries]


def _message_item(mid: str, text: str, status: str, entries: list[dict]) -> dict:
    return {"id": mid, "type": "message", "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": _logprobs(entries)}]}


def _call_item(fid: str, call: dict, status: str) -> dict:
    return {"id": fid, "type": "function_call", "status": status, "call_id": call["id"], "name": call["name"],
            "arguments": call["arguments"]}


def _finish(store: Store, req: ResponsesRequest, response: dict, out: Outcome, output: list[dict]) -> dict:
    incomplete = out.finish_reason == "length"
    response.update(status="incomplete" if incomplete else "completed", output=output,
                    completed_at=None if incomplete else int(time.time()),
                    incomplete_details={"reason": "max_output_tokens"} if incomplete else None,
                    usage=_usage(len(req.prompt), out))
    if req.store:
        store.put(response, req.conversation + messages_from_output(output))
    return response


def create(engine: Engine, store: Store, req: ResponsesRequest) -> dict:
    rid, created = new_id("resp_", 40), int(time.time())
    response = _shell(rid, created, req)
    out = Outcome()
    with engine.lock:
        for _ in run_choice(engine, req.prompt, req.spec, 0, outcome=out):
            pass
    status = "incomplete" if out.finish_reason == "length" else "completed"
    if out.calls:
        output = [_call_item(new_id("fc_", 40), c, status) for c in out.calls]
    else:
        output = [_message_item(new_id("msg_", 40), out.text, status, out.logprobs)]
    return _finish(store, req, response, out, output)


def stream(engine: Engine, store: Store, req: ResponsesRequest, cancel: threading.Event) -> Iterator[dict]:
    """Typed events, each with a sequence_number, in the order OpenAI sends them."""
    rid, created = new_id("resp_", 40), int(time.time())
    response = _shell(rid, created, req)
    seq = 0

    def event(kind: str, **fields) -> dict:
        nonlocal seq
        seq += 1
        return {"type": kind, "sequence_number": seq - 1, **fields}

    yield event("response.created", response=copy.deepcopy(response))
    yield event("response.in_progress", response=copy.deepcopy(response))
    output: list[dict] = []
    text_item: dict | None = None
    calls: dict[int, dict] = {}
    out = Outcome()

    def close_text(current: dict) -> Iterator[dict]:
        status = "incomplete" if out.finish_reason == "length" else "completed"
        item = _message_item(current["id"], out.text, status, out.logprobs)
        part = item["content"][0]
        idx = output.index(current)
        yield event("response.output_text.done", item_id=item["id"], output_index=idx, content_index=0,
                    text=out.text, logprobs=part["logprobs"])
        yield event("response.content_part.done", item_id=item["id"], output_index=idx, content_index=0, part=part)
        output[idx] = item
        yield event("response.output_item.done", output_index=idx, item=item)

    def close_call(i: int) -> Iterator[dict]:
        status = "incomplete" if out.finish_reason == "length" else "completed"
        item = _call_item(calls[i]["id"], out.calls[i], status)
        idx = output.index(calls[i])
        yield event("response.function_call_arguments.done", item_id=item["id"], output_index=idx,
                    name=item["name"], arguments=item["arguments"])
        output[idx] = item
        yield event("response.output_item.done", output_index=idx, item=item)

    with engine.lock:
        for ev in run_choice(engine, req.prompt, req.spec, 0, cancel, outcome=out):
            if ev[0] == "text":
                if text_item is None:
                    text_item = {"id": new_id("msg_", 40), "type": "message", "status": "in_progress",
                                 "role": "assistant", "content": []}
                    output.append(text_item)
                    yield event("response.output_item.added", output_index=len(output) - 1,
                                item=copy.deepcopy(text_item))
                    yield event("response.content_part.added", item_id=text_item["id"], output_index=len(output) - 1,
                                content_index=0, part={"type": "output_text", "text": "", "annotations": [],
                                                       "logprobs": []})
                if ev[1] or ev[2]:
                    yield event("response.output_text.delta", item_id=text_item["id"],
                                output_index=output.index(text_item), content_index=0, delta=ev[1],
                                logprobs=_logprobs(ev[2]))
            elif ev[0] == "call":
                if ev[1] > 0:
                    yield from close_call(ev[1] - 1)
                calls[ev[1]] = {"id": new_id("fc_", 40), "type": "function_call", "status": "in_progress",
                                "call_id": ev[2], "name": ev[3], "arguments": ""}
                output.append(calls[ev[1]])
                yield event("response.output_item.added", output_index=len(output) - 1,
                            item=copy.deepcopy(calls[ev[1]]))
            elif ev[0] == "args":
                yield event("response.function_call_arguments.delta", item_id=calls[ev[1]]["id"],
                            output_index=output.index(calls[ev[1]]), delta=ev[2])
        if cancel.is_set():
            return
    if out.calls:
        yield from close_call(len(out.calls) - 1)
    else:
        if text_item is None:  # an empty answer still has its message item
            text_item = {"id": new_id("msg_", 40), "type": "message", "status": "in_progress", "role": "assistant",
                         "content": []}
            output.append(text_item)
            yield event("response.output_item.added", output_index=0, item=copy.deepcopy(text_item))
            yield event("response.content_part.added", item_id=text_item["id"], output_index=0, content_index=0,
                        part={"type": "output_text", "text": "", "annotations": [], "logprobs": []})
        yield from close_text(text_item)
    final = _finish(store, req, response, out, output)
    kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    yield event(kind, response=final)
