"""Checks for lab12_summary_memory: compact a conversation by replacing its old
turns with one model-written summary.

    from llmlab.checks import lab12
    from llmlab.checks.lab12 import SUMMARY_INSTRUCTIONS, SUMMARY_PREFIX
    lab12.check_compact(compact, lab.client, lab.models.chat)
    lab12.check_stretch_unsupported_facts(unsupported_facts)   # optional
"""

from __future__ import annotations

import copy
from typing import Any

from . import Case, FakeChatClient, Report, chat_completion, expect, run_cases

SUMMARY_INSTRUCTIONS = (
    "You write the memory of a chat assistant. Summarise the conversation below in at most three short "
    "sentences: the facts the user gave, what was decided, and what is still open. Use only what the "
    "conversation says."
)
SUMMARY_PREFIX = "Summary of the earlier conversation: "

SYSTEM = {"role": "system", "content": "You are the booking assistant of Fjord Hotels. Be brief."}
TURNS = [
    {"role": "user", "content": "Hi, I'm Ines. I want a room in Bergen from 3 to 6 June."},
    {"role": "assistant", "content": "Hello Ines. A double or a single room?"},
    {"role": "user", "content": "A double, with a sea view if possible."},
    {"role": "assistant", "content": "Noted: double room, sea view, Bergen, 3 to 6 June."},
    {"role": "user", "content": "Is breakfast included?"},
    {"role": "assistant", "content": "Yes, breakfast is included in every rate."},
    {"role": "user", "content": "Great. Can I pay at the hotel?"},
    {"role": "assistant", "content": "Yes, you can pay on arrival."},
]
HISTORY = [SYSTEM] + TURNS
FAKE_SUMMARY = "  Ines wants a double room with a sea view in Bergen, 3-6 June.  "


def _line(m: dict) -> str:
    return f"{m['role']}: {m['content']}"


def _summary(text: str) -> dict:
    return {"role": "system", "content": SUMMARY_PREFIX + text}


def _compact(fn, history, keep_last=2, max_summary_tokens=120, replies=(FAKE_SUMMARY,), model="fake-model"):
    client = FakeChatClient([chat_completion(r) for r in replies],
                            too_many="request {n} was not expected: you called the API more often than expected")
    history = copy.deepcopy(history)
    before = copy.deepcopy(history)
    out = fn(history, client, model, keep_last, max_summary_tokens)
    expect(history == before, "do not change the history you were given: return a new list")
    expect(isinstance(out, list), f"return the compacted history as a list, not {type(out).__name__}")
    return client, out


def _nothing_to_do(fn):
    for history, keep in ((HISTORY[:5], 2), (HISTORY, 4), (HISTORY[:1], 1)):
        client, out = _compact(fn, history, keep_last=keep)
        expect(not client.requests, f"{(len(history) - 1) // 2} turns with keep_last={keep}: nothing is old enough, "
                                    "so make no API call")
        expect(out == history, "with nothing to compact, return the history unchanged (as a new list)")


def _structure(fn):
    client, out = _compact(fn, HISTORY, keep_last=2)
    expect(len(client.requests) == 1, f"one summary call per compaction, you made {len(client.requests)}")
    expect(out[:1] == [SYSTEM], "the system message stays first")
    expect(out[2:] == TURNS[-4:], "keep the last keep_last turns (a turn starts at a user message), unchanged")
    expect(len(out) == 6, f"system + summary + 2 turns of 2 messages = 6 messages, you returned {len(out)}")
    expect(out[1] == _summary(FAKE_SUMMARY.strip()),
           "the summary is one {'role': 'system', 'content': SUMMARY_PREFIX + the reply's text, stripped}, "
           "right after the system message")


