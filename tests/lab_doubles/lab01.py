"""Doubles for lab01_chat_history_budget: trim_to_budget, chat_turn, trim_with_headroom."""

from llmlab import catalogue
from llmlab.tokens import count_message_tokens

MODEL = str(catalogue.default_model("openai", "chat"))
REQUEST = {"temperature": 0, "reasoning_effort": "none", "max_completion_tokens": 60}


def _units(messages):
    units = []
    for m in messages:
        if m["role"] == "tool" and units and units[-1][0].get("tool_calls"):
            units[-1].append(m)
        else:
            units.append([m])
    return units


def trim(messages, budget, model=MODEL):
    system = [m for m in messages if m["role"] == "system"]
    kept = []
    for unit in reversed(_units([m for m in messages if m["role"] != "system"])):
        if kept and count_message_tokens(system + unit + kept, model) > budget:
            break
        kept = unit + kept
    return system + kept


def chat_turn(client, model, history, user_text, budget, request=REQUEST):
    history.append({"role": "user", "content": user_text})
    history[:] = trim(history, budget, model)
    reply = client.chat.completions.create(model=model, messages=list(history), **request)
    text = reply.choices[0].message.content
    history.append({"role": "assistant", "content": text})
    return text


def trim_with_headroom(messages, budget, model=MODEL, target=0.7):
    if count_message_tokens(messages, model) <= budget:
        return list(messages)
    return trim(messages, budget * target, model)


REFERENCE = {
    "check_trim_to_budget": trim,
    "check_chat_turn": chat_turn,
    "check_stretch_trim_with_headroom": trim_with_headroom,
}


# -- trim_to_budget ---------------------------------------------------------------------

def _wrong_trim_drops_system(messages, budget, model=MODEL):
    kept = list(messages)
    while len(kept) > 1 and count_message_tokens(kept, model) > budget:
        kept.pop(0)  # oldest first, which is the system message
    return kept


def _wrong_trim_strict_less(messages, budget, model=MODEL):
    system = [m for m in messages if m["role"] == "system"]
    rest = [m for m in messages if m["role"] != "system"]
    kept = [rest[-1]]
    for m in reversed(rest[:-1]):
        if count_message_tokens(system + [m] + kept, model) >= budget:
            break
        kept.insert(0, m)
    return system + kept


def _wrong_trim_per_message_sum(messages, budget, model=MODEL):
    system = [m for m in messages if m["role"] == "system"]
    total = sum(count_message_tokens([m], model) for m in system)
    kept = []
    for unit in reversed(_units([m for m in messages if m["role"] != "system"])):
        cost = sum(count_message_tokens([m], model) for m in unit)
        if kept and total + cost > budget:
            break
        kept, total = unit + kept, total + cost
    return system + kept


def _wrong_trim_splits_tools(messages, budget, model=MODEL):
    system = [m for m in messages if m["role"] == "system"]
    kept = []
    for m in reversed([m for m in messages if m["role"] != "system"]):
        if kept and count_message_tokens(system + [m] + kept, model) > budget:
            break
        kept.insert(0, m)
    return system + kept


def _wrong_trim_skips_gaps(messages, budget, model=MODEL):
    system = [m for m in messages if m["role"] == "system"]
    kept = []
    for unit in reversed(_units([m for m in messages if m["role"] != "system"])):
        if kept and count_message_tokens(system + unit + kept, model) > budget:
            continue  # keeps looking for older, smaller messages
        kept = unit + kept
    return system + kept


def _wrong_trim_fixed_model(messages, budget, model=MODEL):
    return trim(messages, budget, MODEL)


def _wrong_trim_can_empty(messages, budget, model=MODEL):
    system = [m for m in messages if m["role"] == "system"]
    kept = []
    for unit in reversed(_units([m for m in messages if m["role"] != "system"])):
        if count_message_tokens(system + unit + kept, model) > budget:
            break
        kept = unit + kept
    return system + kept


# -- chat_turn -----------------------------------------------------------------------------

def _wrong_turn_untrimmed(client, model, history, user_text, budget):
    history.append({"role": "user", "content": user_text})
    reply = client.chat.completions.create(model=model, messages=list(history), **REQUEST)
    text = reply.choices[0].message.content
    history.append({"role": "assistant", "content": text})
    return text


def _wrong_turn_keeps_full_history(client, model, history, user_text, budget):
    history.append({"role": "user", "content": user_text})
    reply = client.chat.completions.create(model=model, messages=trim(history, budget, model), **REQUEST)
    text = reply.choices[0].message.content
    history.append({"role": "assistant", "content": text})
    return text


def _wrong_turn_trims_before_append(client, model, history, user_text, budget):
    history[:] = trim(history, budget, model)
    history.append({"role": "user", "content": user_text})
    reply = client.chat.completions.create(model=model, messages=list(history), **REQUEST)
    text = reply.choices[0].message.content
    history.append({"role": "assistant", "content": text})
    return text


def _wrong_turn_returns_response(client, model, history, user_text, budget):
    history.append({"role": "user", "content": user_text})
    history[:] = trim(history, budget, model)
    reply = client.chat.completions.create(model=model, messages=list(history), **REQUEST)
    history.append({"role": "assistant", "content": reply.choices[0].message.content})
    return reply


def _wrong_turn_no_reply_in_history(client, model, history, user_text, budget):
    history.append({"role": "user", "content": user_text})
    history[:] = trim(history, budget, model)
    reply = client.chat.completions.create(model=model, messages=list(history), **REQUEST)
    return reply.choices[0].message.content


def _wrong_turn_gpt4_era_request(client, model, history, user_text, budget):
    return chat_turn(client, model, history, user_text, budget, request={"temperature": 0, "max_tokens": 60})


def _wrong_turn_no_reasoning_effort(client, model, history, user_text, budget):
    return chat_turn(client, model, history, user_text, budget,
                     request={"temperature": 0, "max_completion_tokens": 60})


# -- trim_with_headroom ----------------------------------------------------------------------

def _wrong_headroom_always_trims(messages, budget, model=MODEL, target=0.7):
    return trim(messages, budget * target, model)  # the prefix moves on every turn


def _wrong_headroom_to_budget(messages, budget, model=MODEL, target=0.7):
    return trim(messages, budget, model)  # no headroom: the next turn trims again


def _wrong_headroom_fixed_target(messages, budget, model=MODEL, target=0.7):
    return trim_with_headroom(messages, budget, model, 0.7)


WRONG = {
    "check_trim_to_budget": [_wrong_trim_drops_system, _wrong_trim_strict_less, _wrong_trim_per_message_sum,
                             _wrong_trim_splits_tools, _wrong_trim_skips_gaps, _wrong_trim_fixed_model,
                             _wrong_trim_can_empty],
    "check_chat_turn": [_wrong_turn_untrimmed, _wrong_turn_keeps_full_history, _wrong_turn_trims_before_append,
                        _wrong_turn_returns_response, _wrong_turn_no_reply_in_history,
                        _wrong_turn_gpt4_era_request, _wrong_turn_no_reasoning_effort],
    "check_stretch_trim_with_headroom": [_wrong_headroom_always_trims, _wrong_headroom_to_budget,
                                         _wrong_headroom_fixed_target],
}
