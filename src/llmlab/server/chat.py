"""POST /v1/chat/completions: messages to a ChatML prompt, and the response or
stream of chunks in OpenAI's shape.

The prompt is SmolLM2's own ChatML template, written out here rather than rendered
by a Jinja sandbox: message text is tokenized exactly as sent (no HTML escaping,
and "<|im_end|>" typed by a user stays plain text), and tool results are shown
to the model where its template has no place for them."""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import tools as T
from .engine import Engine, GrammarError, Sampling
from .errors import APIError, bad, context_exceeded, unknown_model
from .generation import Outcome, Spec, run_choice
from .params import Body, stop_list
from .settings import CHAT_ALIAS, EMBED_ALIAS

# The model's template puts this system message first when a conversation has none.
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
ROLES = ("system", "assistant", "user", "function", "tool", "developer")

CHAT_PARAMS = {
    "model", "messages", "temperature", "top_p", "n", "stream", "stream_options", "stop", "max_tokens",
    "max_completion_tokens", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs",
    "seed", "tools", "tool_choice", "parallel_tool_calls", "response_format", "user", "store", "metadata",
    "service_tier", "safety_identifier", "prompt_cache_key", "audio", "modalities", "prediction",
    "reasoning_effort", "verbosity", "web_search_options", "functions", "function_call", "moderation",
    "prompt_cache_options", "prompt_cache_retention",
}
# Known to OpenAI, but about features this model or server does not have: a clear 400.
UNSUPPORTED = {
    "audio": "audio output", "modalities": "output modalities other than text", "prediction": "predicted outputs",
    "web_search_options": "web search",
    "functions": "the deprecated 'functions' parameter (use 'tools')",
    "function_call": "the deprecated 'function_call' parameter (use 'tool_choice')",
    "moderation": "moderated completions",
}


def new_id(prefix: str, n: int = 29) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


# -- prompt ----------------------------------------------------------------------------------
def tools_instructions(tools: list[T.Tool]) -> str:
    listing = json.dumps([t.spec() for t in tools], ensure_ascii=False)
    return ("You can call functions to answer. They are described in JSON inside <tools></tools>:\n"
            f"<tools>{listing}</tools>\n\n"
            "To call functions, reply with only a JSON list of calls inside <tool_call></tool_call>, one list "
            "item per call, for example:\n"
            '<tool_call>[{"name": "function_name", "arguments": {"parameter": "value"}}]</tool_call>\n'
            "If no function fits, answer in plain text.")


def calls_text(calls: list[dict]) -> str:
    items = []
    for call in calls:
        try:
            args = json.loads(call["arguments"])
        except (TypeError, ValueError):
            args = call["arguments"]  # shown as the model (or client) wrote it
        items.append({"name": call["name"], "arguments": args})
    return T.CALL_OPEN[:-1] + json.dumps(items, ensure_ascii=False) + T.CALL_CLOSE[1:]


def render(engine: Engine, turns: list[tuple[str, str]]) -> list[int]:
    """ChatML from (role, text) turns, tokenized piece by piece: the markers as special
    tokens, the text as plain text, then the opening of the assistant's turn."""
    start, end = engine.tokenize("<|im_start|>", special=True), engine.tokenize("<|im_end|>", special=True)
    newline = engine.tokenize("\n")
    tokens: list[int] = []
    for role, text in turns:
        tokens += start + engine.tokenize(role + "\n") + engine.tokenize(text) + end + newline
    return tokens + start + engine.tokenize("assistant\n")


def content_text(content: Any, where: str, allowed: tuple[str, ...] = ("text",)) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise bad(f"Invalid type for '{where}': expected one of a string or array of objects.", where,
                  "invalid_type")
    parts = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in allowed:
            if not isinstance(part.get("text"), str):
                raise bad(f"Missing required parameter: '{where}[{j}].text'.", f"{where}[{j}].text",
                          "missing_required_parameter")
            parts.append(part["text"])
        elif kind in ("image_url", "input_image", "input_audio", "file", "input_file"):
            raise bad(f"Invalid content type. {kind} is only supported by certain models; this server's model "
                      "reads text only.", f"{where}[{j}].type", "invalid_value")
        else:
            raise bad(f"Invalid value: '{kind}'. Supported values are: {', '.join(repr(a) for a in allowed)}.",
                      f"{where}[{j}].type", "invalid_value")
    return "\n".join(parts)


def _unanswered(open_calls: dict[str, str], responses: bool) -> APIError:
    if responses:  # the Responses API words it per call
        return bad(f"No tool output found for function call {next(iter(open_calls))}.", "input", None)
    return bad("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
               "'tool_call_id'. The following tool_call_ids did not have response messages: "
               f"{', '.join(open_calls)}", "messages", None)


