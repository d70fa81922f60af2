"""Provider shapes: pure functions that translate an OpenAI chat request or
response into the shape Anthropic, Gemini or Cohere expect, and back.

Nothing here talks to a network. Each provider has four functions:

    to_anthropic_request(openai_request)    -> Anthropic Messages API body
    from_anthropic_request(anthropic_body)  -> OpenAI chat request
    to_anthropic_response(chat_completion)  -> Anthropic Message object
    from_anthropic_response(message)        -> OpenAI chat.completion dict

and the same for `gemini` (generateContent) and `cohere` (v2 chat). Requests
and responses are plain dicts (use `response.model_dump(exclude_none=True)`
for an SDK object). The translations are lossy where the APIs differ; each
function's docstring says what does not survive the trip.

Shapes were checked against each provider's API reference (Anthropic
Messages API with anthropic-version 2023-06-01, Gemini API v1beta, Cohere
API v2). Endpoints and example model names below are reference data for the
notebooks that compare providers; the kit never calls these services.
"""

from __future__ import annotations

import copy
import json
import mimetypes
import textwrap
from itertools import zip_longest
from typing import Any

from .errors import LlmlabError

__all__ = [
    "ENDPOINTS",
    "EXAMPLE_MODELS",
    "UnsupportedParameterError",
    "from_anthropic_request",
    "from_anthropic_response",
    "from_cohere_request",
    "from_cohere_response",
    "from_gemini_request",
    "from_gemini_response",
    "gemini_url",
    "side_by_side",
    "to_anthropic_request",
    "to_anthropic_response",
    "to_cohere_request",
    "to_cohere_response",
    "to_gemini_request",
    "to_gemini_response",
]

# Where each API lives and how it authenticates (reference data, never called).
ENDPOINTS: dict[str, dict[str, str]] = {
    "openai": {
        "url": "https://api.openai.com/v1/chat/completions",
        "auth": "Authorization: Bearer $OPENAI_API_KEY",
    },
    "anthropic": {
        "url": "https://api.anthropic.com/v1/messages",
        "auth": "x-api-key: $ANTHROPIC_API_KEY  +  anthropic-version: 2023-06-01",
    },
    "gemini": {
        "url": "https://generativelanguage.googleapis.com/v1beta/models/{model}:generateContent",
        "auth": "x-goog-api-key: $GEMINI_API_KEY",
        "openai_compatible_base_url": "https://generativelanguage.googleapis.com/v1beta/openai/",
    },
    "cohere": {
        "url": "https://api.cohere.com/v2/chat",
        "auth": "Authorization: Bearer $CO_API_KEY",
        "rerank_url": "https://api.cohere.com/v2/rerank",
        "embed_url": "https://api.cohere.com/v2/embed",
        "openai_compatible_base_url": "https://api.cohere.ai/compatibility/v1",
    },
}

# Model names used when a translated request needs one (illustration only:
# check each provider's model list before you rely on a name).
# Current models only (src/llmlab/catalogue.yaml; tests/test_providers.py checks their status).
EXAMPLE_MODELS: dict[str, str] = {
    "anthropic": "claude-sonnet-5-5",
    "gemini": "gemini-3.8-flash",
    "cohere": "command-a-03-2025",
    "cohere_rerank": "rerank-v3.5",
}


class UnsupportedParameterError(LlmlabError, ValueError):
    """The OpenAI request uses a parameter the target API has no equivalent for."""


# ---------------------------------------------------------------- helpers

def side_by_side(left: Any, right: Any, titles: tuple[str, str] = ("OpenAI", "Anthropic"), width: int = 56) -> str:
    """Two JSON documents in two columns (long lines wrapped), for comparing shapes."""
    def column(obj: Any) -> list[str]:
        lines = []
        for line in json.dumps(obj, indent=2, ensure_ascii=False).splitlines():
            indent = len(line) - len(line.lstrip())
            lines += textwrap.wrap(line, width, subsequent_indent=" " * (indent + 4), drop_whitespace=False) or [""]
        return lines
    rows = [f"{titles[0]:<{width}} | {titles[1]}", f"{'-' * width}-+-{'-' * width}"]
    for a, b in zip_longest(column(left), column(right), fillvalue=""):
        rows.append(f"{a:<{width}} | {b}".rstrip())
    return "\n".join(rows)


