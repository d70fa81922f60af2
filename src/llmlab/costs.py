"""Where the money goes: a per-call cost tracker that attributes spend to
features from `response.usage` (priced by llmlab.tokens.cost), a budget guard
that refuses a call before it could push spend past a limit, and simple
spend alerts.

    tracker = CostTracker(price_as="gpt-4.1-mini")   # price local traffic as if it ran there
    reply = tracker.create(client, feature="support_reply", model=..., messages=[...], max_tokens=80)
    print(tracker.report())

    guard = BudgetGuard(tracker, limit_usd=5.00)
    # may raise BudgetExceededError:
    guard.create(client, feature="summaries", model=..., messages=[...], max_tokens=200)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import tokens
from .errors import LlmlabError

__all__ = [
    "BudgetExceededError",
    "BudgetGuard",
    "CallRecord",
    "CostTracker",
    "Summary",
    "spend_alerts",
    "usage_tokens",
]


def usage_tokens(usage: Any) -> tuple[int, int, int]:
    """(input, cached input, output) tokens from any usage object the SDK returns:
    chat completions (prompt/completion_tokens), the Responses API
    (input/output_tokens) and embeddings (prompt_tokens only). Dicts work too."""
    def get(obj: Any, name: str) -> Any:
        if obj is None:
            return None
        return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)

    if usage is None:
        raise ValueError("the response carries no usage: cannot attribute its cost (streams need "
                         "stream_options={'include_usage': True})")
    input_tokens = get(usage, "prompt_tokens")
    if input_tokens is None:
        input_tokens = get(usage, "input_tokens")
    output_tokens = get(usage, "completion_tokens")
    if output_tokens is None:
        output_tokens = get(usage, "output_tokens")
    details = get(usage, "prompt_tokens_details") or get(usage, "input_tokens_details")
    cached = get(details, "cached_tokens")
    return int(input_tokens or 0), int(cached or 0), int(output_tokens or 0)


@dataclass(frozen=True)
class CallRecord:
    """One priced call."""

    feature: str
    model: str  # the model that answered
    priced_as: str  # the price-list entry used
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    cost_usd: float
    user: str | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Summary:
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class CostTracker:
    """Records every call's tokens and cost, tagged with the feature that made it.

    price_as: None prices each call by the model that answered (it must have a
    per-token price in the model catalogue, llmlab.tokens.PRICES); a string prices every call as that model (handy for
    "what would this traffic cost on gpt-4.1-mini"); a mapping translates model
    names to price entries, falling back to the model's own name.
    large_call_tokens: a call using more tokens than this is reported by
    `alerts()` (a runaway prompt or a loop usually shows up here first).
    feature_budgets: USD per feature; `alerts()` reports features past theirs."""

    def __init__(self, price_as: str | Mapping[str, str] | None = None, *, large_call_tokens: int | None = None,
                 feature_budgets: Mapping[str, float] | None = None):
        self.price_as = price_as
        self.large_call_tokens = large_call_tokens
        self.feature_budgets = dict(feature_budgets or {})
        self.records: list[CallRecord] = []

    # -- pricing --------------------------------------------------------------
    def price_entry(self, model: str) -> str:
        if isinstance(self.price_as, str):
            return self.price_as
        if isinstance(self.price_as, Mapping):
            return self.price_as.get(model, model)
        return model

    def price_of(self, model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> float:
        return tokens.cost(self.price_entry(model), input_tokens, output_tokens, cached_tokens).total

    # -- recording -------------------------------------------------------------
    def record(self, response: Any, *, feature: str, model: str | None = None, user: str | None = None) -> CallRecord:
        """Price one response from its usage and remember it under `feature`."""
        if not feature:
            raise ValueError("every call needs a feature tag: unattributed spend cannot be optimised")
        answered = model or getattr(response, "model", None)
        if not answered:
            raise ValueError("cannot tell which model answered: pass model=")
        input_tokens, cached, output_tokens = usage_tokens(getattr(response, "usage", None))
        entry = self.price_entry(answered)
        cost = tokens.cost(entry, input_tokens, output_tokens, cached).total
        rec = CallRecord(feature, answered, entry, input_tokens, cached, output_tokens, cost, user)
        self.records.append(rec)
        return rec

    def create(self, client: Any, *, feature: str, user: str | None = None, **kwargs: Any) -> Any:
        """`client.chat.completions.create(**kwargs)`, then record its cost under `feature`."""
        response = client.chat.completions.create(**kwargs)
        self.record(response, feature=feature, model=kwargs.get("model"), user=user)
        return response

    # -- reading ----------------------------------------------------------------
    @property
    def total_usd(self) -> float:
        return sum(r.cost_usd for r in self.records)

    def by(self, key: str = "feature") -> dict[str, Summary]:
        """Totals grouped by a CallRecord field (feature, model, priced_as, user), sorted by name."""
        groups: dict[str, list[CallRecord]] = {}
        for rec in self.records:
            groups.setdefault(str(getattr(rec, key)), []).append(rec)
        return {name: Summary(len(rs), sum(r.input_tokens for r in rs), sum(r.output_tokens for r in rs),
                              sum(r.cost_usd for r in rs))
                for name, rs in sorted(groups.items())}

    def spent(self, feature: str | None = None) -> float:
        return sum(r.cost_usd for r in self.records if feature is None or r.feature == feature)

    def report(self, key: str = "feature") -> str:
        """A fixed-width table of calls, tokens and cost per group, with a total line."""
        rows = self.by(key)
        width = max([len(key), 5, *(len(k) for k in rows)])
        lines = [f"{key:<{width}}  calls  in tok  out tok     cost USD"]
        for name, s in rows.items():
            lines.append(f"{name:<{width}}  {s.calls:>5}  {s.input_tokens:>6}  {s.output_tokens:>7}  "
                         f"{s.cost_usd:>11.6f}")
        lines.append(f"{'total':<{width}}  {len(self.records):>5}  {sum(s.input_tokens for s in rows.values()):>6}  "
                     f"{sum(s.output_tokens for s in rows.values()):>7}  {self.total_usd:>11.6f}")
        return "\n".join(lines)

    def alerts(self) -> list[str]:
        """Calls over `large_call_tokens` and features over their budget."""
        found = []
        if self.large_call_tokens is not None:
            for i, rec in enumerate(self.records):
                if rec.total_tokens > self.large_call_tokens:
                    found.append(f"call {i} ({rec.feature}) used {rec.total_tokens} tokens "
                                 f"(> {self.large_call_tokens})")
        for feature, budget in sorted(self.feature_budgets.items()):
            spent = self.spent(feature)
            if spent > budget:
                found.append(f"feature {feature} spent ${spent:.6f} of a ${budget:.6f} budget")
        return found


class BudgetExceededError(LlmlabError, RuntimeError):
    """The call was refused before it was sent: it could push spend past the limit."""

    def __init__(self, feature: str, spent: float, worst_case: float, limit: float, scope: str):
        super().__init__(f"refused {feature}: {scope} spend ${spent:.6f} + worst case ${worst_case:.6f} "
                         f"would exceed the ${limit:.6f} limit")
        self.feature, self.spent, self.worst_case, self.limit, self.scope = feature, spent, worst_case, limit, scope


class BudgetGuard:
    """Refuse a call when its worst-case cost could take spend past a limit.

    The worst case is the prompt's tokens (counted with llmlab.tokens) plus
    `max_tokens` of output, priced like the tracker prices calls; calls must
    therefore set max_tokens (or max_completion_tokens). Once a call runs, the
    tracker records its real cost. `feature_limits` adds per-feature caps."""

    def __init__(self, tracker: CostTracker, limit_usd: float, *, feature_limits: Mapping[str, float] | None = None):
        if limit_usd < 0:
            raise ValueError("limit_usd must not be negative")
        self.tracker = tracker
        self.limit_usd = limit_usd
        self.feature_limits = dict(feature_limits or {})
        self.refused: list[BudgetExceededError] = []

    @property
    def remaining_usd(self) -> float:
        return max(self.limit_usd - self.tracker.total_usd, 0.0)

    def worst_case_usd(self, model: str, messages: Iterable[dict[str, Any]], max_tokens: int) -> float:
        entry = self.tracker.price_entry(model)
        prompt = tokens.count_message_tokens(messages, entry)  # OpenAI's tokenizer; an estimate for other models
        return tokens.cost(entry, prompt, max_tokens).total

    def check(self, feature: str, worst_case: float) -> None:
        """Raise BudgetExceededError if `worst_case` more dollars could break a limit."""
        spent = self.tracker.total_usd
        if spent + worst_case > self.limit_usd:
            err = BudgetExceededError(feature, spent, worst_case, self.limit_usd, "total")
            self.refused.append(err)
            raise err
        if feature in self.feature_limits:
            spent_f = self.tracker.spent(feature)
            if spent_f + worst_case > self.feature_limits[feature]:
                err = BudgetExceededError(feature, spent_f, worst_case, self.feature_limits[feature],
                                          f"feature {feature}")
                self.refused.append(err)
                raise err

    def create(self, client: Any, *, feature: str, user: str | None = None, **kwargs: Any) -> Any:
        """Check the worst case, then make and record the call (or raise without calling)."""
        cap = kwargs.get("max_tokens", kwargs.get("max_completion_tokens"))
        if cap is None:
            raise ValueError("set max_tokens: a call without an output cap has no worst-case cost")
        self.check(feature, self.worst_case_usd(kwargs["model"], kwargs.get("messages", []), int(cap)))
        return self.tracker.create(client, feature=feature, user=user, **kwargs)


def spend_alerts(daily_usd: Sequence[float], *, window: int = 7, factor: float = 1.5) -> list[int]:
    """Days (indexes) whose spend exceeds `factor` times the average of the
    previous `window` days: the "daily spend over 150% of the rolling average"
    rule. Days without a full window behind them are never flagged."""
    flagged = []
    for day in range(window, len(daily_usd)):
        baseline = sum(daily_usd[day - window:day]) / window
        if baseline > 0 and daily_usd[day] > factor * baseline:
            flagged.append(day)
    return flagged