def turns_from_messages(messages: Any, tools: list[T.Tool], show_tools: bool,
                        responses: bool = False) -> list[tuple[str, str]]:
    if messages is None:
        raise bad("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not isinstance(messages, list):
        raise bad("Invalid type for 'messages': expected an array of objects.", "messages", "invalid_type")
    if not messages:
        raise bad("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty "
                  "array instead.", "messages", "empty_array")
    turns: list[tuple[str, str]] = []
    open_calls: dict[str, str] = {}  # tool_call_id -> function name, awaiting a tool message
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise bad(f"Invalid type for '{where}': expected an object.", where, "invalid_type")
        role = msg.get("role")
        if role not in ROLES:
            raise bad(f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', "
                      "'tool', and 'developer'.", f"{where}.role", "invalid_value")
        if open_calls and role != "tool":
            raise _unanswered(open_calls, responses)
        if role in ("system", "developer"):
            # The model knows one instruction role; developer is OpenAI's newer name for it.
            turns.append(("system", content_text(msg.get("content"), f"{where}.content")))
        elif role == "user":
            if msg.get("content") is None:
                raise bad(f"Missing required parameter: '{where}.content'.", f"{where}.content",
                          "missing_required_parameter")
            turns.append(("user", content_text(msg["content"], f"{where}.content")))
        elif role == "assistant":
            text = content_text(msg.get("content"), f"{where}.content", ("text", "refusal"))
            calls = msg.get("tool_calls") or []
            if not isinstance(calls, list):
                raise bad(f"Invalid type for '{where}.tool_calls': expected an array.", f"{where}.tool_calls",
                          "invalid_type")
            plain = []
            for j, call in enumerate(calls):
                fn = call.get("function") if isinstance(call, dict) else None
                if not isinstance(fn, dict) or not isinstance(call.get("id"), str) or "name" not in fn:
                    raise bad(f"Invalid '{where}.tool_calls[{j}]': expected an object with id and function "
                              "(name, arguments).", f"{where}.tool_calls[{j}]", "invalid_value")
                open_calls[call["id"]] = fn["name"]
                plain.append({"name": fn["name"], "arguments": fn.get("arguments", "{}")})
            if plain:
                text = (text + "\n" if text else "") + calls_text(plain)
            turns.append(("assistant", text))
        else:  # tool, or the deprecated function role
            call_id = msg.get("tool_call_id") if role == "tool" else None
            if role == "tool":
                if not isinstance(call_id, str):
                    raise bad(f"Missing required parameter: '{where}.tool_call_id'.", f"{where}.tool_call_id",
                              "missing_required_parameter")
                if call_id not in open_calls:
                    raise bad("Invalid parameter: messages with role 'tool' must be a response to a preceding "
                              "message with 'tool_calls'.", f"{where}.role", None)
                name = open_calls.pop(call_id)
            else:
                name = msg.get("name") or "function"
            result = content_text(msg.get("content"), f"{where}.content")
            turns.append(("tool", tool_result_text(name, result)))
    if open_calls:
        raise _unanswered(open_calls, responses)
    if not turns or turns[0][0] != "system":
        turns.insert(0, ("system", DEFAULT_SYSTEM))
    if show_tools and tools:
        role, text = turns[0]
        turns[0] = (role, (text + "\n\n" if text else "") + tools_instructions(tools))
    return turns


def tool_result_text(name: str, result: str) -> str:
    # SmolLM2's template has no place for tool results. A turn named "tool" holding the
    # function's name and the result in tags is enough for the model to use the result
    # in its answer (tests/test_server.py checks that it does).
    payload = json.dumps({"name": name, "content": result}, ensure_ascii=False)
    return f"<tool_response>\n{payload}\n</tool_response>"


# -- request -----------------------------------------------------------------------------------
@dataclass
class ChatRequest:
    model: str
    prompt: list[int]
    spec: Spec
    n: int
    stream: bool
    include_usage: bool


def check_model(model: Any, kind: str = "chat") -> str:
    if model is None:
        raise bad("you must provide a model parameter", "model", None)
    if not isinstance(model, str):
        raise bad("Invalid type for 'model': expected a string.", "model", "invalid_type")
    if kind == "chat" and model == EMBED_ALIAS:
        raise APIError(404, "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
                            "Did you mean to use v1/embeddings?", "model", "model_not_found")
    expected = CHAT_ALIAS if kind == "chat" else EMBED_ALIAS
    if model != expected:
        raise unknown_model(model, expected)
    return model


def sampling_from(body: Body, engine: Engine) -> Sampling:
    bias: dict[int, float] = {}
    raw = body.obj("logit_bias") or {}
    for key, value in raw.items():
        try:
            token = int(key)
        except ValueError:
            raise bad(f"Invalid key in 'logit_bias': {key}. Should be a token id.", "logit_bias",
                      "invalid_value") from None
        if not 0 <= token < engine.n_vocab or not isinstance(value, (int, float)) or not -100 <= value <= 100:
            raise bad(f"Invalid value for 'logit_bias': token {key} must be a known token id and its bias "
                      "between -100 and 100.", "logit_bias", "invalid_value")
        bias[token] = float(value)
    return Sampling(
        temperature=body.number("temperature", 1.0, 0, 2),
        top_p=body.number("top_p", 1.0, 0, 1),
        presence_penalty=body.number("presence_penalty", 0.0, -2, 2),
        frequency_penalty=body.number("frequency_penalty", 0.0, -2, 2),
        logit_bias=bias,
    )


def response_format_grammar(fmt: Any, param: str = "response_format") -> tuple[str, str | None]:
    """(kind, grammar) for {"type": "text"|"json_object"|"json_schema", ...}."""
    if fmt is None:
        return "text", None
    if not isinstance(fmt, dict):
        raise bad(f"Invalid type for '{param}': expected an object.", param, "invalid_type")
    kind = fmt.get("type")
    if kind == "text":
        return "text", None
    if kind == "json_object":
        return kind, T.json_object_grammar()
    if kind == "json_schema":
        spec = fmt.get("json_schema") if param == "response_format" else fmt
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise bad(f"Missing required parameter: '{param}.json_schema.name'.", f"{param}.json_schema.name",
                      "missing_required_parameter")
        schema = spec.get("schema") or {}
        if not isinstance(schema, dict):
            raise bad(f"Invalid type for '{param}.json_schema.schema': expected an object.",
                      f"{param}.json_schema.schema", "invalid_type")
        what = f"response_format '{spec['name']}'"
        if spec.get("strict"):
            T.check_strict_schema(schema, what, root_object=True)
        return kind, T.schema_grammar(schema, what)
    raise bad(f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
              f"{param}.type", "invalid_value")


def check_grammar(engine: Engine, gbnf: str, param: str) -> None:
    try:
        engine.check_grammar(gbnf)
    except GrammarError:
        raise bad(f"Invalid schema in '{param}': it could not be turned into a decoding grammar.", param,
                  "invalid_json_schema") from None


def mentions_json(turns: list[tuple[str, str]]) -> bool:
    return any("json" in text.lower() for role, text in turns if role != "assistant")


def check_no_reasoning(effort: Any, param: str) -> None:
    """This model never reasons, so effort "none" describes it truthfully and is accepted: requests written
    for GPT-6 models (which take temperature and tools only with reasoning off) then run here unchanged."""
    if effort is not None and effort != "none":
        raise bad(f"Unsupported value: '{param}' does not support '{effort}' with this model. Supported "
                  "values are: 'none' (this is not a reasoning model).", param, "unsupported_value")


def parse_chat(engine: Engine, data: Any) -> ChatRequest:
    body = Body(data, CHAT_PARAMS)
    for param, what in UNSUPPORTED.items():
        if body.has(param):
            raise bad(f"Unsupported parameter: '{param}'. This server does not offer {what}.", param,
                      "unsupported_parameter")
    check_no_reasoning(body.data.get("reasoning_effort"), "reasoning_effort")
    model = check_model(body.data.get("model"))
    tools = T.parse_tools(body.data.get("tools"))
    mode, name = T.parse_tool_choice(body.data.get("tool_choice"), tools)
    parallel = body.boolean("parallel_tool_calls", True)
    if body.has("parallel_tool_calls") and not tools:
        raise bad("Invalid value for 'parallel_tool_calls': only allowed when 'tools' are specified.",
                  "parallel_tool_calls", "invalid_value")
    kind, text_grammar = response_format_grammar(body.data.get("response_format"))
    turns = turns_from_messages(body.data.get("messages"), tools, show_tools=True)
    if kind == "json_object" and not mentions_json(turns):
        raise bad("'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                  "'json_object'.", "messages", None)
    return build_request(engine, body, model, turns, tools, mode, name, parallel, text_grammar)


def build_request(engine: Engine, body: Body, model: str, turns, tools, mode, name, parallel,
                  text_grammar) -> ChatRequest:
    n = body.integer("n", 1, 1, 128)
    stream = bool(body.boolean("stream", False))
    options = body.obj("stream_options")
    if options is not None and not stream:
        raise bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options",
                  None)
    logprobs = body.boolean("logprobs", False)
    top = body.integer("top_logprobs", None, 0, 20)
    if top is not None and not logprobs:
        raise bad("Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is "
                  "used.", "top_logprobs", None)
    max_tokens = body.integer("max_completion_tokens", None, 1)
    legacy = body.integer("max_tokens", None, 1)
    if max_tokens is not None and legacy is not None:
        raise bad("Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.",
                  "max_tokens", None)
    max_tokens = max_tokens if max_tokens is not None else legacy
    seed = body.integer("seed", None)
    sampling = sampling_from(body, engine)
    call_grammar = None
    if mode != "none":
        call_grammar = T.call_grammar(tools, only=name if mode == "named" else None, parallel=parallel)
        check_grammar(engine, call_grammar, "tools")
    if text_grammar:
        check_grammar(engine, text_grammar, "response_format")
    prompt = render(engine, turns)
    if len(prompt) + (max_tokens or 0) > engine.n_ctx or len(prompt) >= engine.n_ctx:
        raise context_exceeded(engine.n_ctx, len(prompt), max_tokens)
    spec = Spec(max_tokens=max_tokens, sampling=sampling, seed=seed, stop=stop_list(body.data.get("stop")),
                logprobs=(top or 0) if logprobs else None, text_grammar=text_grammar, tool_mode=mode,
                call_grammar=call_grammar)
    return ChatRequest(model, prompt, spec, n, stream, bool((options or {}).get("include_usage")))


# -- response ----------------------------------------------------------------------------------
def usage(prompt_tokens: int, completion_tokens: int, cached: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }


def _message(out: Outcome) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": None if out.calls else out.text, "refusal": None,
                               "annotations": []}
    if out.calls:
        message["tool_calls"] = [{"id": c["id"], "type": "function",
                                  "function": {"name": c["name"], "arguments": c["arguments"]}} for c in out.calls]
    return message