def _text_of(content: Any) -> str:
    """The text of an OpenAI `content` (a string, None, or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")


def _args_to_dict(arguments: str | dict | None, name: str) -> dict:
    if isinstance(arguments, dict):
        return arguments
    if not arguments:
        return {}
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError as exc:
        raise ValueError(f"tool call {name!r} has arguments that are not JSON: {arguments!r}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"tool call {name!r} has arguments that are not a JSON object: {arguments!r}")
    return value


def _args_to_str(arguments: dict | None) -> str:
    return json.dumps(arguments or {})


def _stop_list(stop: Any) -> list[str] | None:
    if stop is None:
        return None
    return [stop] if isinstance(stop, str) else list(stop)


def _max_tokens(request: dict) -> int | None:
    return request.get("max_completion_tokens", request.get("max_tokens"))


def _check_unsupported(request: dict, supported: set[str], target: str, strict: bool) -> None:
    unknown = sorted(k for k in request if k not in supported and request[k] is not None)
    if unknown and strict:
        raise UnsupportedParameterError(
            f"{target} has no equivalent for: {', '.join(unknown)} (pass strict=False to drop them)")


def _data_url(url: str) -> tuple[str, str] | None:
    """('image/png', base64) for a data: URL, else None."""
    if not url.startswith("data:") or ";base64," not in url:
        return None
    head, data = url.split(",", 1)
    return head[5:].split(";", 1)[0], data


def _merge_same_role(turns: list[dict], key: str) -> list[dict]:
    """Join consecutive turns of the same role into one (Anthropic and Gemini
    want user/assistant turns to alternate)."""
    merged: list[dict] = []
    for turn in turns:
        if merged and merged[-1]["role"] == turn["role"]:
            merged[-1][key] = merged[-1][key] + turn[key]
        else:
            merged.append({"role": turn["role"], key: list(turn[key])})
    return merged


def _completion(message: dict, finish_reason: str, usage: dict | None, *, id: str, model: str,
                created: int = 0) -> dict:
    """An OpenAI chat.completion dict around one assistant message."""
    out = {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
    }
    if usage is not None:
        out["usage"] = usage
    return out


def _usage(prompt: int, completion: int, cached: int = 0) -> dict:
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": prompt + completion}
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return usage


def _assistant(content: str | None, tool_calls: list[dict]) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


def _tool_call(id: str, name: str, arguments: dict | str | None) -> dict:
    args = arguments if isinstance(arguments, str) else _args_to_str(arguments)
    return {"id": id, "type": "function", "function": {"name": name, "arguments": args}}


def _first_choice(completion: dict) -> tuple[dict, str | None]:
    choice = completion["choices"][0]
    return choice["message"], choice.get("finish_reason")


def _tool_names_by_id(messages: list[dict]) -> dict[str, str]:
    names = {}
    for m in messages:
        for call in m.get("tool_calls") or []:
            names[call["id"]] = call["function"]["name"]
    return names


def _named_tool(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, dict):
        return tool_choice.get("function", {}).get("name")
    return None


# ---------------------------------------------------------------- Anthropic

_ANTHROPIC_OK = {"model", "messages", "tools", "tool_choice", "max_tokens", "max_completion_tokens",
                 "temperature", "top_p", "stop", "stream", "user", "parallel_tool_calls", "metadata",
                 "reasoning_effort"}
# OpenAI's reasoning_effort -> Claude's output_config.effort (low, medium, high, xhigh, max in
# anthropic 2.16's OutputConfigParam). Claude has no "off" on its current models (adaptive
# thinking; disabling it is a 400 on Sonnet 5.5), so none and minimal become its lowest, low.
_ANTHROPIC_EFFORT = {"none": "low", "minimal": "low", "low": "low", "medium": "medium", "high": "high",
                     "xhigh": "xhigh", "max": "max"}

_ANTHROPIC_STOP = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
                   "tool_use": "tool_calls", "refusal": "content_filter", "pause_turn": "stop",
                   "model_context_window_exceeded": "length"}
_OPENAI_TO_ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                             "content_filter": "refusal"}


def _anthropic_user_blocks(content: Any) -> list[dict]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks: list[dict[str, Any]] = []
    for part in content or []:
        if part.get("type") == "text":
            blocks.append({"type": "text", "text": part["text"]})
        elif part.get("type") == "image_url":
            url = part["image_url"]["url"]
            inline = _data_url(url)
            source = ({"type": "base64", "media_type": inline[0], "data": inline[1]} if inline
                      else {"type": "url", "url": url})
            blocks.append({"type": "image", "source": source})
        else:
            raise UnsupportedParameterError(f"content part of type {part.get('type')!r} has no Anthropic mapping here")
    return blocks


def to_anthropic_request(request: dict, *, model: str | None = None, default_max_tokens: int = 1024,
                         cache_system: bool = False, strict: bool = True) -> dict:
    """OpenAI chat request -> Anthropic Messages API body (POST /v1/messages).

    - system/developer messages become the top-level `system` string (joined);
      `cache_system=True` sends it as a text block with cache_control instead.
    - assistant `tool_calls` become `tool_use` blocks (arguments parsed to `input`).
    - each `tool` message becomes a `tool_result` block inside a USER turn;
      consecutive same-role turns are merged, so parallel results share one turn.
    - `parameters` -> `input_schema`; tool_choice auto/required/none/named ->
      {type: auto|any|none|tool}; parallel_tool_calls=False ->
      disable_parallel_tool_use.
    - `max_tokens` is required by Anthropic: default_max_tokens fills it in.
    - temperature is clipped to Anthropic's 0..1 range (Claude Sonnet 5 and later answer a
      non-default temperature or top_p with a 400: leave them out for those models).
    - reasoning_effort -> output_config.effort (none and minimal -> low, Claude's lowest).
    Lost: n, logprobs, seed, penalties, response_format (strict=True raises).
    """
    _check_unsupported(request, _ANTHROPIC_OK, "the Anthropic Messages API", strict)
    system_parts: list[str] = []
    turns: list[dict] = []
    for m in request["messages"]:
        role = m["role"]
        if role in ("system", "developer"):
            system_parts.append(_text_of(m["content"]))
        elif role == "user":
            turns.append({"role": "user", "content": _anthropic_user_blocks(m["content"])})
        elif role == "assistant":
            blocks: list[dict[str, Any]] = []
            text = _text_of(m.get("content"))
            if text:
                blocks.append({"type": "text", "text": text})
            for call in m.get("tool_calls") or []:
                fn = call["function"]
                blocks.append({"type": "tool_use", "id": call["id"], "name": fn["name"],
                               "input": _args_to_dict(fn.get("arguments"), fn["name"])})
            if blocks:  # Claude rejects empty turns; an empty assistant message carries nothing anyway
                turns.append({"role": "assistant", "content": blocks})
        elif role == "tool":
            turns.append({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": m["tool_call_id"], "content": _text_of(m["content"])}]})
        else:
            raise UnsupportedParameterError(f"message role {role!r} has no Anthropic mapping")
    messages = _merge_same_role(turns, "content")
    for turn in messages:  # a lone text block reads better as a plain string
        if len(turn["content"]) == 1 and turn["content"][0]["type"] == "text":
            turn["content"] = turn["content"][0]["text"]

    body: dict[str, Any] = {"model": model or EXAMPLE_MODELS["anthropic"],
                            "max_tokens": _max_tokens(request) or default_max_tokens}
    if system_parts:
        system = "\n\n".join(system_parts)
        body["system"] = ([{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
                          if cache_system else system)
    body["messages"] = messages
    if request.get("tools"):
        body["tools"] = [{"name": t["function"]["name"],
                          **({"description": t["function"]["description"]} if t["function"].get("description") else {}),
                          "input_schema": t["function"].get("parameters") or {"type": "object", "properties": {}}}
                         for t in request["tools"]]
    choice = request.get("tool_choice")
    if choice is not None or request.get("parallel_tool_calls") is False:
        name = _named_tool(choice)
        tc: dict[str, Any] = ({"type": "tool", "name": name} if name else
                              {"type": {"auto": "auto", "required": "any", "none": "none", None: "auto"}[choice]})
        if request.get("parallel_tool_calls") is False and tc["type"] != "none":
            tc["disable_parallel_tool_use"] = True
        body["tool_choice"] = tc
    if request.get("temperature") is not None:
        body["temperature"] = min(request["temperature"], 1.0)
    if request.get("top_p") is not None:
        body["top_p"] = request["top_p"]
    if request.get("stop") is not None:
        body["stop_sequences"] = _stop_list(request["stop"])
    if request.get("reasoning_effort") is not None:
        body["output_config"] = {"effort": _ANTHROPIC_EFFORT[request["reasoning_effort"]]}
    if request.get("user"):
        body["metadata"] = {"user_id": request["user"]}
    if request.get("stream"):
        body["stream"] = True
    return body


def from_anthropic_request(body: dict, *, model: str | None = None) -> dict:
    """Anthropic Messages API body -> OpenAI chat request (the inverse of
    to_anthropic_request). A user turn holding tool_result blocks becomes one
    `tool` message per block, followed by a user message for any other blocks."""
    messages: list[dict] = []
    system = body.get("system")
    if system:
        text = system if isinstance(system, str) else "".join(b.get("text", "") for b in system)
        messages.append({"role": "system", "content": text})
    for turn in body["messages"]:
        content = turn["content"]
        blocks: list[dict[str, Any]] = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if turn["role"] == "assistant":
            text = "".join(b["text"] for b in blocks if b["type"] == "text")
            calls = [_tool_call(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
            messages.append(_assistant(text or None, calls))
            continue
        for b in blocks:
            if b["type"] == "tool_result":
                result = b.get("content", "")
                messages.append({"role": "tool", "tool_call_id": b["tool_use_id"],
                                 "content": result if isinstance(result, str) else
                                 "".join(x.get("text", "") for x in result)})
        rest = [b for b in blocks if b["type"] != "tool_result"]
        if rest:
            if all(b["type"] == "text" for b in rest) and len(rest) == 1:
                messages.append({"role": "user", "content": rest[0]["text"]})
            else:
                parts: list[dict[str, Any]] = []
                for b in rest:
                    if b["type"] == "text":
                        parts.append({"type": "text", "text": b["text"]})
                    elif b["type"] == "image":
                        src = b["source"]
                        url = src["url"] if src["type"] == "url" else f"data:{src['media_type']};base64,{src['data']}"
                        parts.append({"type": "image_url", "image_url": {"url": url}})
                messages.append({"role": "user", "content": parts})
    request: dict[str, Any] = {"model": model or body["model"], "messages": messages,
                               "max_completion_tokens": body["max_tokens"]}
    if body.get("tools"):
        request["tools"] = [{"type": "function", "function": {
            "name": t["name"], **({"description": t["description"]} if t.get("description") else {}),
            "parameters": t["input_schema"]}} for t in body["tools"]]
    tc = body.get("tool_choice")
    if tc:
        request["tool_choice"] = ({"type": "function", "function": {"name": tc["name"]}} if tc["type"] == "tool"
                                  else {"auto": "auto", "any": "required", "none": "none"}[tc["type"]])
        if tc.get("disable_parallel_tool_use"):
            request["parallel_tool_calls"] = False
    for src, dst in (("temperature", "temperature"), ("top_p", "top_p"), ("stop_sequences", "stop")):
        if body.get(src) is not None:
            request[dst] = body[src]
    if (body.get("output_config") or {}).get("effort"):
        request["reasoning_effort"] = body["output_config"]["effort"]  # openai 2.x takes low .. max too
    if body.get("metadata", {}).get("user_id"):
        request["user"] = body["metadata"]["user_id"]
    if body.get("stream"):
        request["stream"] = True
    return request


def to_anthropic_response(completion: dict, *, model: str | None = None) -> dict:
    """OpenAI chat.completion -> the Anthropic Message the same turn would be.
    Ids are kept as they are (Anthropic's look like msg_... and toolu_...).
    Usage: input_tokens excludes cached tokens, which Anthropic reports apart."""
    message, finish = _first_choice(completion)
    content: list[dict] = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        fn = call["function"]
        content.append({"type": "tool_use", "id": call["id"], "name": fn["name"],
                        "input": _args_to_dict(fn.get("arguments"), fn["name"])})
    out: dict[str, Any] = {
        "id": completion["id"], "type": "message", "role": "assistant",
        "model": model or EXAMPLE_MODELS["anthropic"], "content": content,
        # Claude says tool_use whenever it calls a tool, also when the call was forced; OpenAI
        # says "stop" for a call a named tool_choice forced (notebooks 03, 10, 27).
        "stop_reason": ("tool_use" if message.get("tool_calls")
                        else _OPENAI_TO_ANTHROPIC_STOP.get(finish or "", "end_turn")),
        "stop_sequence": None,
    }
    usage = completion.get("usage")
    if usage:
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        out["usage"] = {"input_tokens": usage["prompt_tokens"] - cached, "output_tokens": usage["completion_tokens"],
                        "cache_creation_input_tokens": 0, "cache_read_input_tokens": cached}
    return out


def from_anthropic_response(message: dict) -> dict:
    """Anthropic Message -> OpenAI chat.completion dict.
    text blocks join into `content`; tool_use blocks become `tool_calls`;
    thinking blocks are dropped (OpenAI's message has no place for them);
    prompt_tokens = input + cache_creation + cache_read (OpenAI counts cached
    tokens inside prompt_tokens and reports them in prompt_tokens_details)."""
    blocks = message.get("content") or []
    text = "".join(b["text"] for b in blocks if b["type"] == "text")
    calls = [_tool_call(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
    u = message.get("usage")
    usage = None
    if u:
        read = u.get("cache_read_input_tokens") or 0
        prompt = u["input_tokens"] + (u.get("cache_creation_input_tokens") or 0) + read
        usage = _usage(prompt, u["output_tokens"], read)
    return _completion(_assistant(text or None, calls), _ANTHROPIC_STOP.get(message.get("stop_reason") or "", "stop"),
                       usage, id=message["id"], model=message["model"])


# ---------------------------------------------------------------- Gemini

_GEMINI_OK = {"model", "messages", "tools", "tool_choice", "max_tokens", "max_completion_tokens", "temperature",
              "top_p", "stop", "n", "seed", "presence_penalty", "frequency_penalty", "response_format",
              "stream", "logprobs", "top_logprobs"}
# JSON Schema keywords Gemini's `parameters` Schema object does not accept.
_GEMINI_SCHEMA_DROP = ("additionalProperties", "$schema", "strict")
_GEMINI_FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter",
                  "RECITATION": "content_filter", "BLOCKLIST": "content_filter",
                  "PROHIBITED_CONTENT": "content_filter", "SPII": "content_filter",
                  "MALFORMED_FUNCTION_CALL": "stop", "OTHER": "stop"}
_OPENAI_TO_GEMINI_FINISH = {"stop": "STOP", "tool_calls": "STOP", "length": "MAX_TOKENS",
                            "content_filter": "SAFETY"}
_GEMINI_CONFIG = (("temperature", "temperature"), ("top_p", "topP"), ("n", "candidateCount"), ("seed", "seed"),
                  ("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty"),
                  ("logprobs", "responseLogprobs"), ("top_logprobs", "logprobs"))


def gemini_url(model: str | None = None, *, stream: bool = False) -> str:
    """The generateContent URL for a model (the model is in the path, not the body)."""
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return ENDPOINTS["gemini"]["url"].replace("{model}", model or EXAMPLE_MODELS["gemini"]).replace(
        "generateContent", method)


def _gemini_schema(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _gemini_schema(v) for k, v in schema.items() if k not in _GEMINI_SCHEMA_DROP}
    if isinstance(schema, list):
        return [_gemini_schema(v) for v in schema]
    return schema


def _gemini_user_parts(content: Any) -> list[dict]:
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for part in content or []:
        if part.get("type") == "text":
            parts.append({"text": part["text"]})
        elif part.get("type") == "image_url":
            url = part["image_url"]["url"]
            inline = _data_url(url)
            if inline:
                parts.append({"inlineData": {"mimeType": inline[0], "data": inline[1]}})
            else:
                mime = mimetypes.guess_type(url)[0] or "image/jpeg"
                parts.append({"fileData": {"mimeType": mime, "fileUri": url}})
        else:
            raise UnsupportedParameterError(f"content part of type {part.get('type')!r} has no Gemini mapping here")
    return parts


def _tool_response_object(content: str) -> dict:
    """Gemini's functionResponse.response must be a JSON object."""
    try:
        value = json.loads(content)
    except (json.JSONDecodeError, TypeError):
        value = None
    return value if isinstance(value, dict) else {"result": content}


def _tool_response_text(response: dict) -> str:
    if set(response) == {"result"} and isinstance(response["result"], str):
        return response["result"]
    return json.dumps(response)


def to_gemini_request(request: dict, *, safety_settings: list[dict] | None = None, strict: bool = True) -> dict:
    """OpenAI chat request -> Gemini generateContent body (the model goes in
    the URL: see gemini_url).

    - system/developer messages -> `systemInstruction` {parts: [{text}]}.
    - roles: user -> "user", assistant -> "model"; content -> `parts`.
    - assistant tool_calls -> functionCall parts {id, name, args};
      tool messages -> functionResponse parts {id, name, response} in a user
      turn (the name is looked up from the call; response must be an object,
      so plain text is wrapped as {"result": text}).
    - tools -> [{functionDeclarations: [...]}] with JSON Schema keywords
      Gemini's Schema rejects removed (additionalProperties, $schema).
    - tool_choice auto/required/none/named -> toolConfig.functionCallingConfig
      mode AUTO/ANY/NONE (+ allowedFunctionNames for a named function).
    - sampling knobs -> generationConfig; response_format -> responseMimeType
      (+ responseSchema for json_schema).
    """
    _check_unsupported(request, _GEMINI_OK, "the Gemini generateContent API", strict)
    names = _tool_names_by_id(request["messages"])
    system_parts: list[dict] = []
    turns: list[dict] = []
    for m in request["messages"]:
        role = m["role"]
        if role in ("system", "developer"):
            system_parts.append({"text": _text_of(m["content"])})
        elif role == "user":
            turns.append({"role": "user", "parts": _gemini_user_parts(m["content"])})
        elif role == "assistant":
            parts: list[dict[str, Any]] = []
            text = _text_of(m.get("content"))
            if text:
                parts.append({"text": text})
            for call in m.get("tool_calls") or []:
                fn = call["function"]
                parts.append({"functionCall": {"id": call["id"], "name": fn["name"],
                                               "args": _args_to_dict(fn.get("arguments"), fn["name"])}})
            if parts:
                turns.append({"role": "model", "parts": parts})
        elif role == "tool":
            call_id = m["tool_call_id"]
            if call_id not in names:
                raise ValueError(f"tool message answers {call_id!r}, but no earlier assistant message made that call")
            turns.append({"role": "user", "parts": [{"functionResponse": {
                "id": call_id, "name": names[call_id], "response": _tool_response_object(_text_of(m["content"]))}}]})
        else:
            raise UnsupportedParameterError(f"message role {role!r} has no Gemini mapping")
    body: dict[str, Any] = {}
    if system_parts:
        body["systemInstruction"] = {"parts": system_parts}
    body["contents"] = _merge_same_role(turns, "parts")
    if request.get("tools"):
        body["tools"] = [{"functionDeclarations": [
            {"name": t["function"]["name"],
             **({"description": t["function"]["description"]} if t["function"].get("description") else {}),
             **({"parameters": _gemini_schema(t["function"]["parameters"])} if t["function"].get("parameters") else {})}
            for t in request["tools"]]}]
    choice = request.get("tool_choice")
    if choice is not None:
        name = _named_tool(choice)
        mode = "ANY" if name else {"auto": "AUTO", "required": "ANY", "none": "NONE"}[choice]
        config: dict[str, Any] = {"mode": mode}
        if name:
            config["allowedFunctionNames"] = [name]
        body["toolConfig"] = {"functionCallingConfig": config}
    if safety_settings:
        body["safetySettings"] = safety_settings
    gen: dict[str, Any] = {}
    for src, dst in _GEMINI_CONFIG:
        if request.get(src) is not None:
            gen[dst] = request[src]
    if _max_tokens(request) is not None:
        gen["maxOutputTokens"] = _max_tokens(request)
    if request.get("stop") is not None:
        gen["stopSequences"] = _stop_list(request["stop"])
    fmt = request.get("response_format") or {}
    if fmt.get("type") in ("json_object", "json_schema"):
        gen["responseMimeType"] = "application/json"
        if fmt["type"] == "json_schema":
            gen["responseSchema"] = _gemini_schema(fmt["json_schema"]["schema"])
    if gen:
        body["generationConfig"] = gen
    return body


def from_gemini_request(body: dict, *, model: str | None = None) -> dict:
    """Gemini generateContent body -> OpenAI chat request (inverse of
    to_gemini_request). functionCall parts without an id get `call_<n>_<name>`."""
    messages: list[dict] = []
    if body.get("systemInstruction"):
        messages.append({"role": "system",
                         "content": "".join(p.get("text", "") for p in body["systemInstruction"]["parts"])})
    counter = 0
    pending: dict[str, list[str]] = {}  # name -> ids of calls not yet answered (for id-less parts)
    for turn in body["contents"]:
        parts = turn["parts"]
        if turn.get("role") == "model":
            text = "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))
            calls: list[dict[str, Any]] = []
            for p in parts:
                if "functionCall" in p:
                    fc = p["functionCall"]
                    call_id = fc.get("id") or f"call_{counter}_{fc['name']}"
                    pending.setdefault(fc["name"], []).append(call_id)
                    calls.append(_tool_call(call_id, fc["name"], fc.get("args")))
                    counter += 1
            messages.append(_assistant(text or None, calls))
            continue
        for p in parts:
            if "functionResponse" in p:
                fr = p["functionResponse"]
                waiting = pending.get(fr["name"]) or [fr["name"]]
                call_id = fr.get("id") or waiting[0]
                if call_id in waiting:
                    waiting.remove(call_id)
                messages.append({"role": "tool", "tool_call_id": call_id,
                                 "content": _tool_response_text(fr["response"])})
        rest = [p for p in parts if "functionResponse" not in p]
        if rest:
            if len(rest) == 1 and "text" in rest[0]:
                messages.append({"role": "user", "content": rest[0]["text"]})
            else:
                content: list[dict[str, Any]] = []
                for p in rest:
                    if "text" in p:
                        content.append({"type": "text", "text": p["text"]})
                    elif "inlineData" in p:
                        d = p["inlineData"]
                        content.append({"type": "image_url",
                                        "image_url": {"url": f"data:{d['mimeType']};base64,{d['data']}"}})
                    elif "fileData" in p:
                        content.append({"type": "image_url", "image_url": {"url": p["fileData"]["fileUri"]}})
                messages.append({"role": "user", "content": content})
    request: dict[str, Any] = {"model": model or EXAMPLE_MODELS["gemini"], "messages": messages}
    decls = [d for t in body.get("tools", []) for d in t.get("functionDeclarations", [])]
    if decls:
        request["tools"] = [{"type": "function", "function": {
            "name": d["name"], **({"description": d["description"]} if d.get("description") else {}),
            **({"parameters": d["parameters"]} if d.get("parameters") else {})}} for d in decls]
    fcc = body.get("toolConfig", {}).get("functionCallingConfig")
    if fcc:
        allowed = fcc.get("allowedFunctionNames") or []
        if fcc["mode"] == "ANY" and len(allowed) == 1:
            request["tool_choice"] = {"type": "function", "function": {"name": allowed[0]}}
        else:
            request["tool_choice"] = {"AUTO": "auto", "ANY": "required", "NONE": "none"}[fcc["mode"]]
    gen = body.get("generationConfig", {})
    for src, dst in _GEMINI_CONFIG:
        if dst in gen:
            request[src] = gen[dst]
    if "maxOutputTokens" in gen:
        request["max_completion_tokens"] = gen["maxOutputTokens"]
    if "stopSequences" in gen:
        request["stop"] = gen["stopSequences"]
    if gen.get("responseMimeType") == "application/json":
        request["response_format"] = ({"type": "json_schema", "json_schema": {"name": "response",
                                                                               "schema": gen["responseSchema"]}}
                                      if "responseSchema" in gen else {"type": "json_object"})
    return request


def to_gemini_response(completion: dict, *, model: str | None = None) -> dict:
    """OpenAI chat.completion -> the GenerateContentResponse of the same turn.
    Note Gemini says finishReason STOP for a turn that calls functions."""
    message, finish = _first_choice(completion)
    parts: list[dict] = []
    if message.get("content"):
        parts.append({"text": message["content"]})
    for call in message.get("tool_calls") or []:
        fn = call["function"]
        parts.append({"functionCall": {"id": call["id"], "name": fn["name"],
                                       "args": _args_to_dict(fn.get("arguments"), fn["name"])}})
    out: dict[str, Any] = {
        "candidates": [{"content": {"role": "model", "parts": parts},
                        "finishReason": _OPENAI_TO_GEMINI_FINISH.get(finish or "", "STOP"), "index": 0}],
        "modelVersion": model or EXAMPLE_MODELS["gemini"],
        "responseId": completion["id"],
    }
    usage = completion.get("usage")
    if usage:
        meta = {"promptTokenCount": usage["prompt_tokens"], "candidatesTokenCount": usage["completion_tokens"],
                "totalTokenCount": usage["total_tokens"]}
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        if cached:
            meta["cachedContentTokenCount"] = cached
        out["usageMetadata"] = meta
    return out


def from_gemini_response(response: dict) -> dict:
    """GenerateContentResponse -> OpenAI chat.completion dict (first candidate).
    functionCall parts become tool_calls (finish_reason tool_calls, although
    Gemini said STOP); thought parts are dropped; a prompt blocked by safety
    (no candidates, promptFeedback.blockReason) becomes content None with
    finish_reason content_filter. Thinking tokens count as completion tokens."""
    candidates = response.get("candidates") or []
    if not candidates:
        message, finish = _assistant(None, []), "content_filter"
    else:
        cand = candidates[0]
        parts = (cand.get("content") or {}).get("parts") or []
        text = "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))
        calls = [_tool_call(p["functionCall"].get("id") or f"call_{i}_{p['functionCall']['name']}",
                            p["functionCall"]["name"], p["functionCall"].get("args"))
                 for i, p in enumerate(q for q in parts if "functionCall" in q)]
        message = _assistant(text or None, calls)
        finish = "tool_calls" if calls else _GEMINI_FINISH.get(cand.get("finishReason") or "", "stop")
    meta = response.get("usageMetadata")
    usage = None
    if meta:
        completion_tokens = (meta.get("candidatesTokenCount") or 0) + (meta.get("thoughtsTokenCount") or 0)
        usage = _usage(meta.get("promptTokenCount") or 0, completion_tokens, meta.get("cachedContentTokenCount") or 0)
    return _completion(message, finish, usage, id=response.get("responseId", "gemini-response"),
                       model=response.get("modelVersion", EXAMPLE_MODELS["gemini"]))


# ---------------------------------------------------------------- Cohere

_COHERE_OK = {"model", "messages", "tools", "tool_choice", "max_tokens", "max_completion_tokens", "temperature",
              "top_p", "stop", "seed", "presence_penalty", "frequency_penalty", "response_format", "stream",
              "logprobs"}
_COHERE_FINISH = {"COMPLETE": "stop", "STOP_SEQUENCE": "stop", "MAX_TOKENS": "length", "TOOL_CALL": "tool_calls",
                  "ERROR": "stop", "TIMEOUT": "stop"}
_OPENAI_TO_COHERE_FINISH = {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool_calls": "TOOL_CALL"}
_COHERE_CONFIG = (("temperature", "temperature"), ("top_p", "p"), ("seed", "seed"),
                  ("presence_penalty", "presence_penalty"), ("frequency_penalty", "frequency_penalty"),
                  ("logprobs", "logprobs"))


def _cohere_document(doc: Any, index: int) -> Any:
    if isinstance(doc, str):
        return {"id": f"doc_{index}", "data": {"text": doc}}
    doc = dict(doc)
    if "data" in doc:
        return doc
    doc_id = doc.pop("id", f"doc_{index}")
    return {"id": doc_id, "data": doc}


def to_cohere_request(request: dict, *, model: str | None = None, documents: list | None = None,
                      strict: bool = True) -> dict:
    """OpenAI chat request -> Cohere v2 chat body (POST /v2/chat).

    - messages keep roles system/user/assistant/tool; tool results stay in a
      `tool` message with `tool_call_id`, their content wrapped as a document
      block ({type: document, document: {data: ...}}) so answers can cite it.
    - an assistant message's text next to tool_calls travels as `tool_plan`.
    - tools keep OpenAI's {type: function, function: {...}} shape.
    - tool_choice: required -> "REQUIRED", none -> "NONE", auto -> omitted;
      Cohere cannot name one function, so a named choice becomes REQUIRED with
      `tools` cut down to that function.
    - documents (strings or dicts) -> top-level `documents` [{id, data}] for RAG.
    - top_p -> p, stop -> stop_sequences; json_object/json_schema ->
      response_format {type: json_object[, json_schema]}.
    """
    _check_unsupported(request, _COHERE_OK, "the Cohere v2 chat API", strict)
    messages: list[dict] = []
    for m in request["messages"]:
        role = m["role"]
        if role in ("system", "developer"):
            messages.append({"role": "system", "content": _text_of(m["content"])})
        elif role == "user":
            if isinstance(m["content"], str):
                messages.append({"role": "user", "content": m["content"]})
            else:
                if any(p.get("type") != "text" for p in m["content"]):
                    raise UnsupportedParameterError("only text content parts are mapped to Cohere here")
                messages.append({"role": "user", "content": [{"type": "text", "text": p["text"]}
                                                             for p in m["content"]]})
        elif role == "assistant":
            text = _text_of(m.get("content"))
            calls = m.get("tool_calls") or []
            out: dict[str, Any] = {"role": "assistant"}
            if calls:
                if text:
                    out["tool_plan"] = text
                out["tool_calls"] = [_tool_call(c["id"], c["function"]["name"], c["function"].get("arguments"))
                                     for c in calls]
            else:
                out["content"] = text
            messages.append(out)
        elif role == "tool":
            messages.append({"role": "tool", "tool_call_id": m["tool_call_id"],
                             "content": [{"type": "document", "document": {"data": _text_of(m["content"])}}]})
        else:
            raise UnsupportedParameterError(f"message role {role!r} has no Cohere mapping")
    body: dict[str, Any] = {"model": model or EXAMPLE_MODELS["cohere"], "messages": messages}
    tools = copy.deepcopy(request.get("tools") or [])
    choice = request.get("tool_choice")
    name = _named_tool(choice)
    if name:
        tools = [t for t in tools if t["function"]["name"] == name]
        if not tools:
            raise ValueError(f"tool_choice names {name!r}, which is not in tools")
    if tools:
        body["tools"] = tools
    if name or choice == "required":
        body["tool_choice"] = "REQUIRED"
    elif choice == "none":
        body["tool_choice"] = "NONE"
    if documents:
        body["documents"] = [_cohere_document(d, i) for i, d in enumerate(documents)]
    if _max_tokens(request) is not None:
        body["max_tokens"] = _max_tokens(request)
    for src, dst in _COHERE_CONFIG:
        if request.get(src) is not None:
            body[dst] = request[src]
    if request.get("stop") is not None:
        body["stop_sequences"] = _stop_list(request["stop"])
    fmt = request.get("response_format") or {}
    if fmt.get("type") == "json_object":
        body["response_format"] = {"type": "json_object"}
    elif fmt.get("type") == "json_schema":
        body["response_format"] = {"type": "json_object", "json_schema": fmt["json_schema"]["schema"]}
    if request.get("stream"):
        body["stream"] = True
    return body


def from_cohere_request(body: dict) -> dict:
    """Cohere v2 chat body -> OpenAI chat request (inverse of to_cohere_request).
    `documents` have no OpenAI field: they come back as a system message.
    tool_choice REQUIRED comes back as "required" (a named choice is not
    recoverable)."""
    messages: list[dict] = []
    for m in body["messages"]:
        role = m["role"]
        content = m.get("content")
        if role == "tool":
            blocks: list[dict[str, Any]] = (content if isinstance(content, list)
                                            else [{"type": "text", "text": content or ""}])
            text = "\n".join(b["document"]["data"] if b["type"] == "document" and isinstance(b["document"]["data"], str)
                             else json.dumps(b["document"]["data"]) if b["type"] == "document"
                             else b.get("text", "") for b in blocks)
            messages.append({"role": "tool", "tool_call_id": m["tool_call_id"], "content": text})
        elif role == "assistant":
            calls = [_tool_call(c["id"], c["function"]["name"], c["function"].get("arguments"))
                     for c in m.get("tool_calls") or []]
            text = m.get("tool_plan") if calls else _text_of(content)
            messages.append(_assistant(text or None, calls))
        else:
            messages.append({"role": role, "content": content})
    if body.get("documents"):
        docs = "\n".join(json.dumps(d) if not isinstance(d, str) else d for d in body["documents"])
        messages.insert(0, {"role": "system", "content": f"Documents:\n{docs}"})
    request: dict[str, Any] = {"model": body["model"], "messages": messages}
    if body.get("tools"):
        request["tools"] = copy.deepcopy(body["tools"])
    if body.get("tool_choice"):
        request["tool_choice"] = {"REQUIRED": "required", "NONE": "none"}[body["tool_choice"]]
    if "max_tokens" in body:
        request["max_completion_tokens"] = body["max_tokens"]
    for src, dst in _COHERE_CONFIG:
        if dst in body:
            request[src] = body[dst]
    if "stop_sequences" in body:
        request["stop"] = body["stop_sequences"]
    fmt = body.get("response_format")
    if fmt:
        request["response_format"] = ({"type": "json_schema", "json_schema": {"name": "response",
                                                                               "schema": fmt["json_schema"]}}
                                      if "json_schema" in fmt else {"type": "json_object"})
    if body.get("stream"):
        request["stream"] = True
    return request


def to_cohere_response(completion: dict) -> dict:
    """OpenAI chat.completion -> the Cohere v2 chat response of the same turn
    (text next to tool calls becomes `tool_plan`)."""
    message, finish = _first_choice(completion)
    calls = message.get("tool_calls") or []
    msg: dict[str, Any] = {"role": "assistant"}
    if calls:
        if message.get("content"):
            msg["tool_plan"] = message["content"]
        msg["tool_calls"] = [_tool_call(c["id"], c["function"]["name"], c["function"].get("arguments"))
                             for c in calls]
    else:
        msg["content"] = [{"type": "text", "text": message.get("content") or ""}]
    out: dict[str, Any] = {"id": completion["id"],
                           "finish_reason": _OPENAI_TO_COHERE_FINISH.get(finish or "", "COMPLETE"), "message": msg}
    usage = completion.get("usage")
    if usage:
        tokens = {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"]}
        out["usage"] = {"billed_units": dict(tokens), "tokens": tokens}
    return out


def from_cohere_response(response: dict) -> dict:
    """Cohere v2 chat response -> OpenAI chat.completion dict.
    `tool_plan` (Cohere's reasoning before a tool call) becomes the content
    next to the tool_calls; document `citations` have no OpenAI field and are
    kept under a non-standard `citations` key of the message."""
    msg = response["message"]
    calls = [_tool_call(c["id"], c["function"]["name"], c["function"].get("arguments"))
             for c in msg.get("tool_calls") or []]
    text = "".join(b.get("text", "") for b in msg.get("content") or [] if b.get("type") == "text")
    message = _assistant(text or msg.get("tool_plan") or None, calls)
    if msg.get("citations"):
        message["citations"] = msg["citations"]
    u = response.get("usage") or {}
    tokens = u.get("tokens") or u.get("billed_units")
    usage = _usage(int(tokens.get("input_tokens", 0)), int(tokens.get("output_tokens", 0))) if tokens else None
    return _completion(message, _COHERE_FINISH.get(response.get("finish_reason") or "", "stop"), usage,
                       id=response["id"], model=EXAMPLE_MODELS["cohere"])