def _request(fn):
    client, _ = _compact(fn, HISTORY, keep_last=1, max_summary_tokens=90, model="small-model")
    sent = client.requests[0]
    expect(sent.get("model") == "small-model", "summarise with the model you were given")
    expect("max_tokens" not in sent, "max_tokens is deprecated (the SDK says so) and reasoning models take "
                                     "max_completion_tokens: cap the summary with "
                                     "max_completion_tokens=max_summary_tokens")
    expect(sent.get("max_completion_tokens") == 90, "cap the summary with max_completion_tokens=max_summary_tokens")
    expect(sent.get("temperature") == 0, "summarise with temperature=0")
    expect(sent.get("reasoning_effort") == "none", "send reasoning_effort='none' with temperature=0: GPT-6 models "
                                                   "take temperature only with reasoning off")
    expect(set(sent) == {"model", "messages", "max_completion_tokens", "temperature", "reasoning_effort"},
           "send only model, messages, max_completion_tokens, temperature and reasoning_effort "
           f"(you sent {sorted(sent)})")
    messages = sent.get("messages") or []
    expect(len(messages) == 2 and messages[0] == {"role": "system", "content": SUMMARY_INSTRUCTIONS},
           "the request is two messages: {'role': 'system', 'content': SUMMARY_INSTRUCTIONS}, then the transcript")
    transcript = messages[1].get("content", "")
    expect(messages[1].get("role") == "user", "the transcript goes in a user message")
    expect(SYSTEM["content"] not in transcript,
           "the chat's own system message is kept as it is: it does not belong in the transcript")
    expect(TURNS[-1]["content"] not in transcript and TURNS[-2]["content"] not in transcript,
           "the turns you keep are not summarised")
    expect(transcript == "\n".join(_line(m) for m in TURNS[:-2]),
           "the transcript is one line per old message, 'role: content', joined with newlines, oldest first")


def _turns_not_messages(fn):
    turns = [
        {"role": "user", "content": "Book the room, please."},
        {"role": "assistant", "content": "Booked: reference FJ-2291."},
        {"role": "user", "content": "And a table for dinner at 19:00?"},
        {"role": "assistant", "content": "One moment."},
        {"role": "assistant", "content": "Done: table for two at 19:00."},
    ]
    client, out = _compact(fn, HISTORY + turns, keep_last=1)
    expect(out[2:] == turns[2:], "keep_last counts turns, not messages: a turn is a user message and every message "
                                 "after it up to the next user message (here one user and two assistant messages)")
    transcript = client.requests[0]["messages"][1]["content"]
    expect("FJ-2291" in transcript, "everything before the kept turns is summarised")


def _rolling(fn):
    earlier = _summary("Ines booked a double room in Bergen for 3-6 June.")
    history = [SYSTEM, earlier] + TURNS[4:]
    client, out = _compact(fn, history, keep_last=1, replies=("Breakfast is included.",))
    summaries = [m for m in out if m["content"].startswith(SUMMARY_PREFIX)]
    expect(len(summaries) == 1, f"compacting twice must leave one summary message, not {len(summaries)}: the "
                                "earlier summary is old content too")
    transcript = client.requests[0]["messages"][1]["content"]
    expect(transcript.split("\n")[0] == _line(earlier),
           "fold the earlier summary into the new one: it is the first line of the transcript ('system: ...')")
    expect(out == [SYSTEM, _summary("Breakfast is included.")] + TURNS[-2:], "system, the new summary, the last turn")


def _keep_none(fn):
    client, out = _compact(fn, HISTORY, keep_last=0)
    expect(out == [SYSTEM, _summary(FAKE_SUMMARY.strip())], "with keep_last=0 every turn is summarised")
    expect(client.requests[0]["messages"][1]["content"] == "\n".join(_line(m) for m in TURNS),
           "with keep_last=0 the transcript holds every turn")