def answers(engine: Engine, req: ChatRequest) -> list[Outcome]:
    """The request's n choices, generated in turn under the engine's lock."""
    outcomes = []
    with engine.lock:
        for i in range(req.n):
            out = Outcome()
            for _ in run_choice(engine, req.prompt, req.spec, i, outcome=out):
                pass
            outcomes.append(out)
    return outcomes


def complete(engine: Engine, req: ChatRequest) -> dict:
    outcomes = answers(engine, req)
    choices = [{
        "index": i, "message": _message(out),
        "logprobs": None if req.spec.logprobs is None else {"content": None if out.calls else out.logprobs,
                                                            "refusal": None},
        "finish_reason": out.finish_reason,
    } for i, out in enumerate(outcomes)]
    return {
        "id": new_id("chatcmpl-"), "object": "chat.completion", "created": int(time.time()), "model": req.model,
        "choices": choices, "usage": usage(len(req.prompt), sum(o.completion_tokens for o in outcomes),
                                           outcomes[0].cached_tokens),
        "service_tier": "default", "system_fingerprint": engine.fingerprint,
    }


def stream(engine: Engine, req: ChatRequest, cancel: threading.Event) -> Iterator[dict]:
    """Chunks in OpenAI's order: per choice a role chunk, deltas, a finish chunk; then
    the usage chunk with no choices when stream_options.include_usage asked for it."""
    base = {"id": new_id("chatcmpl-"), "object": "chat.completion.chunk", "created": int(time.time()),
            "model": req.model, "service_tier": "default", "system_fingerprint": engine.fingerprint}
    if req.include_usage:
        base["usage"] = None

    def chunk(index: int, delta: dict, finish: str | None = None, logprobs: Any = None) -> dict:
        return {**base, "choices": [{"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}]}

    completion, cached = 0, 0
    with engine.lock:
        for i in range(req.n):
            yield chunk(i, {"role": "assistant", "content": "", "refusal": None})
            for ev in run_choice(engine, req.prompt, req.spec, i, cancel):
                if ev[0] == "text":
                    lp = {"content": ev[2], "refusal": None} if req.spec.logprobs is not None else None
                    yield chunk(i, {"content": ev[1]}, logprobs=lp)
                elif ev[0] == "call":
                    yield chunk(i, {"tool_calls": [{"index": ev[1], "id": ev[2], "type": "function",
                                                    "function": {"name": ev[3], "arguments": ""}}]})
                elif ev[0] == "args":
                    yield chunk(i, {"tool_calls": [{"index": ev[1], "function": {"arguments": ev[2]}}]})
                else:
                    out: Outcome = ev[1]
                    completion += out.completion_tokens
                    if i == 0:
                        cached = out.cached_tokens
                    yield chunk(i, {}, out.finish_reason)
            if cancel.is_set():
                return
    if req.include_usage:
        yield {**base, "choices": [], "usage": usage(len(req.prompt), completion, cached)}
