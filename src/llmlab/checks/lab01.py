"""Checks for lab01_chat_history_budget: trim a chat history to a token budget,
then run one chat turn with it.

    from llmlab.checks import lab01
    lab01.check_trim_to_budget(trim_to_budget)
    lab01.check_chat_turn(chat_turn, lab.client, lab.models.chat)
    lab01.check_stretch_trim_with_headroom(trim_with_headroom)   # optional
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .. import catalogue
from ..tokens import count_message_tokens
from . import Case, FakeChatClient, Report, chat_completion, expect, run_cases

# The fixed cases count with the kit's OpenAI chat model (catalogue.yaml). tiktoken maps no GPT-6
# name, so llmlab.tokens counts it with o200k_base, the encoding of OpenAI's models since gpt-4o.
MODEL = str(catalogue.default_model("openai", "chat"))
# A model with another tokenizer: gpt-4 is shut down (catalogue status), kept only for cl100k_base.
OLD_TOKENIZER_MODEL = "gpt-4"
# GPT-6 chat models take temperature only with reasoning off, and max_completion_tokens, not max_tokens.
REQUEST = {"temperature": 0, "reasoning_effort": "none", "max_completion_tokens": 60}

SYSTEM = {"role": "system", "content": "You are a patient cooking assistant. Keep answers short."}
CHAT = [
    SYSTEM,
    {"role": "user", "content": "I want to bake bread this weekend. Where do I start?"},
    {"role": "assistant",
     "content": "Start with a simple white loaf: flour, water, salt and yeast, kneaded for ten minutes."},
    {"role": "user", "content": "How long should the dough rise?"},
    {"role": "assistant", "content": "About an hour at room temperature, until it has doubled in size."},
    {"role": "user", "content": "And the oven temperature?"},
    {"role": "assistant", "content": "Bake at 220 °C for 30 to 35 minutes."},
    {"role": "user", "content": "Can I use whole-wheat flour instead?"},
]
LONG_MIDDLE = [
    SYSTEM,
    {"role": "user", "content": "What is the stretch-and-fold method?"},
    {"role": "assistant", "content": "Instead of kneading, you strengthen the dough in rounds: " + ", ".join(
        f"round {i}: lift one side, fold it over, turn the bowl and let it rest" for i in range(1, 13)) + "."},
    {"role": "user", "content": "Is it worth the effort?"},
    {"role": "assistant", "content": "Yes: the crumb gets more open."},
    {"role": "user", "content": "Thanks!"},
]
TOOLS_CHAT: list[dict[str, Any]] = [
    SYSTEM,
    {"role": "user", "content": "Convert 500 g of flour to cups, and 250 ml of water to cups."},
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_flour", "type": "function",
         "function": {"name": "convert", "arguments": '{"amount": 500, "unit": "g", "ingredient": "flour"}'}},
        {"id": "call_water", "type": "function",
         "function": {"name": "convert", "arguments": '{"amount": 250, "unit": "ml", "ingredient": "water"}'}},
    ]},
    {"role": "tool", "tool_call_id": "call_flour", "content": '{"cups": 4.0}'},
    {"role": "tool", "tool_call_id": "call_water", "content": '{"cups": 1.06}'},
    {"role": "assistant", "content": "500 g of flour is about 4 cups; 250 ml of water is just over 1 cup."},
    {"role": "user", "content": "Great, thanks."},
]


def _tokens(messages: list[dict], model: str = MODEL) -> int:
    return count_message_tokens(messages, model)


def _roles(messages: list[dict]) -> list[str]:
    return [m["role"] for m in messages]


def _call_trim(fn: Callable, messages: list[dict], budget: int, model: str = MODEL) -> list[dict]:
    before = copy.deepcopy(messages)
    kept = fn(messages, budget, model)
    expect(isinstance(kept, list), f"return a list of messages, not {type(kept).__name__}")
    expect(messages == before, "do not change the list you were given: build and return a new one")
    return kept


# -- trim_to_budget -------------------------------------------------------------

def _fits_already(fn):
    budget = _tokens(CHAT) + 10
    kept = _call_trim(fn, CHAT, budget)
    expect(kept == CHAT, "when the whole history fits the budget, every message must be kept in order")


def _keeps_system(fn):
    budget = _tokens([SYSTEM] + CHAT[-3:])
    kept = _call_trim(fn, CHAT, budget)
    expect(bool(kept) and kept[0] == SYSTEM,
           "the system message must stay first, whatever the budget (it holds the instructions)")


def _exact_boundary(fn):
    for k in (2, 4):
        budget = _tokens([SYSTEM] + CHAT[-k:])  # exactly the tokens of the newest k messages
        kept = _call_trim(fn, CHAT, budget)
        expect(len(kept) == k + 1,
               f"with a budget exactly equal to count_message_tokens(system + newest {k} messages) you kept "
               f"{len(kept) - 1} non-system messages, expected {k}. A total equal to the budget fits; count "
               "the candidate list as a whole (the reply priming is counted once, not once per message)")
        expect(kept[1:] == CHAT[-k:], "keep the most recent messages, in their original order")
        kept = _call_trim(fn, CHAT, budget - 1)
        expect(len(kept) == k, f"one token less than that budget must drop one more message (kept {len(kept) - 1})")


def _contiguous(fn):
    newest = LONG_MIDDLE[-3:]
    budget = _tokens([SYSTEM] + newest) + 5  # the long explanation in the middle can never fit
    kept = _call_trim(fn, LONG_MIDDLE, budget)
    expect(kept == [SYSTEM] + newest,
           "keep the newest messages that fit and stop at the first one that does not")
    budget = _tokens([SYSTEM, LONG_MIDDLE[1]] + newest)  # room for the short first question too, after a gap
    kept = _call_trim(fn, LONG_MIDDLE, budget)
    expect(kept == [SYSTEM] + newest,
           "you skipped a newer message that did not fit and kept an older one: the kept history must be "
           "the newest unbroken stretch, or the model reads answers to questions it never saw")


def _tool_group(fn):
    from_tools = TOOLS_CHAT[2:]  # the tool-call message, its two results, the answer, the last user message
    for k in (2, 3, 4):
        budget = _tokens([SYSTEM] + TOOLS_CHAT[-k:])  # would cut into the tool results
        kept = _call_trim(fn, TOOLS_CHAT, budget)
        ids = {tc["id"] for m in kept for tc in m.get("tool_calls") or []}
        answered = {m["tool_call_id"] for m in kept if m["role"] == "tool"}
        expect(answered <= ids,
               f"budget {budget}: a tool result was kept without the assistant message whose tool_calls it "
               "answers (the API rejects that with a 400): drop a tool-call message and its results together")
        expect(ids <= answered, f"budget {budget}: a tool call was kept without all of its results")
        expect(kept == [SYSTEM] + TOOLS_CHAT[-2:],
               "when the tool results do not all fit, the whole group (assistant tool_calls + its tool "
               "messages) goes, and nothing older is kept")
    budget = _tokens([SYSTEM] + from_tools)
    kept = _call_trim(fn, TOOLS_CHAT, budget)
    expect(kept == [SYSTEM] + from_tools,
           "when the whole tool-call group fits, keep it (the call and both results) with the newer messages")


def _newest_always(fn):
    kept = _call_trim(fn, CHAT, 5)
    expect(kept == [SYSTEM, CHAT[-1]],
           "even when nothing fits, keep the system message and the newest message (the question being "
           "asked): without it there is nothing to answer")


def _model_encoding(fn):
    text = [SYSTEM, {"role": "user", "content": "Übermäßig große Brötchen für das Frühstück?"},
            {"role": "assistant", "content": "Ja, backe sie bei 200 °C."}, {"role": "user", "content": "Danke!"}]
    # gpt-4 counts with cl100k_base, which needs more tokens for this German than o200k_base
    budget = _tokens(text, MODEL)
    expect(_tokens(text, OLD_TOKENIZER_MODEL) > budget, "internal: fixture no longer separates the encodings")
    kept = _call_trim(fn, text, budget, OLD_TOKENIZER_MODEL)
    # counted with cl100k_base, the three newest messages fit and the German question does not
    expect(kept == [text[0], text[2], text[3]],
           "count with the model you were given (pass it to count_message_tokens): this case passes gpt-4, a "
           f"retired model whose cl100k_base tokenizer needs more tokens for German than {MODEL}'s o200k_base")


TRIM_CASES = [
    Case("whole history fits: kept as is", _fits_already),
    Case("system message survives trimming", _keeps_system),
    Case("a total equal to the budget fits", _exact_boundary),
    Case("newest contiguous messages only", _contiguous),
    Case("tool call never split from its results", _tool_group),
    Case("newest message kept even over budget", _newest_always),
    Case("counts with the given model's tokenizer", _model_encoding),
]


def check_trim_to_budget(fn, quiet: bool = False) -> Report:
    return run_cases("trim_to_budget", fn, TRIM_CASES, quiet)


# -- chat_turn ---------------------------------------------------------------------

# The request the chat_turn cassette recorded, said back to a learner whose request differs.
MISS_HINT = ("the request you sent is not the one the cassette recorded: send exactly model, the trimmed "
             "messages, temperature=0, reasoning_effort='none' and max_completion_tokens=60, nothing else")
TOO_MANY = "request {n} was not expected: you called the API more often than expected"


def _turn(fn, history, text, budget, replies=("Yes, use about 10% more water.",), model="fake-model"):
    client = FakeChatClient([chat_completion(r) for r in replies], too_many=TOO_MANY)
    reply = fn(client, model, history, text, budget)
    return client, reply


def _appends(fn):
    history = copy.deepcopy(CHAT[:-1])
    same = history
    client, reply = _turn(fn, history, "Can I use whole-wheat flour instead?", budget=10_000)
    expect(history is same, "update the history list in place (append to it), do not rebind a new list")
    expect(len(client.requests) == 1, f"one turn makes exactly one API call, you made {len(client.requests)}")
    expect(history[-1] == {"role": "assistant", "content": "Yes, use about 10% more water."},
           "append the reply as {'role': 'assistant', 'content': <the reply's text>} after the call")
    expect(history[-2] == {"role": "user", "content": "Can I use whole-wheat flour instead?"},
           "append the user's text as {'role': 'user', 'content': user_text} before calling the API")
    expect(reply == "Yes, use about 10% more water.", "return the reply's text (a str), not the response object")


def _request_shape(fn):
    history = copy.deepcopy(CHAT[:-1])
    client, _ = _turn(fn, history, "Can I use whole-wheat flour instead?", budget=10_000, model="my-model")
    sent = client.requests[0]
    expect(sent.get("model") == "my-model", "send the model you were given")
    expect(sent.get("messages") == CHAT, "with a large budget the request carries the whole history, user turn last")
    extra = {k: v for k, v in sent.items() if k not in ("model", "messages")}
    expect("max_tokens" not in extra, "max_tokens is deprecated (the SDK says so) and reasoning models take "
                                      "max_completion_tokens: cap the reply with max_completion_tokens=60")
    expect(extra == REQUEST,
           "besides model and messages send exactly temperature=0, reasoning_effort='none' (GPT-6 models take "
           f"temperature only with reasoning off) and max_completion_tokens=60 (you sent {extra})")


def _sends_trimmed(fn):
    history = copy.deepcopy(CHAT[:-1])
    budget = _tokens([SYSTEM] + CHAT[-3:], "fake-model")
    client, _ = _turn(fn, history, CHAT[-1]["content"], budget)
    sent = client.requests[0]["messages"]
    expect(sent == [SYSTEM] + CHAT[-3:],  # the budget is exactly the count of these
           "send the history trimmed with trim_to_budget(history, budget, model) after appending the user "
           f"turn (sent roles {_roles(sent)})")
    expect(history == sent + [{"role": "assistant", "content": "Yes, use about 10% more water."}],
           "after the turn the history holds what was sent plus the reply: the trimmed messages are dropped "
           "from it for good")


def _trims_every_turn(fn):
    history = [SYSTEM]
    budget = _tokens([SYSTEM] + CHAT[-3:], "fake-model")
    replies = ("Start with a white loaf.", "About an hour.", "Bake at 220 °C.")
    client = FakeChatClient([chat_completion(r) for r in replies],
                            too_many=TOO_MANY)
    for text in ("Where do I start with bread?", "How long should the dough rise?", "And the oven temperature?"):
        fn(client, "fake-model", history, text, budget)
    for sent in client.requests:
        expect(_tokens(sent["messages"], "fake-model") <= budget,
               "every request must fit the budget once trimmed (trim on every turn, after appending the user text)")
    expect(history[0] == SYSTEM and history[-1]["content"] == "Bake at 220 °C.",
           "after three turns the history starts with the system message and ends with the latest reply")


def _live(client, model):
    def run(fn):
        spy = FakeChatClient(inner=client, miss_hint=MISS_HINT)
        history = [{"role": "system", "content": "You are a friendly travel assistant. Answer in one sentence."}]
        budget = 60
        replies = []
        for text in ("I am planning a weekend in Lisbon in May. What should I pack?",
                     "Which neighbourhood is good for an evening walk?"):
            replies.append(fn(spy, model, history, text, budget))
        expect(len(spy.requests) == 2, f"two turns make two API calls, you made {len(spy.requests)}")
        for sent in spy.requests:
            expect(_tokens(sent["messages"], model) <= budget or len(sent["messages"]) == 2,
                   "a request went over the budget: trim before you send")
        second = spy.requests[1]["messages"]
        expect(second[0] == history[0] and second[-1]["content"].startswith("Which neighbourhood"),
               "the second request keeps the system message and ends with the new question")
        expect(len(second) < 4, "with a 60-token budget the first exchange must be trimmed from the second request")
        real = [r.choices[0].message.content for r in spy.responses]
        expect(replies == real, "return the text of the real reply for each turn")
        expect(history[-1] == {"role": "assistant", "content": real[-1]}, "the history ends with the real reply")
    return run


def check_chat_turn(fn, client: Any = None, model: str | None = None, quiet: bool = False) -> Report:
    """With `client` (lab.client) and `model`, one more case runs two real turns (replayed)."""
    cases = [
        Case("appends the user turn and the reply", _appends),
        Case("request: temperature, reasoning off, max_completion_tokens", _request_shape),
        Case("sends the trimmed history and keeps it", _sends_trimmed),
        Case("stays under budget turn after turn", _trims_every_turn),
    ]
    if client is not None:
        cases.append(Case("two real turns through the API", _live(client, model)))
    return run_cases("chat_turn", fn, cases, quiet)


# -- optional stretch: trim with headroom ------------------------------------------------------

def _headroom(fn, messages, budget, **kwargs):
    before = copy.deepcopy(messages)
    kept = fn(messages, budget, MODEL, **kwargs)
    expect(isinstance(kept, list), f"return a list of messages, not {type(kept).__name__}")
    expect(messages == before, "do not change the list you were given")
    return kept


def _hr_fits(fn):
    for budget in (_tokens(CHAT), _tokens(CHAT) + 30):
        expect(_headroom(fn, CHAT, budget) == CHAT,
               f"the whole history ({_tokens(CHAT)} tokens) fits a budget of {budget}: keep every message, even "
               "when it is above the target. Trimming while it still fits changes the prompt's prefix for nothing")


def _hr_target(fn):
    kept = _headroom(fn, CHAT, 120)
    expect(len(kept) != 7, "over budget, you trimmed to the budget itself (120 tokens): trim down to target * budget "
                           "(84 tokens) so the next turns fit without trimming again")
    expect(kept == [SYSTEM] + CHAT[-4:],
           f"over a budget of 120 with target 0.7, keep what trim_to_budget keeps for 84 tokens (kept roles "
           f"{_roles(kept)})")
    kept = _headroom(fn, CHAT, 120, target=0.5)
    expect(kept == [SYSTEM] + CHAT[-3:], "use the target you were given: 0.5 * 120 is 60 tokens")


def _hr_rules(fn):
    kept = _headroom(fn, TOOLS_CHAT, 100)
    expect(kept == [SYSTEM] + TOOLS_CHAT[-2:],
           "trimming with headroom follows the rules of trim_to_budget (system first, whole tool groups, newest "
           "unbroken stretch): reuse your trim_to_budget")


def _hr_fewer_trims(fn):
    history, trims = [SYSTEM], 0
    for message in CHAT[1:]:
        grown = history + [message]
        history = _headroom(fn, grown, 80)
        expect(_tokens(history) <= 80 or len(history) == 2, "every result must fit the budget")
        trims += history != grown
    expect(trims <= 2, f"growing the chat one message at a time under a budget of 80, you trimmed {trims} times; "
                       "with headroom twice is enough (trimming to the budget trims on almost every turn)")


def check_stretch_trim_with_headroom(fn, quiet: bool = False) -> Report:
    """Optional: trim only when over budget, and then down to target * budget."""
    return run_cases("trim_with_headroom (optional)", fn, [
        Case("a history that fits is kept whole", _hr_fits),
        Case("over budget: down to target * budget", _hr_target),
        Case("the rules of trim_to_budget still hold", _hr_rules),
        Case("fewer trims over a growing chat", _hr_fewer_trims),
    ], quiet)
