"""Doubles for lab03_tool_agent_loop: run_agent and is_repeat."""

import json
from concurrent.futures import ThreadPoolExecutor, as_completed


def _execute(call, tools, registry, validate=True):
    import jsonschema

    schemas = {t["function"]["name"]: t["function"].get("parameters", {}) for t in tools}
    name = call.function.name
    if name not in schemas or name not in registry:
        return json.dumps({"error": f"unknown tool {name!r}"})
    try:
        args = json.loads(call.function.arguments)
        if validate:
            jsonschema.validate(args, schemas[name])
    except (ValueError, jsonschema.ValidationError) as exc:
        return json.dumps({"error": f"invalid arguments: {exc}"})
    try:
        return json.dumps(registry[name](**args))
    except Exception as exc:  # noqa: BLE001
        return json.dumps({"error": f"{name} failed: {exc}"})


def _echo(msg) -> dict:
    return {"role": "assistant", "content": msg.content or "", "tool_calls": [
        {"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}}
        for c in msg.tool_calls]}


def _in_call_order(calls, tools, registry, validate):
    with ThreadPoolExecutor() as pool:
        results = list(pool.map(lambda c: _execute(c, tools, registry, validate), calls))
    return list(zip(calls, results, strict=True))


def _agent(parallel=True, validate=True, final=True, echo=_echo, run=_in_call_order, budget="max_completion_tokens",
           effort=True):
    def agent(client, model, messages, tools, registry, max_rounds=4, tool_choice="auto", max_completion_tokens=300):
        shape = {budget: max_completion_tokens, **({"reasoning_effort": "none"} if effort else {})}
        messages = list(messages)
        for _ in range(max_rounds):
            msg = client.chat.completions.create(model=model, messages=messages, tools=tools, tool_choice=tool_choice,
                                                 **shape).choices[0].message
            if not msg.tool_calls:
                messages.append({"role": "assistant", "content": msg.content or ""})
                return messages
            messages.append(echo(msg))
            if parallel:
                answered = run(msg.tool_calls, tools, registry, validate)
            else:
                answered = [(c, _execute(c, tools, registry, validate)) for c in msg.tool_calls]
            messages += [{"role": "tool", "tool_call_id": c.id, "content": r} for c, r in answered]
        if final:
            msg = client.chat.completions.create(model=model, messages=messages, tools=tools, tool_choice="none",
                                                 **shape).choices[0].message
            messages.append({"role": "assistant", "content": msg.content or ""})
        return messages
    return agent


def _as_they_finish(calls, tools, registry, validate):
    """Tool messages in the order the calls finish: as valid as the order of the calls."""
    with ThreadPoolExecutor() as pool:
        futures = {pool.submit(_execute, c, tools, registry, validate): c for c in calls}
        done = [(futures[f], f.result()) for f in as_completed(futures)]
    return done[::-1]  # reversed, so the check really sees another order


def _named(fn, name):
    fn.__name__ = name
    return fn


def _key(call):
    try:
        arguments = json.loads(call["function"]["arguments"])
    except ValueError:
        arguments = call["function"]["arguments"]
    return call["function"]["name"], json.dumps(arguments, sort_keys=True)


def is_repeat(previous, calls):
    return bool(calls) and sorted(map(_key, previous)) == sorted(map(_key, calls))


REFERENCE = {
    "check_run_agent": _named(_agent(), "run_agent"),
    "check_stretch_is_repeat": is_repeat,
}
# Correct too: tool messages in another order than the calls (tests/test_labs.py runs these).
ALSO_CORRECT = {
    "check_run_agent": [_named(_agent(run=_as_they_finish), "run_agent_results_as_they_finish")],
}


def _wrong_crashes_on_unknown(client, model, messages, tools, registry, max_rounds=4, tool_choice="auto",
                              max_completion_tokens=300):
    messages = list(messages)
    for _ in range(max_rounds):
        msg = client.chat.completions.create(model=model, messages=messages, tools=tools, tool_choice=tool_choice,
                                             max_completion_tokens=max_completion_tokens,
                                             reasoning_effort="none").choices[0].message
        if not msg.tool_calls:
            messages.append({"role": "assistant", "content": msg.content or ""})
            return messages
        messages.append(_echo(msg))
        for c in msg.tool_calls:
            result = registry[c.function.name](**json.loads(c.function.arguments))
            messages.append({"role": "tool", "tool_call_id": c.id, "content": json.dumps(result)})
    return messages


def _wrong_repeat_whole_dicts(previous, calls):
    return bool(calls) and previous == calls  # the ids differ every round


def _wrong_repeat_raw_text(previous, calls):
    texts = lambda cs: sorted((c["function"]["name"], c["function"]["arguments"]) for c in cs)  # noqa: E731
    return bool(calls) and texts(previous) == texts(calls)


def _wrong_repeat_in_order(previous, calls):
    return bool(calls) and [_key(c) for c in previous] == [_key(c) for c in calls]


def _wrong_repeat_empty_is_repeat(previous, calls):
    return sorted(map(_key, previous)) == sorted(map(_key, calls))


def _wrong_repeat_crashes_on_bad_json(previous, calls):
    decoded = lambda cs: sorted((c["function"]["name"], json.dumps(json.loads(c["function"]["arguments"]),  # noqa: E731
                                                                    sort_keys=True)) for c in cs)
    return bool(calls) and decoded(previous) == decoded(calls)


WRONG = {
    "check_run_agent": [
        _named(_agent(parallel=False), "_wrong_sequential"),
        _named(_agent(validate=False), "_wrong_no_schema_check"),
        _named(_agent(final=False), "_wrong_no_final_answer"),
        _named(_agent(echo=lambda msg: msg.model_dump(include={"role", "content", "tool_calls"})),
               "_wrong_echo_null_content"),
        _wrong_crashes_on_unknown,
        _named(_agent(budget="max_tokens"), "_wrong_deprecated_max_tokens"),
        _named(_agent(effort=False), "_wrong_tools_without_reasoning_effort"),
    ],
    "check_stretch_is_repeat": [_wrong_repeat_whole_dicts, _wrong_repeat_raw_text, _wrong_repeat_in_order,
                                _wrong_repeat_empty_is_repeat, _wrong_repeat_crashes_on_bad_json],
}
