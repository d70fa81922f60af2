"""Checks for lab09_cost_tracker_budget: a worst-case cost estimate before a
call, a tracker that attributes spend to features from `usage`, and a budget
guard that refuses a call that could break the limit.

    from llmlab.checks import lab09
    lab09.check_estimate_cost(estimate_cost)
    lab09.check_cost_tracker(CostTracker)
    lab09.check_budget_guard(BudgetGuard)
    lab09.check_stretch_feature_budget_guard(FeatureBudgetGuard)   # optional

Usage objects are fixed `openai.types.CompletionUsage` values; prices come from
llmlab.tokens (its dated table, read from the model catalogue), so the expected
dollars follow the table. The models priced are current OpenAI chat models from the
catalogue, plus one retired model kept for its older tokenizer.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from openai.types import CompletionUsage
from openai.types.completion_usage import PromptTokensDetails

from .. import catalogue, tokens
from ..tokens import count_tokens
from . import Case, Report, expect, run_cases

MESSAGES = [
    {"role": "system",
     "content": "You are the support assistant of an online shop. Answer in at most three sentences."},
    {"role": "user",
     "content": "My blender arrived with a cracked jug. Can I get a replacement, and how long will it take?"},
]
# The models the checks price with (src/llmlab/catalogue.yaml): the kit's OpenAI chat model, a
# larger model of the same family and one between them, all current when the lab was written.
SMALL = str(catalogue.default_model("openai", "chat"))  # gpt-6-luna
LARGE = "gpt-6-sol"
MIDDLE = "gpt-6.1-terra"
# Shut down (catalogue status, last list price kept): here only because it counts with the older
# cl100k_base tokenizer, where today's OpenAI models count with o200k_base.
RETIRED = "gpt-4-turbo"

GERMAN = [
    {"role": "system", "content": "Du bist ein freundlicher Kundendienst. Antworte kurz."},
    {"role": "user", "content": "Meine Bestellung ist beschädigt angekommen. Bekomme ich eine Rückerstattung?"},
]


def usage(prompt: int, completion: int, cached: int | None = None, details: bool = True) -> CompletionUsage:
    """A usage object as the SDK returns it (cached tokens in prompt_tokens_details)."""
    return CompletionUsage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=cached) if details else None)


def _close(a: Any, b: float) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)


def _usd(x: float) -> str:
    return f"${x:.8f}" if isinstance(x, (int, float)) else repr(x)


# -- estimate_cost ---------------------------------------------------------------

# What count_message_tokens says for the fixtures (content, framing and reply priming). Counts
# are fixed by the tokenizers (o200k_base for SMALL and LARGE, cl100k_base for RETIRED); dollars
# follow the price table, so they are computed from these.
PROMPT_TOKENS = {("MESSAGES", SMALL): 49, ("MESSAGES", LARGE): 49, ("GERMAN", RETIRED): 48,
                 ("GERMAN", SMALL): 39}


def _worst_case(which: str, model: str, max_completion_tokens: int) -> float:
    return tokens.cost(model, PROMPT_TOKENS[(which, model)], max_completion_tokens).total


def _diagnose_estimate(got, which, model, max_completion_tokens) -> str:
    messages = MESSAGES if which == "MESSAGES" else GERMAN
    prompt = PROMPT_TOKENS[(which, model)]
    p_in, _, p_out = tokens.price(model)
    content_only = sum(count_tokens(m["content"], model) for m in messages)
    known = {
        tokens.cost(model, content_only, max_completion_tokens).total:
            "you counted only the message contents: count the whole request with count_message_tokens "
            "(it adds the per-message framing and the reply priming the API bills)",
        tokens.cost(model, prompt, 0).total:
            "the estimate leaves out the answer: the worst case is max_completion_tokens of output",
        (prompt + max_completion_tokens) * p_in / 1e6:
            "you priced the output at the input price: output tokens cost several times more (tokens.cost "
            "prices both)",
        (prompt * p_out + max_completion_tokens * p_in) / 1e6: "input and output prices are swapped",
    }
    for value, hint in known.items():
        if _close(got, value):
            return hint
    return (f"expected {_usd(_worst_case(which, model, max_completion_tokens))}, got {_usd(got)}: price the prompt as "
            "count_message_tokens counts it, plus max_completion_tokens of output, with tokens.cost")


def _call_estimate(fn, messages, model, max_completion_tokens):
    before = copy.deepcopy(messages)
    got = fn(messages, model, max_completion_tokens)
    expect(messages == before, "do not change the messages you were given")
    expect(isinstance(got, float), f"return the dollars as a float, not {type(got).__name__}")
    return got


def _estimate_value(fn):
    for model, max_completion_tokens in ((SMALL, 300), (LARGE, 120)):
        got = _call_estimate(fn, MESSAGES, model, max_completion_tokens)
        expect(_close(got, _worst_case("MESSAGES", model, max_completion_tokens)),
               f"{model}, max_completion_tokens={max_completion_tokens}: "
               + _diagnose_estimate(got, "MESSAGES", model, max_completion_tokens))


def _estimate_worst_case(fn):
    small = _call_estimate(fn, MESSAGES, SMALL, 100)
    large = _call_estimate(fn, MESSAGES, SMALL, 500)
    per_token = tokens.price(SMALL)[2] / 1e6
    expect(_close(large - small, 400 * per_token),
           "raising max_completion_tokens by 400 must add exactly 400 output tokens at the output price: the "
           "estimate assumes the model writes all max_completion_tokens (reasoning tokens count in it too)")


def _estimate_tokenizer(fn):
    got = _call_estimate(fn, GERMAN, RETIRED, 200)
    expected = _worst_case("GERMAN", RETIRED, 200)
    as_o200k = tokens.cost(RETIRED, PROMPT_TOKENS[("GERMAN", SMALL)], 200).total
    expect(not _close(expected, as_o200k), "internal: fixture no longer separates the encodings")
    expect(not _close(got, as_o200k),
           f"{RETIRED} (retired, priced at its last list price) counts with cl100k_base, not the o200k_base of "
           "today's OpenAI models: pass the model to count_message_tokens")
    expect(_close(got, expected), _diagnose_estimate(got, "GERMAN", RETIRED, 200))


def _estimate_unknown_model(fn):
    try:
        got = fn(MESSAGES, "mystery-model-9", 100)
    except KeyError:
        return  # tokens.UnknownPriceError is a KeyError
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"an unknown model should raise tokens.UnknownPriceError (you raised "
                             f"{type(exc).__name__}); let tokens.cost's error through") from None
    raise AssertionError(f"a model with no price returned {got!r}: it must raise (let tokens.UnknownPriceError "
                         "through). A guard that treats unknown models as free lets any spend through")


ESTIMATE_CASES = [
    Case("prompt tokens plus max_completion_tokens, priced", _estimate_value),
    Case("the worst case is max_completion_tokens of output", _estimate_worst_case),
    Case("counts with the model's tokenizer", _estimate_tokenizer),
    Case("an unknown model raises, it is never free", _estimate_unknown_model),
]


def check_estimate_cost(fn, quiet: bool = False) -> Report:
    return run_cases("estimate_cost", fn, ESTIMATE_CASES, quiet)


# -- CostTracker --------------------------------------------------------------------

# (feature, model, prompt tokens, completion tokens, cached prompt tokens): each call's usage,
# and what it costs by the price table.
TOKENS = [
    ("support_reply", LARGE, 820, 160, 0),
    ("ticket_triage", SMALL, 450, 4, 0),
    ("support_reply", LARGE, 1210, 240, 1024),
    ("summaries", MIDDLE, 3100, 380, 0),
    ("ticket_triage", SMALL, 470, 3, 0),
]
CALLS = [(feature, model, usage(p, c, cached)) for feature, model, p, c, cached in TOKENS]
COSTS = [tokens.cost(model, p, c, cached).total for _, model, p, c, cached in TOKENS]


def _total(tracker) -> float:
    total = tracker.total_usd
    expect(isinstance(total, (int, float)), f"total_usd must be a number of dollars, not {type(total).__name__}")
    return total


def _one_call(cls):
    tracker = cls()
    expect(_close(_total(tracker), 0.0), "a new tracker has spent nothing: total_usd == 0")
    feature, model, u = CALLS[0]
    got = tracker.record(feature, model, u)
    expected = COSTS[0]
    expect(_close(got, expected), f"record() returns the cost of that call: expected {_usd(expected)}, got "
                                  f"{_usd(got)} (tokens.cost(model, prompt_tokens, completion_tokens, cached))")
    expect(_close(_total(tracker), expected), "after one call, total_usd is that call's cost")


def _by_feature(cls):
    tracker = cls()
    for feature, model, u in CALLS:
        tracker.record(feature, model, u)
    expected: dict[str, float] = {}
    for (feature, _, _), cost in zip(CALLS, COSTS, strict=True):
        expected[feature] = expected.get(feature, 0.0) + cost
    got = tracker.by_feature()
    expect(isinstance(got, dict), f"by_feature() returns a dict {{feature: dollars}}, not {type(got).__name__}")
    expect(set(got) == set(expected), f"by_feature() must have one entry per feature: {sorted(expected)} "
                                      f"(you had {sorted(got)})")
    for feature, usd in expected.items():
        expect(_close(got[feature], usd), f"{feature}: expected {_usd(usd)}, got {_usd(got[feature])}: add up "
                                          "the cost of every call made for that feature")
    order = sorted(expected, key=lambda feature: expected[feature], reverse=True)
    expect(list(got) == order, f"list the features by spend, largest first: {order} (you had {list(got)})")
    expect(_close(_total(tracker), sum(expected.values())), "total_usd is the sum over all features")


def _cached(cls):
    tracker = cls()
    u = usage(1210, 240, 1024)
    got = tracker.record("support_reply", LARGE, u)
    full = tokens.cost(LARGE, 1210, 240).total
    expect(not _close(got, full),
           "1,024 of the 1,210 prompt tokens were cached (usage.prompt_tokens_details.cached_tokens) and are "
           "billed at the cheaper cached price: pass them to tokens.cost as cached_tokens")
    expect(_close(got, tokens.cost(LARGE, 1210, 240, 1024).total),
           f"expected {_usd(tokens.cost(LARGE, 1210, 240, 1024).total)}, got {_usd(got)}: "
           "tokens.cost(model, prompt_tokens, completion_tokens, cached_tokens)")


def _no_details(cls):
    tracker = cls()
    for u, what in ((usage(600, 90, details=False), "prompt_tokens_details is None"),
                    (usage(600, 90, cached=None), "prompt_tokens_details.cached_tokens is None")):
        got = tracker.record("ticket_triage", SMALL, u)
        expect(_close(got, tokens.cost(SMALL, 600, 90).total),
               f"when {what} (many servers send that), nothing was cached: price all prompt tokens in full")


def _no_usage(cls):
    tracker = cls()
    try:
        tracker.record("support_reply", LARGE, None)
    except ValueError:
        pass
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"for usage=None raise ValueError with a clear message (you raised "
                             f"{type(exc).__name__}: {exc})") from None
    else:
        raise AssertionError("usage=None (a stream without stream_options={'include_usage': True}) must raise "
                             "ValueError: silently recording $0 hides spend")
    expect(_close(_total(tracker), 0.0), "a refused record() must not change the totals")


# A dated snapshot the price table does not list (the catalogue lists some real ones): a new
# snapshot appears in response.model before any price table hears of it.
UNLISTED_SNAPSHOT = f"{SMALL}-2031-01-01"


def _snapshot_model(cls):
    tracker = cls()
    got = tracker.record("ticket_triage", UNLISTED_SNAPSHOT, usage(450, 4, 0))
    expect(_close(got, tokens.cost(SMALL, 450, 4).total),
           f"response.model is often a dated snapshot, sometimes one no price table lists yet ({UNLISTED_SNAPSHOT}): "
           "price it through tokens.cost, which maps snapshots to their family, "
           "instead of looking the name up yourself")


def _separate_books(cls):
    a, b = cls(), cls()
    a.record("support_reply", LARGE, usage(820, 160, 0))
    expect(_close(_total(b), 0.0) and b.by_feature() == {},
           "two trackers share their totals: create the per-feature dict in __init__ (self....), not as a "
           "class attribute")


def check_cost_tracker(cls, quiet: bool = False) -> Report:
    """`cls` is your CostTracker class (the checks create fresh instances)."""
    cases = [
        Case("records one call and returns its cost", _one_call),
        Case("attributes spend to features", _by_feature),
        Case("cached input tokens at the cached price", _cached),
        Case("usage without cache details", _no_details),
        Case("no usage is an error", _no_usage),
        Case("dated model names priced by family", _snapshot_model),
        Case("each tracker keeps its own books", _separate_books),
    ]
    return run_cases("CostTracker", cls, cases, quiet)


# -- BudgetGuard ----------------------------------------------------------------------

class Books:
    """Stands in for a tracker: the guard may read `total_usd` and nothing else."""

    def __init__(self, total_usd: float = 0.0):
        self.total_usd = total_usd

    def record(self, *args: Any, **kwargs: Any) -> float:
        raise AssertionError("the guard must not record anything: checking a budget spends nothing")


def _refused(guard, estimate: float) -> BaseException | None:
    try:
        guard.check(estimate)
    except AssertionError:
        raise
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        return exc
    return None


def _under(cls):
    books = Books(0.25)
    guard = cls(books, 1.0)
    left = guard.check(0.5)
    expect(_close(left, 0.25), f"spent $0.25 of $1.00, a $0.50 call leaves $0.25: check() returns that (got {left!r})")


def _boundary(cls):
    guard = cls(Books(0.25), 0.75)
    error = _refused(guard, 0.5)
    expect(error is None, "spent $0.25 + estimate $0.50 equals the $0.75 limit exactly: that fits (refuse only "
                          "above the limit)")
    error = _refused(guard, 0.5000001)
    expect(error is not None, "spent $0.25 + estimate $0.5000001 is over the $0.75 limit: raise BudgetExceeded")


def _counts_spent(cls):
    guard = cls(Books(0.75), 1.0)
    expect(_refused(guard, 0.5) is not None,
           "spent $0.75 of $1.00: a $0.50 call could end at $1.25. Compare spent + estimate with the limit, "
           "not the estimate alone")


def _live_spend(cls):
    books = Books(0.0)
    guard = cls(books, 1.0)
    books.total_usd = 0.9  # calls were made after the guard was created
    expect(_refused(guard, 0.2) is not None,
           "the tracker has spent $0.90 since the guard was created: read tracker.total_usd in check(), "
           "not once in __init__")


def _spends_nothing(cls):
    books = Books(0.0)
    guard = cls(books, 1.0)
    for i in range(4):
        expect(_refused(guard, 0.3) is None,
               f"check number {i + 1} of a $0.30 call with nothing spent was refused: check() must not add the "
               "estimate to anything (only the tracker records spend, after the call)")
    expect(books.total_usd == 0.0, "check() must not change the tracker's total")


def _error_details(cls):
    guard = cls(Books(0.75), 1.0)
    error = _refused(guard, 0.5)
    expect(error is not None, "spent $0.75 + $0.50 is over the $1.00 limit: raise")
    values = {name: getattr(error, name, None) for name in ("spent", "estimate", "limit")}
    expect(all(v is not None for v in values.values()),
           f"raise BudgetExceeded(spent, estimate, limit), not {type(error).__name__}: the caller needs the "
           "numbers to decide what to do (a cheaper model, a queue, a polite refusal)")
    expect(_close(values["spent"], 0.75) and _close(values["estimate"], 0.5) and _close(values["limit"], 1.0),
           f"BudgetExceeded(spent, estimate, limit) got {values}: pass them in that order")


def check_budget_guard(cls, quiet: bool = False) -> Report:
    """`cls` is your BudgetGuard class; the checks give it a stand-in tracker with a fixed total_usd."""
    cases = [
        Case("lets a call through under the limit", _under),
        Case("spent + estimate equal to the limit fits", _boundary),
        Case("counts what was already spent", _counts_spent),
        Case("reads the spend at check time", _live_spend),
        Case("checking spends nothing", _spends_nothing),
        Case("the error carries spent, estimate and limit", _error_details),
    ]
    return run_cases("BudgetGuard", cls, cases, quiet)


# -- optional stretch: a limit per feature --------------------------------------------------------

class FeatureBooks(Books):
    """Stands in for a tracker with spend per feature: the guard may read by_feature() and total_usd."""

    def __init__(self, spend: dict[str, float]):
        self.spend = dict(spend)

    @property
    def total_usd(self) -> float:  # type: ignore[override]
        return sum(self.spend.values())

    def by_feature(self) -> dict[str, float]:
        return dict(sorted(self.spend.items(), key=lambda kv: kv[1], reverse=True))


SPEND = {"support_reply": 0.30, "summaries": 0.10}
LIMITS = {"support_reply": 0.50, "summaries": 0.50}


def _feature_check(guard, feature: str, estimate: float) -> tuple[Any, BaseException | None]:
    try:
        return guard.check(feature, estimate), None
    except (AssertionError, NotImplementedError):
        raise
    except Exception as exc:  # noqa: BLE001
        return None, exc


def _fb_own_spend(cls):
    guard = cls(FeatureBooks(SPEND), dict(LIMITS))
    left, error = _feature_check(guard, "support_reply", 0.15)
    expect(error is None and _close(left, 0.05),
           f"support_reply spent $0.30 of its $0.50: a $0.15 call fits and leaves $0.05 (got {left!r}, {error!r})")
    left, error = _feature_check(guard, "summaries", 0.30)
    expect(error is None and _close(left, 0.10),
           "summaries spent $0.10 of its $0.50: a $0.30 call fits (leaving $0.10) even though all features together "
           f"spent $0.40. Compare each feature's own spend with its own limit (got {left!r}, {error!r})")


def _fb_refuses(cls):
    guard = cls(FeatureBooks(SPEND), dict(LIMITS))
    _, error = _feature_check(guard, "support_reply", 0.25)
    expect(error is not None, "support_reply spent $0.30 + $0.25 is over its $0.50 limit: raise")
    values = {name: getattr(error, name, None) for name in ("spent", "estimate", "limit")}
    expect(_close(values["spent"], 0.30) and _close(values["estimate"], 0.25) and _close(values["limit"], 0.50),
           f"raise BudgetExceeded(spent, estimate, limit) with the feature's own numbers (got {values})")
    expect(getattr(error, "feature", None) == "support_reply" or "support_reply" in str(error),
           "say which limit was hit: name the feature in the error (its message or a feature attribute)")


def _fb_unknown(cls):
    guard = cls(FeatureBooks(SPEND), dict(LIMITS))
    _, error = _feature_check(guard, "ticket_triage", 0.01)
    expect(error is not None, "ticket_triage has no limit: a feature nobody budgeted may spend nothing (a limit of 0), "
                              "or a new feature ships without anyone noticing its bill")


def _fb_boundary_and_now(cls):
    books = FeatureBooks(SPEND)
    guard = cls(books, dict(LIMITS))
    left, error = _feature_check(guard, "support_reply", 0.20)
    expect(error is None and _close(left, 0.0), "spent + estimate equal to the limit fits, as in Task 3")
    books.spend["support_reply"] = 0.45  # recorded after the guard was created
    _, error = _feature_check(guard, "support_reply", 0.10)
    expect(error is not None, "read the feature's spend from the tracker at check time, not once in __init__")


def check_stretch_feature_budget_guard(cls, quiet: bool = False) -> Report:
    """Optional: FeatureBudgetGuard(tracker, limits).check(feature, estimate) with one limit per feature."""
    return run_cases("FeatureBudgetGuard (optional)", cls, [
        Case("each feature against its own limit", _fb_own_spend),
        Case("over its limit: an error naming the feature", _fb_refuses),
        Case("a feature without a limit spends nothing", _fb_unknown),
        Case("equal fits; spend read at check time", _fb_boundary_and_now),
    ], quiet)