def _live(client, model):
    def run(fn):
        spy = FakeChatClient(inner=client, miss_hint=(
            "the summary request differs from the recorded one: send only model, the two messages (instructions, "
            "transcript), max_completion_tokens, temperature=0 and reasoning_effort='none', as in 'the summary "
            "request' case"))
        history = [SYSTEM] + TURNS[:6]
        out = fn(copy.deepcopy(history), spy, model, 1, 60)
        expect(len(spy.requests) == 1, "one real summary call")
        text = spy.responses[0].choices[0].message.content
        expect(out == [SYSTEM, _summary(text.strip())] + TURNS[4:6],
               "system message, the real summary (prefixed, stripped), then the last turn")
    return run


def check_compact(fn, client: Any = None, model: str | None = None, quiet: bool = False) -> Report:
    """With `client` (lab.client) and `model`, one more case makes a real summary call (replayed)."""
    cases = [
        Case("nothing old enough: no call", _nothing_to_do),
        Case("system, summary, last turns", _structure),
        Case("the summary request", _request),
        Case("keep_last counts turns", _turns_not_messages),
        Case("an earlier summary is folded in", _rolling),
        Case("keep_last=0 summarises everything", _keep_none),
    ]
    if client is not None:
        cases.append(Case("one real summary call", _live(client, model)))
    return run_cases("compact", fn, cases, quiet)


# -- optional stretch: check the summary ---------------------------------------------------------

TRANSCRIPT = "\n".join(_line(m) for m in TURNS + [
    {"role": "user", "content": "Book the room, please."},
    {"role": "assistant", "content": "Booked: reference FJ-2291."},
    {"role": "user", "content": "And a table for dinner at 19:00?"},
    {"role": "assistant", "content": "Done: a table for two at 19:00."},
])


def _facts(fn, summary: str, transcript: str = TRANSCRIPT) -> list[str]:
    got = fn(summary, transcript)
    expect(isinstance(got, list) and all(isinstance(f, str) for f in got),
           f"return a list of strings (the unsupported facts), not {got!r:.80}")
    return got


def _uf_supported(fn):
    got = _facts(fn, "Ines booked a double room in Bergen from 3 to 6 June (reference FJ-2291), dinner at 19:00.")
    expect(got == [], f"every number and identifier in this summary is in the transcript, yet you reported {got}: "
                      "strip punctuation from both ends of each word before comparing ('FJ-2291.' is 'FJ-2291')")


def _uf_invented(fn):
    got = _facts(fn, "Ines has reference FJ-2292 and a table at 20:00 on 3 June.")
    expect(got == ["FJ-2292", "20:00"],
           f"FJ-2292 and 20:00 appear nowhere in the transcript (3 and June do): expected ['FJ-2292', '20:00'], "
           f"got {got}. Report whole words, in the order of the summary")


def _uf_words(fn):
    got = _facts(fn, "Room 229 is booked for 3-6 June.")
    expect("229" in got, f"229 is not in the transcript: 'FJ-2291' contains the characters, not the word (got {got})")
    expect("3-6" in got, f"'3-6' is not a word of the transcript, which says '3 to 6' (got {got})")
    expect(got == ["229", "3-6"], f"expected ['229', '3-6'], got {got}")


def _uf_only_digits(fn):
    got = _facts(fn, "Ines loves Paris and asked about FJ-9999, FJ-9999 and again FJ-9999.")
    expect("Paris" not in got and "Ines" not in got,
           f"only words with a digit in them are facts to check (got {got}): a name is left to a human reader")
    expect(got == ["FJ-9999"], f"report each unsupported fact once (got {got})")


def check_stretch_unsupported_facts(fn, quiet: bool = False) -> Report:
    """Optional: unsupported_facts(summary, transcript) lists the summary's numbers and ids the transcript lacks."""
    return run_cases("unsupported_facts (optional)", fn, [
        Case("a faithful summary: nothing to report", _uf_supported),
        Case("invented numbers and ids", _uf_invented),
        Case("whole words, not characters", _uf_words),
        Case("only words with digits, each once", _uf_only_digits),
    ], quiet)
