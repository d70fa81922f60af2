"""Checks for lab02_streaming_printer: assemble a streamed chat completion
(text and tool-call deltas) and measure time to first token.

    from llmlab.checks import lab02
    start, events = lab02.record_stream(lab.client, lab.models.tools)
    lab02.check_assemble_stream(assemble_stream, events)
    lab02.check_time_to_first_token(time_to_first_token, events, start)
    lab02.check_stretch_print_stream(print_stream)   # optional
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from .. import catalogue
from . import Case, Report, expect, run_cases

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
STREAM_MESSAGES = [
    {"role": "system", "content": "You help travellers. Use the tools you are given."},
    {"role": "user", "content": "Is it raining in Lisbon right now?"},
]


def _finished(events: list) -> bool:
    return any(c.choices and c.choices[0].finish_reason for _, c in events)


def record_stream(client: Any, model: str, clock: Callable[[], float] = time.perf_counter, attempts: int = 4):
    """Stream one real tool call (named tool_choice, so every backend calls it) and
    return (start, events): the clock before the request, and (clock, chunk) pairs.

    The request is one today's OpenAI chat models take: temperature only with reasoning off
    (reasoning_effort="none", which function tools on GPT-6 Chat Completions need too) and
    max_completion_tokens, not the deprecated max_tokens. A stream that ends without a
    finish_reason was cut off on the way (a dropped connection, a proxy timing out): it is
    requested again, up to `attempts` times."""
    for _ in range(attempts):
        start = clock()
        stream = client.chat.completions.create(
            model=model, messages=STREAM_MESSAGES, tools=[WEATHER_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            stream=True, temperature=0, reasoning_effort="none", max_completion_tokens=40,
        )
        events = [(clock(), chunk) for chunk in stream]
        if _finished(events):
            break
    return start, events


# -- fixed chunks, built from the SDK's own types ---------------------------------------

_CHUNK_MODEL = str(catalogue.default_model("openai", "chat"))  # the kit's OpenAI chat model

def _chunk(delta: dict | None = None, finish: str | None = None, *, choices: bool = True, usage: dict | None = None):
    from openai.types.chat import ChatCompletionChunk

    data: dict[str, Any] = {"id": "chatcmpl-lab02", "object": "chat.completion.chunk", "created": 1767225600,
                            "model": _CHUNK_MODEL, "choices": []}
    if choices:
        data["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish, "logprobs": None}]
    if usage:
        data["usage"] = usage
    return ChatCompletionChunk.model_validate(data)


def _text(*pieces: str, finish: str = "stop") -> list:
    return ([_chunk({"role": "assistant", "content": ""})] + [_chunk({"content": p}) for p in pieces]
            + [_chunk({}, finish)])


def _tc(index: int, *, id: str | None = None, name: str | None = None, args: str | None = None) -> dict:
    call: dict[str, Any] = {"index": index}
    if id is not None:
        call["id"], call["type"] = id, "function"
    function = {k: v for k, v in (("name", name), ("arguments", args)) if v is not None}
    if function:
        call["function"] = function
    return {"tool_calls": [call]}


HELLO = _text("Hel", "lo, ", "Lis", "bon!")
CUT = _text("The forecast for", " tomorrow is", finish="length")
ONE_CALL = [
    _chunk({"role": "assistant", "content": None}),
    _chunk(_tc(0, id="call_rain", name="get_weather", args="")),
    _chunk(_tc(0, args='{"ci')),
    _chunk(_tc(0, args='ty": "Lis')),
    _chunk(_tc(0, args='bon"}')),
    _chunk({}, "tool_calls"),
]
TWO_CALLS = [  # parallel calls, fragments interleaved by index as some providers send them
    _chunk({"role": "assistant", "content": None}),
    _chunk(_tc(0, id="call_lis", name="get_weather", args="")),
    _chunk(_tc(1, id="call_por", name="get_weather", args="")),
    _chunk(_tc(0, args='{"city": ')),
    _chunk(_tc(1, args='{"city": "Por')),
    _chunk(_tc(0, args='"Lisbon"}')),
    _chunk(_tc(1, args='to"}')),
    _chunk({}, "tool_calls"),
]
TEXT_THEN_CALL = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"content": "Let me check."}),
    _chunk(_tc(0, id="call_chk", name="get_weather", args='{"city": "Faro"}')),
    _chunk({}, "tool_calls"),
]
REPEATING = [  # llama.cpp's server repeats the id and the name in every fragment
    _chunk({"role": "assistant"}),
    _chunk(_tc(0, id="call_0_get_weather", name="get_weather", args='{"')),
    _chunk(_tc(0, id="call_0_get_weather", name="get_weather", args='city": "')),
    _chunk(_tc(0, id="call_0_get_weather", name="get_weather", args='Braga"}')),
    _chunk({}, "tool_calls"),
]
WITH_USAGE = HELLO + [_chunk(choices=False, usage={"prompt_tokens": 21, "completion_tokens": 4, "total_tokens": 25})]


def _call(id_: str, name: str, arguments: str) -> dict:
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}


def _assemble(fn: Callable, chunks: list) -> tuple[dict, Any]:
    out = fn(list(chunks))
    expect(isinstance(out, tuple) and len(out) == 2, "return a pair: (message dict, finish_reason)")
    message, finish = out
    expect(isinstance(message, dict), f"the message is a dict, not {type(message).__name__}")
    expect(message.get("role") == "assistant", "the assembled message has role 'assistant'")
    return message, finish


def _text_stream(fn):
    message, finish = _assemble(fn, HELLO)
    expect(message.get("content") == "Hello, Lisbon!",
           f"join the content deltas in order (got {message.get('content')!r})")
    expect(finish == "stop", f"finish_reason comes from the chunk that carries it (got {finish!r})")
    expect("tool_calls" not in message, "a text-only stream has no 'tool_calls' key in the message")


def _finish_length(fn):
    message, finish = _assemble(fn, CUT)
    expect(finish == "length", f"the last chunk says finish_reason='length'; you returned {finish!r}")
    expect(message.get("content") == "The forecast for tomorrow is", "join every content delta, even on a cut answer")


def _one_call(fn):
    message, finish = _assemble(fn, ONE_CALL)
    calls: Any = message.get("tool_calls")
    expect(isinstance(calls, list) and len(calls) == 1,
           "collect tool-call deltas into message['tool_calls']: this stream carries one call")
    expect(calls[0] == _call("call_rain", "get_weather", '{"city": "Lisbon"}'),
           "the id and name come with the first fragment; the arguments are the fragments joined in order. "
           f"Expected the shape {{'id', 'type': 'function', 'function': {{'name', 'arguments'}}}}, got {calls[0]}")
    expect(json.loads(calls[0]["function"]["arguments"]) == {"city": "Lisbon"}, "the joined arguments are valid JSON")
    expect(finish == "tool_calls", f"this stream ends with finish_reason='tool_calls', you returned {finish!r}")
    expect(message.get("content") == "", "no text arrived: content is the empty string")


def _two_calls(fn):
    message, _ = _assemble(fn, TWO_CALLS)
    calls = message.get("tool_calls") or []
    expect(len(calls) == 2, f"two calls were streamed (indexes 0 and 1), you assembled {len(calls)}: "
                            "group fragments by their index")
    expect(calls == [_call("call_lis", "get_weather", '{"city": "Lisbon"}'),
                     _call("call_por", "get_weather", '{"city": "Porto"}')],
           "fragments of parallel calls arrive interleaved: append each fragment's arguments to the call with "
           "the same index, and list the calls in index order")


def _repeating(fn):
    message, _ = _assemble(fn, REPEATING)
    calls = message.get("tool_calls") or []
    expect(len(calls) == 1, "one call (index 0) arrives in three fragments")
    expect(calls[0]["function"].get("name") == "get_weather" and calls[0].get("id") == "call_0_get_weather",
           f"some servers repeat the id and name in every fragment (you built id {calls[0].get('id')!r}, name "
           f"{calls[0]['function'].get('name')!r}): take them once, append only the arguments")
    expect(calls[0]["function"].get("arguments") == '{"city": "Braga"}', "the arguments are the fragments joined")


def _text_and_call(fn):
    message, finish = _assemble(fn, TEXT_THEN_CALL)
    expect(message.get("content") == "Let me check.", "keep the text that came before the tool call")
    expect(message.get("tool_calls") == [_call("call_chk", "get_weather", '{"city": "Faro"}')],
           "a call whose arguments arrive in one fragment is assembled too")
    expect(finish == "tool_calls", "finish_reason is 'tool_calls'")


def _usage_chunk(fn):
    message, finish = _assemble(fn, WITH_USAGE)
    expect(message.get("content") == "Hello, Lisbon!" and finish == "stop",
           "with stream_options={'include_usage': True} the last chunk has an empty choices list and only usage: "
           "skip chunks without choices")


def _real_assemble(events):
    def run(fn):
        chunks = [chunk for _, chunk in events]
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        expect(bool(finishes), "internal: the recorded stream was cut before its last chunk; re-record the lab")
        fragments = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
        message, finish = _assemble(fn, chunks)
        calls = message.get("tool_calls") or []
        expect(len(calls) == 1, f"the recorded stream carries one tool call, you assembled {len(calls)}")
        expect(calls[0].get("id") == fragments[0].id, "the call's id is the one its first fragment carries")
        expect(calls[0]["function"].get("name") == "get_weather",
               f"the name is 'get_weather', you built {calls[0]['function'].get('name')!r}: this server repeats "
               "the name in every fragment, so set it, never append it")
        joined = "".join(tc.function.arguments or "" for tc in fragments if tc.function)
        expect(calls[0]["function"].get("arguments") == joined, "the arguments are every fragment's piece, joined")
        expect(finish == finishes[-1], f"the recorded stream ends with finish_reason={finishes[-1]!r}")
    return run


def check_assemble_stream(fn, recorded: list | None = None, quiet: bool = False) -> Report:
    """`recorded`: the (time, chunk) events of record_stream, for one more case on a real stream."""
    cases = [
        Case("text deltas joined, finish_reason kept", _text_stream),
        Case("a cut answer: finish_reason 'length'", _finish_length),
        Case("one tool call split over chunks", _one_call),
        Case("two parallel calls, interleaved", _two_calls),
        Case("a server that repeats id and name", _repeating),
        Case("text, then a tool call", _text_and_call),
        Case("a usage chunk without choices", _usage_chunk),
    ]
    if recorded is not None:
        cases.append(Case("a real stream from the server", _real_assemble(recorded)))
    return run_cases("assemble_stream", fn, cases, quiet)


# -- time to first token ----------------------------------------------------------------

def _timed(chunks: list, times: list[float]) -> list:
    return list(zip(times, chunks, strict=False))


def _close(got: Any, want: float | None, hint: str) -> None:
    if want is None:
        expect(got is None, hint)
        return
    expect(isinstance(got, (int, float)) and not isinstance(got, bool), f"return seconds as a number, got {got!r}")
    expect(abs(got - want) < 1e-9, hint)


def _ttft_text(fn):
    events = _timed(HELLO, [10.20, 10.55, 10.60, 10.65, 10.70, 10.72])
    got = fn(events, 10.0)
    why = {0.2: "the first chunk only announces the role (its content is empty): it is not a token",
           0.35: "you measured from the first event; when start is given, measure from start (the request)",
           550.0: "return seconds, not milliseconds"}
    hint = next((h for v, h in why.items() if isinstance(got, (int, float)) and abs(got - v) < 1e-6),
                "time to first token runs from start (the request) to the first chunk that carries text")
    _close(got, 0.55, hint)


def _ttft_default_start(fn):
    events = _timed(HELLO, [3.0, 3.25, 3.5, 3.75, 4.0, 4.1])
    _close(fn(events), 0.25, "without start, measure from the first event (the first chunk's arrival)")


def _ttft_tool(fn):
    events = _timed(ONE_CALL, [1.0, 1.4, 1.5, 1.6, 1.7, 1.8])
    _close(fn(events, 0.5), 0.9, "a tool-call fragment is output too: the first one counts as the first token")


def _ttft_empty_pieces(fn):
    chunks = [_chunk({"role": "assistant", "content": ""}), _chunk({"content": ""}), _chunk({"content": "Hi"}),
              _chunk({}, "stop")]
    _close(fn(_timed(chunks, [0.1, 0.2, 0.3, 0.4]), 0.0), 0.3,
           "an empty content string is not a token: wait for a chunk whose content is non-empty")


def _ttft_nothing(fn):
    chunks = [_chunk({"role": "assistant", "content": ""}), _chunk({}, "stop"),
              _chunk(choices=False, usage={"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5})]
    _close(fn(_timed(chunks, [0.1, 0.2, 0.3]), 0.0), None,
           "a stream that never carries text or a tool call has no first token: return None (and skip chunks "
           "without choices)")


def _real_ttft(events, start):
    def run(fn):
        first = next((t for t, c in events if c.choices and (c.choices[0].delta.content
                                                              or c.choices[0].delta.tool_calls)), None)
        expect(first is not None, "internal: the recorded stream carries no output; re-record the lab")
        _close(fn(list(events), start), first - start,
               "on the recorded stream, measure from start to the first chunk with text or a tool-call fragment")
    return run


def check_time_to_first_token(fn, recorded: list | None = None, start: float | None = None,
                              quiet: bool = False) -> Report:
    """`recorded`, `start`: what record_stream returned, for one more case on a real stream."""
    cases = [
        Case("text stream, measured from start", _ttft_text),
        Case("no start: from the first event", _ttft_default_start),
        Case("a tool-call fragment is the first token", _ttft_tool),
        Case("empty content is not a token", _ttft_empty_pieces),
        Case("no output at all: None", _ttft_nothing),
    ]
    if recorded is not None and start is not None:
        cases.append(Case("the real stream", _real_ttft(recorded, start)))
    return run_cases("time_to_first_token", fn, cases, quiet)


# -- optional stretch: the printer ---------------------------------------------------------

class _Screen:
    """Stands in for sys.stdout: every write, and what a reader sees (the text up to the last flush)."""

    def __init__(self):
        self.written: list[str] = []
        self.shown = ""

    def write(self, text: str) -> int:
        expect(isinstance(text, str), f"write text (str) to out, not {type(text).__name__}")
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        self.shown = "".join(self.written)


def _feed(chunks: list, screen: _Screen):
    """The chunks as a real stream gives them: once, one at a time. Before handing over the
    next chunk it checks that the text so far is already on the screen."""
    so_far = ""
    for chunk in chunks:
        expect(screen.shown == so_far,
               f"when the next chunk arrived the screen showed {screen.shown!r}, not {so_far!r}: write each "
               "piece of text as it arrives and flush it (print(..., end='', flush=True)), never at the end")
        yield chunk
        if chunk.choices:
            so_far += chunk.choices[0].delta.content or ""


def _printed(fn, chunks: list, text: str) -> tuple[Any, _Screen]:
    screen = _Screen()
    out = fn(_feed(chunks, screen), screen)
    screen.flush()
    expect(screen.shown in (text, text + "\n"),
           f"the screen should show {text!r} (and at most a final newline), it shows {screen.shown!r}: write the "
           "content deltas and nothing else (no None, no tool-call arguments)")
    return out, screen


def _ps_live(fn):
    _printed(fn, HELLO, "Hello, Lisbon!")


def _ps_returns(fn):
    out, _ = _printed(fn, HELLO, "Hello, Lisbon!")
    expect(out == ({"role": "assistant", "content": "Hello, Lisbon!"}, "stop"),
           f"return what assemble_stream returns for the stream (you returned {out!r:.120}). A stream can be read "
           "only once: keep the chunks as you print them, then assemble the kept chunks")


def _ps_tool_call(fn):
    out, _ = _printed(fn, ONE_CALL, "")
    expect(isinstance(out, tuple) and len(out) == 2 and out[1] == "tool_calls"
           and (out[0].get("tool_calls") or [{}])[0].get("function", {}).get("arguments") == '{"city": "Lisbon"}',
           "a tool call prints nothing, and the returned message carries the assembled call")


def _ps_usage(fn):
    out, _ = _printed(fn, WITH_USAGE, "Hello, Lisbon!")
    expect(out == ({"role": "assistant", "content": "Hello, Lisbon!"}, "stop"),
           "the last chunk of a stream with include_usage has no choices: skip it when printing too")


def check_stretch_print_stream(fn, quiet: bool = False) -> Report:
    """Optional: print_stream(chunks, out) shows the text as it streams and returns the assembled message."""
    return run_cases("print_stream (optional)", fn, [
        Case("text appears as it arrives", _ps_live),
        Case("returns the assembled message", _ps_returns),
        Case("a tool call prints nothing", _ps_tool_call),
        Case("a usage chunk without choices", _ps_usage),
    ], quiet)
