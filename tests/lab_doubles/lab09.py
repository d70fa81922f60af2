"""Doubles for lab09_cost_tracker_budget: estimate_cost, CostTracker, BudgetGuard,
FeatureBudgetGuard."""

from typing import ClassVar

from llmlab import tokens
from llmlab.tokens import count_message_tokens, count_tokens


def estimate_cost(messages, model, max_completion_tokens):
    return tokens.cost(model, count_message_tokens(messages, model), max_completion_tokens).total


def _cost(model, u):
    details = u.prompt_tokens_details
    cached = (details.cached_tokens or 0) if details else 0
    return tokens.cost(model, u.prompt_tokens, u.completion_tokens, cached).total


class CostTracker:
    def __init__(self):
        self.spend: dict[str, float] = {}

    def _cost(self, model, u):
        return _cost(model, u)

    def record(self, feature, model, u):
        if u is None:
            raise ValueError("no usage")
        c = self._cost(model, u)
        self.spend[feature] = self.spend.get(feature, 0.0) + c
        return c

    @property
    def total_usd(self):
        return sum(self.spend.values())

    def by_feature(self):
        return dict(sorted(self.spend.items(), key=lambda kv: kv[1], reverse=True))


class BudgetExceeded(Exception):
    def __init__(self, spent, estimate, limit):
        super().__init__(f"spent ${spent:.4f} + estimate ${estimate:.4f} would exceed ${limit:.4f}")
        self.spent, self.estimate, self.limit = spent, estimate, limit


class BudgetGuard:
    def __init__(self, tracker, limit_usd):
        self.tracker, self.limit_usd = tracker, limit_usd

    def _spent(self):
        return self.tracker.total_usd

    def check(self, estimate_usd):
        spent = self._spent()
        if spent + estimate_usd > self.limit_usd:
            raise BudgetExceeded(spent, estimate_usd, self.limit_usd)
        return self.limit_usd - spent - estimate_usd


class FeatureBudgetExceeded(BudgetExceeded):
    def __init__(self, feature, spent, estimate, limit):
        super().__init__(spent, estimate, limit)
        self.feature = feature


class FeatureBudgetGuard:
    def __init__(self, tracker, limits):
        self.tracker, self.limits = tracker, dict(limits)

    def _spent(self, feature):
        return self.tracker.by_feature().get(feature, 0.0)

    def _limit(self, feature):
        return self.limits.get(feature, 0.0)

    def _error(self, feature, spent, estimate, limit):
        return FeatureBudgetExceeded(feature, spent, estimate, limit)

    def check(self, feature, estimate_usd):
        spent, limit = self._spent(feature), self._limit(feature)
        if spent + estimate_usd > limit:
            raise self._error(feature, spent, estimate_usd, limit)
        return limit - spent - estimate_usd


REFERENCE = {
    "check_estimate_cost": estimate_cost,
    "check_cost_tracker": CostTracker,
    "check_budget_guard": BudgetGuard,
    "check_stretch_feature_budget_guard": FeatureBudgetGuard,
}


# -- estimate_cost --------------------------------------------------------------------------

def _wrong_estimate_content_only(messages, model, max_completion_tokens):
    prompt = sum(count_tokens(m["content"], model) for m in messages)
    return tokens.cost(model, prompt, max_completion_tokens).total


def _wrong_estimate_prompt_only(messages, model, max_completion_tokens):
    return tokens.cost(model, count_message_tokens(messages, model), 0).total


def _wrong_estimate_input_price(messages, model, max_completion_tokens):
    p_in = tokens.price(model)[0]
    return (count_message_tokens(messages, model) + max_completion_tokens) * p_in / 1e6


def _wrong_estimate_default_tokenizer(messages, model, max_completion_tokens):
    return tokens.cost(model, count_message_tokens(messages), max_completion_tokens).total


def _wrong_estimate_unknown_is_free(messages, model, max_completion_tokens):
    try:
        return estimate_cost(messages, model, max_completion_tokens)
    except KeyError:
        return 0.0


def _wrong_estimate_returns_cost(messages, model, max_completion_tokens):
    return tokens.cost(model, count_message_tokens(messages, model), max_completion_tokens)


# -- CostTracker ----------------------------------------------------------------------------

class _WrongTrackerIgnoresCache(CostTracker):
    def _cost(self, model, u):
        return tokens.cost(model, u.prompt_tokens, u.completion_tokens).total


