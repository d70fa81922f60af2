"""Doubles for lab12_summary_memory: compact and unsupported_facts."""

import re

from llmlab.checks.lab12 import SUMMARY_INSTRUCTIONS, SUMMARY_PREFIX


def _line(m):
    return f"{m['role']}: {m['content']}"


def _split(history, keep_last, by_messages=False):
    head = history[:1] if history and history[0]["role"] == "system" else []
    body = history[len(head):]
    if by_messages:
        cut = max(len(body) - keep_last, 0)
    else:
        starts = [i for i, m in enumerate(body) if m["role"] == "user"]
        if len(starts) <= keep_last:
            return head, [], body
        cut = starts[len(starts) - keep_last] if keep_last else len(body)
    return head, body[:cut], body[cut:]


REQUEST = {"temperature": 0, "reasoning_effort": "none"}


def _summarise(client, model, old, max_tokens, with_system=None, gpt4_era=False):
    lines = "\n".join(_line(m) for m in (with_system or []) + old)
    cap = {"max_tokens": max_tokens, "temperature": 0} if gpt4_era else {"max_completion_tokens": max_tokens, **REQUEST}
    reply = client.chat.completions.create(
        model=model, **cap,
        messages=[{"role": "system", "content": SUMMARY_INSTRUCTIONS}, {"role": "user", "content": lines}])
    return {"role": "system", "content": SUMMARY_PREFIX + reply.choices[0].message.content.strip()}


def compact(history, client, model, keep_last=2, max_summary_tokens=120):
    head, old, recent = _split(history, keep_last)
    if not old:
        return list(history)
    return head + [_summarise(client, model, old, max_summary_tokens)] + recent


_EDGES = ".,;:!?()[]\"'"


def _words(text, strip=True):
    return [w.strip(_EDGES) if strip else w for w in text.split()]


def _unsupported(summary, transcript, strip=True, substring=False, unique=True, digits_only=False, every_word=False):
    known = set(_words(transcript, strip))
    if digits_only:
        candidates = re.findall(r"\d+", summary)
    else:
        candidates = [w for w in _words(summary, strip) if every_word or any(ch.isdigit() for ch in w)]
    found = []
    for word in candidates:
        supported = word in transcript if substring else word in known
        if word and not supported and (not unique or word not in found):
            found.append(word)
    return found


def unsupported_facts(summary, transcript):
    return _unsupported(summary, transcript)


REFERENCE = {
    "check_compact": compact,
    "check_stretch_unsupported_facts": unsupported_facts,
}


# -- compact --------------------------------------------------------------------------------------

def _wrong_keeps_messages(history, client, model, keep_last=2, max_summary_tokens=120):
    head, old, recent = _split(history, keep_last, by_messages=True)
    if not old:
        return list(history)
    return head + [_summarise(client, model, old, max_summary_tokens)] + recent


def _wrong_drops_system(history, client, model, keep_last=2, max_summary_tokens=120):
    _, old, recent = _split(history, keep_last)
    if not old:
        return list(history)
    return [_summarise(client, model, old, max_summary_tokens)] + recent


def _wrong_summarises_system(history, client, model, keep_last=2, max_summary_tokens=120):
    head, old, recent = _split(history, keep_last)
    if not old:
        return list(history)
    return head + [_summarise(client, model, old, max_summary_tokens, with_system=head)] + recent


def _wrong_ignores_cap(history, client, model, keep_last=2, max_summary_tokens=120):
    head, old, recent = _split(history, keep_last)
    if not old:
        return list(history)
    return head + [_summarise(client, model, old, 256)] + recent


def _wrong_always_calls(history, client, model, keep_last=2, max_summary_tokens=120):
    head, old, recent = _split(history, keep_last)
    return head + [_summarise(client, model, old, max_summary_tokens)] + recent


def _wrong_stacks_summaries(history, client, model, keep_last=2, max_summary_tokens=120):
    head = [m for m in history if m["role"] == "system"]
    turns = [m for m in history if m["role"] != "system"]
    _, old, recent = _split(turns, keep_last)
    if not old:
        return list(history)
    return head + [_summarise(client, model, old, max_summary_tokens)] + recent


def _wrong_gpt4_era_request(history, client, model, keep_last=2, max_summary_tokens=120):
    head, old, recent = _split(history, keep_last)
    if not old:
        return list(history)
    return head + [_summarise(client, model, old, max_summary_tokens, gpt4_era=True)] + recent


# -- unsupported_facts ------------------------------------------------------------------------------

def _wrong_facts_substring(summary, transcript):
    return _unsupported(summary, transcript, substring=True)


def _wrong_facts_no_strip(summary, transcript):
    return _unsupported(summary, transcript, strip=False)


def _wrong_facts_repeats(summary, transcript):
    return _unsupported(summary, transcript, unique=False)


def _wrong_facts_digit_runs(summary, transcript):
    return _unsupported(summary, transcript, digits_only=True)


def _wrong_facts_every_word(summary, transcript):
    return _unsupported(summary, transcript, every_word=True)


WRONG = {
    "check_compact": [_wrong_keeps_messages, _wrong_drops_system, _wrong_summarises_system, _wrong_ignores_cap,
                      _wrong_always_calls, _wrong_stacks_summaries, _wrong_gpt4_era_request],
    "check_stretch_unsupported_facts": [_wrong_facts_substring, _wrong_facts_no_strip, _wrong_facts_repeats,
                                        _wrong_facts_digit_runs, _wrong_facts_every_word],
}
