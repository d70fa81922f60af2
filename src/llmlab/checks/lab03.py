"""Checks for lab03_tool_agent_loop: a tool-calling agent loop with argument
validation, error results, concurrent parallel calls and a round limit.

    from llmlab.checks import lab03
    lab03.check_run_agent(run_agent)                                   # scripted fake client
    lab03.check_run_agent(run_agent, lab.client, lab.models.tools)     # plus one real round
    lab03.check_stretch_is_repeat(is_repeat)                           # optional
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Sequence
from typing import Any

from . import Case, FakeChatClient, Report, expect, is_replay_miss, run_cases


def completion(content: str | None = None, tool_calls: Sequence[tuple[str, str, str]] = (), finish: str | None = None,
               model: str = "fake-model") -> Any:
    """A ChatCompletion as the API returns it; tool_calls as (id, name, arguments JSON text)."""
    from openai.types.chat import ChatCompletion

    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                                 for i, n, a in tool_calls]
    return ChatCompletion.model_validate({
        "id": "chatcmpl-scripted", "object": "chat.completion", "created": 1767225600, "model": model,
        "choices": [{"index": 0, "message": message,
                     "finish_reason": finish or ("tool_calls" if tool_calls else "stop")}],
        "usage": {"prompt_tokens": 80, "completion_tokens": 12, "total_tokens": 92},
    })


def _tool(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required,
                       "additionalProperties": False}}}


WEATHER = _tool("get_weather", "Current weather for a city.",
                {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                ["city"])
TIME = _tool("get_time", "Local time in a city.", {"city": {"type": "string"}}, ["city"])
TOOLS = [WEATHER, TIME]
MESSAGES = [
    {"role": "system", "content": "You are a travel assistant. Use tools for facts."},
    {"role": "user", "content": "What is the weather and the time in Oslo?"},
]


class Registry(dict):
    """name -> function, noting every call that reached a function."""

    def __init__(self, **functions: Any):
        self.calls: list[tuple[str, dict]] = []
        lock = threading.Lock()

        def wrap(name, fn):
            def run(**kwargs):
                with lock:
                    self.calls.append((name, kwargs))
                return fn(**kwargs)
            return run
        super().__init__({name: wrap(name, fn) for name, fn in functions.items()})


def _weather(city: str, unit: str = "celsius") -> dict:
    return {"city": city, "temperature": 4 if unit == "celsius" else 39, "unit": unit, "conditions": "snow"}


def _time(city: str) -> dict:
    return {"city": city, "time": "14:05"}


def _registry() -> Registry:
    return Registry(get_weather=_weather, get_time=_time)


def _run(fn, responses, *, registry=None, messages=None, tools=None, **kwargs):
    client = FakeChatClient(responses, too_many=(
        "request {n} was not expected: the model had already answered in text, or the round limit was ignored"))
    registry = _registry() if registry is None else registry
    messages = copy.deepcopy(MESSAGES if messages is None else messages)
    before = copy.deepcopy(messages)
    out = fn(client, "fake-model", messages, TOOLS if tools is None else tools, registry, **kwargs)
    expect(messages == before, "do not change the messages you were given: work on a copy")
    expect(isinstance(out, list), f"return the conversation as a list of messages, not {type(out).__name__}")
    return client, registry, out


def _tool_messages(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m.get("role") == "tool"]


def _content(message: dict) -> Any:
    try:
        return json.loads(message.get("content") or "")
    except ValueError:
        raise AssertionError(f"tool message content must be a JSON string, got {message.get('content')!r}") from None


def _answers(messages: list[dict], ids: list[str]) -> dict[str, dict]:
    """The tool message of each call, by id: one per call, in any order (the API pairs
    them by tool_call_id, so the order of the tool messages carries no meaning)."""
    tools = _tool_messages(messages)
    got: list[Any] = [m.get("tool_call_id") for m in tools]
    expect(sorted(got) == sorted(ids), f"answer every call with exactly one tool message carrying its tool_call_id "
                                       f"(calls {ids}, tool messages for {got})")
    return {m["tool_call_id"]: m for m in tools}


def _error(message: dict, hint: str) -> str:
    data = _content(message)
    expect(isinstance(data, dict) and isinstance(data.get("error"), str) and data["error"], hint)
    return data["error"]


# -- cases with the scripted client ---------------------------------------------------

def _text_answer(fn):
    client, registry, out = _run(fn, [completion("Hello! Ask me about a city.")])
    expect(len(client.requests) == 1, f"a text answer ends the loop after one request, you made {len(client.requests)}")
    sent = client.requests[0]
    expect(sent.get("model") == "fake-model" and sent.get("messages") == MESSAGES and sent.get("tools") == TOOLS,
           "send the model, the messages and the tools you were given")
    expect(sent.get("tool_choice") == "auto", "pass tool_choice through (its default is 'auto')")
    expect("max_tokens" not in sent, "send max_completion_tokens, not max_tokens: max_tokens is the deprecated name, "
                                     "which today's reasoning models reject")
    expect(sent.get("max_completion_tokens") == 300, "pass max_completion_tokens through (its default is 300)")
    expect(sent.get("reasoning_effort") == "none", "send reasoning_effort='none' with the tools: GPT-6 models take "
                                                   "function tools on Chat Completions only with reasoning off")
    expect(out == MESSAGES + [{"role": "assistant", "content": "Hello! Ask me about a city."}],
           "return the messages plus the final {'role': 'assistant', 'content': text}")
    expect(not registry.calls, "no tool was asked for, so none may run")


def _one_round(fn):
    client, registry, out = _run(fn, [
        completion(tool_calls=[("call_w", "get_weather", '{"city": "Oslo"}')]),
        completion("It is 4 °C with snow in Oslo."),
    ])
    expect(registry.calls == [("get_weather", {"city": "Oslo"})],
           f"run the requested function with the decoded arguments as keywords (ran {registry.calls})")
    expect(len(client.requests) == 2, "after running the tools, ask the model again")
    second = client.requests[1]["messages"]
    expect(second[:2] == MESSAGES, "the second request starts with the original messages")
    expect(len(second) == 4, f"the second request adds the assistant's tool-call message and one tool message "
                             f"(it has {len(second)} messages)")
    expect(second[2] == {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_w", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]},
        "echo the assistant turn as {'role': 'assistant', 'content': '', 'tool_calls': [{'id', 'type', 'function': "
        "{'name', 'arguments'}}]}: content '' rather than None (some servers reject null), no other fields")
    expect(second[3] == {"role": "tool", "tool_call_id": "call_w", "content": json.dumps(_weather("Oslo"))},
           "answer the call with {'role': 'tool', 'tool_call_id': <the call's id>, 'content': json.dumps(result)}")
    expect(out == second + [{"role": "assistant", "content": "It is 4 °C with snow in Oslo."}],
           "return everything sent in the last request plus the final answer")


def _barrier_registry() -> Registry:
    barrier = threading.Barrier(2, timeout=2.0)

    def weather(city: str, unit: str = "celsius") -> dict:
        barrier.wait()  # returns only once the other call is running too
        return _weather(city, unit)

    def clock(city: str) -> dict:
        barrier.wait()
        return _time(city)
    return Registry(get_weather=weather, get_time=clock)


def _parallel(fn):
    client, registry, _out = _run(fn, [
        completion(tool_calls=[("call_w", "get_weather", '{"city": "Oslo"}'),
                               ("call_t", "get_time", '{"city": "Oslo"}')]),
        completion("Snowy, 4 °C, and it is 14:05."),
    ], registry=_barrier_registry())
    answers = _answers(client.requests[-1]["messages"], ["call_w", "call_t"])
    for call_id, want in (("call_w", _weather("Oslo")), ("call_t", _time("Oslo"))):
        data = _content(answers[call_id])
        expect(data == want, "both calls must run at the same time (a thread pool): each of these tools waits "
                             "until the other has started, so running them one after the other fails")
    expect(len(registry.calls) == 2, "each call runs exactly once")


def _unknown_tool(fn):
    client, registry, _out = _run(fn, [
        completion(tool_calls=[("call_x", "delete_account", '{"user": 7}')]),
        completion("Sorry, I cannot do that."),
    ])
    expect(len(client.requests) == 2, "an unknown tool is not fatal: answer it with an error and ask the model again")
    tools = _tool_messages(client.requests[1]["messages"])
    expect(len(tools) == 1 and tools[0].get("tool_call_id") == "call_x", "the unknown call still gets its tool message")
    message = _error(tools[0], "answer an unknown tool with content json.dumps({'error': '...'})")
    expect("delete_account" in message, "the error names the unknown tool so the model can correct itself")
    expect(not registry.calls, "nothing may run for an unknown tool")


def _not_offered(fn):
    client, registry, _out = _run(fn, [
        completion(tool_calls=[("call_t", "get_time", '{"city": "Oslo"}')]),
        completion("I can only check the weather."),
    ], tools=[WEATHER])
    tools = _tool_messages(client.requests[1]["messages"])
    _error(tools[0], "a function in the registry but not in this request's tools was not offered: treat it as unknown")
    expect(not registry.calls, "a tool that was not offered may not run, even if the registry has it")


BAD_ARGUMENTS = [
    ("arguments that are not JSON", '{"city": "Oslo"'),
    ("a missing required field", '{"unit": "celsius"}'),
    ("a wrong type", '{"city": 42}'),
    ("a value outside the enum", '{"city": "Oslo", "unit": "kelvin"}'),
    ("an unexpected field", '{"city": "Oslo", "shell": "rm -rf /"}'),
]


def _bad_arguments(fn):
    calls = [(f"call_{i}", "get_weather", args) for i, (_, args) in enumerate(BAD_ARGUMENTS)]
    client, registry, _out = _run(fn, [completion(tool_calls=calls), completion("Let me fix that.")])
    answers = _answers(client.requests[1]["messages"], [c[0] for c in calls])
    for (label, _), (call_id, _, _) in zip(BAD_ARGUMENTS, calls, strict=False):
        _error(answers[call_id], f"{label} must come back as content json.dumps({{'error': '...'}}): validate "
                                 "with jsonschema against the tool's parameters before running anything")
    expect(not registry.calls, f"invalid arguments must never reach the function (it ran with {registry.calls}): "
                               "a function that accepts them anyway is not a validation")


def _tool_raises(fn):
    def broken(city: str, unit: str = "celsius") -> dict:
        raise ConnectionError("weather service unreachable")
    client, _registry, _out = _run(fn, [
        completion(tool_calls=[("call_w", "get_weather", '{"city": "Oslo"}')]),
        completion("The weather service is down."),
    ], registry=Registry(get_weather=broken, get_time=_time))
    tools = _tool_messages(client.requests[1]["messages"])
    message = _error(tools[0], "a tool that raises is answered with an error result, not a crash")
    expect("unreachable" in message, "include the exception's message in the error so the model can explain it")


def _round_limit(fn):
    call = completion(tool_calls=[("call_w", "get_weather", '{"city": "Oslo"}')])
    client, registry, out = _run(fn, [call, copy.deepcopy(call), completion("Snow in Oslo.")], max_rounds=2)
    expect(len(client.requests) == 3, f"with max_rounds=2 the loop makes 2 tool rounds and then one final request "
                                      f"(you made {len(client.requests)})")
    expect([r.get("tool_choice") for r in client.requests] == ["auto", "auto", "none"],
           "the final request after the last round forces a text answer with tool_choice='none'")
    expect(len(registry.calls) == 2, "both rounds run their tool calls before the final request")
    expect(out[-1] == {"role": "assistant", "content": "Snow in Oslo."}, "the forced text answer ends the conversation")


def _tool_choice_passed(fn):
    named = {"type": "function", "function": {"name": "get_weather"}}
    call = completion(tool_calls=[("call_w", "get_weather", '{"city": "Oslo"}')])
    client, _, _out = _run(fn, [call, completion("Snow.")], max_rounds=1, tool_choice=named, max_completion_tokens=50)
    expect(client.requests[0].get("tool_choice") == named, "send the tool_choice you were given on every round")
    expect([r.get("max_completion_tokens") for r in client.requests] == [50, 50],
           "send max_completion_tokens on every request, the final one included")
    expect([r.get("reasoning_effort") for r in client.requests] == ["none", "none"],
           "send reasoning_effort='none' on every request: each one carries the tools")
    extra = set(client.requests[0]) - {"model", "messages", "tools", "tool_choice", "max_completion_tokens",
                                       "reasoning_effort"}
    expect(not extra, f"send only model, messages, tools, tool_choice, max_completion_tokens and reasoning_effort "
                      f"(you also sent {sorted(extra)})")


# -- one real round through the API ---------------------------------------------------------

LIVE_MESSAGES = [
    {"role": "system", "content": "You are a travel assistant. Use the tools you are given."},
    {"role": "user", "content": "Should I pack an umbrella for Bergen today?"},
]


def live_round(fn, client, model) -> list[dict]:
    """One real round of `fn` (run_agent): a named call to get_weather for Bergen, its result,
    then the forced text answer (max_rounds=1). Returns the conversation."""
    registry = Registry(get_weather=_weather)
    named = {"type": "function", "function": {"name": "get_weather"}}
    return fn(client, model, copy.deepcopy(LIVE_MESSAGES), [WEATHER], registry, max_rounds=1,
              tool_choice=named, max_completion_tokens=60)


def _live(client, model):
    def run(fn):
        try:
            out = live_round(fn, client, model)
        except Exception as exc:

            if is_replay_miss(exc):
                raise AssertionError("a request differs from the recorded one: check the message shapes above "
                                     "(content '' on the tool-call turn, json.dumps(result) as tool content) and "
                                     "send only model, messages, tools, tool_choice, max_completion_tokens and "
                                     "reasoning_effort") from None
            raise
        roles = [m["role"] for m in out]
        expect(roles[:2] == ["system", "user"] and roles[2] == "assistant" and roles[-1] == "assistant",
               f"expected system, user, the tool-call turn, its tool messages, the final answer; got roles {roles}")
        calls = out[2].get("tool_calls") or []
        expect(len(calls) >= 1 and all(c["function"]["name"] == "get_weather" for c in calls),
               "with a named tool_choice the model calls get_weather")
        answered = [m["tool_call_id"] for m in out if m["role"] == "tool"]
        expect(sorted(answered) == sorted(c["id"] for c in calls), "every call of the real reply gets one tool message")
        expect(isinstance(out[-1].get("content"), str), "the final answer is text")
    return run


def check_run_agent(fn, client: Any = None, model: str | None = None, quiet: bool = False) -> Report:
    """With `client` (lab.client) and `model`, one more case runs a real named-tool round (replayed)."""
    cases = [
        Case("a text answer ends the loop", _text_answer),
        Case("one tool round: call, result, answer", _one_round),
        Case("parallel calls run concurrently", _parallel),
        Case("unknown tool: an error result", _unknown_tool),
        Case("a tool not offered is unknown", _not_offered),
        Case("bad arguments: error results, nothing runs", _bad_arguments),
        Case("a tool that raises: an error result", _tool_raises),
        Case("round limit, then a forced text answer", _round_limit),
        Case("tool_choice and token budget passed on", _tool_choice_passed),
    ]
    if client is not None:
        cases.append(Case("one real named-tool round", _live(client, model)))
    return run_cases("run_agent", fn, cases, quiet)


# -- optional stretch: loop detection --------------------------------------------------------

def _call(call_id: str, name: str, arguments: str) -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


OSLO = _call("call_1", "get_weather", '{"city": "Oslo", "unit": "celsius"}')
OSLO_AGAIN = _call("call_9", "get_weather", '{ "unit": "celsius",  "city": "Oslo" }')  # new id, same call
OSLO_TIME = _call("call_2", "get_time", '{"city": "Oslo"}')
BERGEN = _call("call_3", "get_weather", '{"city": "Bergen", "unit": "celsius"}')


def _repeat(fn, previous: list[dict], calls: list[dict]) -> bool:
    before = copy.deepcopy((previous, calls))
    got = fn(previous, calls)
    expect((previous, calls) == before, "do not change the calls you were given")
    expect(isinstance(got, bool), f"return True or False, not {type(got).__name__}")
    return got


def _rp_same(fn):
    expect(_repeat(fn, [OSLO], [copy.deepcopy(OSLO)]), "the same call twice is a repeat")
    expect(_repeat(fn, [OSLO], [OSLO_AGAIN]),
           "every round gives its calls new ids, and the model may order and space the JSON differently: compare "
           "the names and the decoded arguments, not the ids or the raw text")


def _rp_different(fn):
    expect(not _repeat(fn, [OSLO], [BERGEN]), "other arguments make another call: not a repeat")
    expect(not _repeat(fn, [OSLO], [_call("call_4", "get_time", '{"city": "Oslo", "unit": "celsius"}')]),
           "another tool with the same arguments is not a repeat")
    expect(not _repeat(fn, [OSLO, OSLO_TIME], [OSLO_AGAIN]), "a round that asks for less is not a repeat")
    expect(not _repeat(fn, [OSLO], [OSLO_AGAIN, OSLO_TIME]), "a round that asks for more is not a repeat")


def _rp_order(fn):
    expect(_repeat(fn, [OSLO, OSLO_TIME], [_call("call_7", "get_time", '{"city":"Oslo"}'), OSLO_AGAIN]),
           "parallel calls may come back in another order: the same set of calls is a repeat")


def _rp_edges(fn):
    expect(not _repeat(fn, [], []), "a round without calls repeats nothing")
    expect(not _repeat(fn, [], [OSLO]), "the first round has nothing to repeat")
    broken = _call("call_5", "get_weather", '{"city": "Oslo"')
    expect(_repeat(fn, [broken], [_call("call_6", "get_weather", '{"city": "Oslo"')]),
           "arguments that are not JSON cannot be decoded: compare them as text (and do not crash)")


def check_stretch_is_repeat(fn, quiet: bool = False) -> Report:
    """Optional: is_repeat(previous_calls, calls) spots a model asking for the same calls again."""
    return run_cases("is_repeat (optional)", fn, [
        Case("the same call, new id and spacing", _rp_same),
        Case("other calls are not repeats", _rp_different),
        Case("order does not matter", _rp_order),
        Case("empty rounds and broken JSON", _rp_edges),
    ], quiet)