class _WrongTrackerCrashesOnNoDetails(CostTracker):
    def _cost(self, model, u):
        return tokens.cost(model, u.prompt_tokens, u.completion_tokens, u.prompt_tokens_details.cached_tokens).total


class _WrongTrackerNoneIsFree(CostTracker):
    def record(self, feature, model, u):
        if u is None:
            self.spend.setdefault(feature, 0.0)
            return 0.0
        return super().record(feature, model, u)


class _WrongTrackerUnsorted(CostTracker):
    def by_feature(self):
        return dict(self.spend)


class _WrongTrackerSharedBooks(CostTracker):
    shared: ClassVar[dict[str, float]] = {}

    def __init__(self):
        self.spend = self.shared


class _WrongTrackerOwnPriceLookup(CostTracker):
    def _cost(self, model, u):
        p_in, p_cached, p_out = tokens.PRICES[model]
        details = u.prompt_tokens_details
        cached = (details.cached_tokens or 0) if details else 0
        return ((u.prompt_tokens - cached) * p_in + cached * p_cached + u.completion_tokens * p_out) / 1e6


# -- BudgetGuard ------------------------------------------------------------------------------

class _WrongGuardStrict(BudgetGuard):
    def check(self, estimate_usd):
        spent = self._spent()
        if spent + estimate_usd >= self.limit_usd:
            raise BudgetExceeded(spent, estimate_usd, self.limit_usd)
        return self.limit_usd - spent - estimate_usd


class _WrongGuardEstimateOnly(BudgetGuard):
    def _spent(self):
        return 0.0


class _WrongGuardSnapshot(BudgetGuard):
    def __init__(self, tracker, limit_usd):
        super().__init__(tracker, limit_usd)
        self.at_start = tracker.total_usd

    def _spent(self):
        return self.at_start


class _WrongGuardReserves(BudgetGuard):
    def __init__(self, tracker, limit_usd):
        super().__init__(tracker, limit_usd)
        self.reserved = 0.0

    def check(self, estimate_usd):
        left = super().check(estimate_usd + self.reserved)
        self.reserved += estimate_usd
        return left + self.reserved - estimate_usd


class _WrongGuardPlainError(BudgetGuard):
    def check(self, estimate_usd):
        if self._spent() + estimate_usd > self.limit_usd:
            raise RuntimeError("over budget")
        return self.limit_usd - self._spent() - estimate_usd


# -- FeatureBudgetGuard -------------------------------------------------------------------------

class _WrongFeatureGuardTotal(FeatureBudgetGuard):
    def _spent(self, feature):
        return self.tracker.total_usd


class _WrongFeatureGuardUnlimited(FeatureBudgetGuard):
    def _limit(self, feature):
        return self.limits.get(feature, float("inf"))


class _WrongFeatureGuardSnapshot(FeatureBudgetGuard):
    def __init__(self, tracker, limits):
        super().__init__(tracker, limits)
        self.at_start = tracker.by_feature()

    def _spent(self, feature):
        return self.at_start.get(feature, 0.0)


class _WrongFeatureGuardSilentError(FeatureBudgetGuard):
    def _error(self, feature, spent, estimate, limit):
        return BudgetExceeded(spent, estimate, limit)  # which feature? the message does not say


class _WrongFeatureGuardStrict(FeatureBudgetGuard):
    def check(self, feature, estimate_usd):
        spent, limit = self._spent(feature), self._limit(feature)
        if spent + estimate_usd >= limit:
            raise self._error(feature, spent, estimate_usd, limit)
        return limit - spent - estimate_usd


WRONG = {
    "check_estimate_cost": [_wrong_estimate_content_only, _wrong_estimate_prompt_only, _wrong_estimate_input_price,
                            _wrong_estimate_default_tokenizer, _wrong_estimate_unknown_is_free,
                            _wrong_estimate_returns_cost],
    "check_cost_tracker": [_WrongTrackerIgnoresCache, _WrongTrackerCrashesOnNoDetails, _WrongTrackerNoneIsFree,
                           _WrongTrackerUnsorted, _WrongTrackerSharedBooks, _WrongTrackerOwnPriceLookup],
    "check_budget_guard": [_WrongGuardStrict, _WrongGuardEstimateOnly, _WrongGuardSnapshot, _WrongGuardReserves,
                           _WrongGuardPlainError],
    "check_stretch_feature_budget_guard": [_WrongFeatureGuardTotal, _WrongFeatureGuardUnlimited,
                                           _WrongFeatureGuardSnapshot, _WrongFeatureGuardSilentError,
                                           _WrongFeatureGuardStrict],
}
