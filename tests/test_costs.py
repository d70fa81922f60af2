"""llmlab.costs: attribution by feature, pricing from usage, the budget guard, alerts.
No network: responses are SDK objects built in memory."""

import pytest
from openai.types import CompletionUsage

from llmlab import catalogue, tokens
from llmlab.costs import BudgetExceededError, BudgetGuard, CostTracker, spend_alerts, usage_tokens

from helpers import FakeChatClient as FakeClient
from helpers import chat_completion as completion


def test_usage_tokens_reads_every_usage_shape():
    assert usage_tokens(CompletionUsage(prompt_tokens=10, completion_tokens=4, total_tokens=14)) == (10, 0, 4)
    assert usage_tokens({"input_tokens": 36, "output_tokens": 87,
                         "input_tokens_details": {"cached_tokens": 6}}) == (36, 6, 87)
    assert usage_tokens({"prompt_tokens": 8, "total_tokens": 8}) == (8, 0, 0)  # embeddings
    with pytest.raises(ValueError):
        usage_tokens(None)


def test_record_prices_by_the_answering_model():
    tracker = CostTracker()
    rec = tracker.record(completion("gpt-4o-mini", 1_000_000, 1_000_000), feature="chat")
    listed = catalogue.price("gpt-4o-mini")
    assert rec.cost_usd == pytest.approx(listed.input + listed.output)
    assert rec.priced_as == "gpt-4o-mini" and rec.total_tokens == 2_000_000


def test_cached_tokens_are_cheaper():
    tracker = CostTracker()
    full = tracker.record(completion("gpt-4o", 1000, 0), feature="a").cost_usd
    cached = tracker.record(completion("gpt-4o", 1000, 0, cached=800), feature="a").cost_usd
    assert cached == pytest.approx(tokens.cost("gpt-4o", 1000, 0, 800).total)
    assert cached < full


def test_price_as_string_and_mapping():
    as_mini = CostTracker(price_as="gpt-4.1-mini")
    rec = as_mini.record(completion("smollm2-135m-instruct", 1000, 500), feature="x")
    assert rec.model == "smollm2-135m-instruct" and rec.priced_as == "gpt-4.1-mini"
    assert rec.cost_usd == pytest.approx(tokens.cost("gpt-4.1-mini", 1000, 500).total)
    mapped = CostTracker(price_as={"smollm2-135m-instruct": "local"})
    assert mapped.record(completion("smollm2-135m-instruct", 1000, 500), feature="x").cost_usd == 0.0
    assert mapped.record(completion("gpt-4o", 1000, 500), feature="x").priced_as == "gpt-4o"
    with pytest.raises(tokens.UnknownPriceError):
        CostTracker().record(completion("smollm2-135m-instruct", 1, 1), feature="x")


def test_every_call_needs_a_feature():
    with pytest.raises(ValueError):
        CostTracker().record(completion("gpt-4o", 1, 1), feature="")


def test_create_attributes_by_feature_and_reports():
    tracker = CostTracker(price_as="gpt-4o-mini")
    client = FakeClient(prompt=100, out=20)
    for feature in ("search", "summary", "summary"):
        tracker.create(client, feature=feature, model="m", messages=[{"role": "user", "content": "x"}], max_tokens=50)
    groups = tracker.by("feature")
    assert list(groups) == ["search", "summary"]
    assert groups["summary"].calls == 2 and groups["summary"].input_tokens == 200
    assert tracker.total_usd == pytest.approx(3 * tokens.cost("gpt-4o-mini", 100, 20).total)
    report = tracker.report()
    assert report.splitlines()[0].startswith("feature")
    assert report.splitlines()[-1].startswith("total") and "    3" in report.splitlines()[-1]
    assert len(client.calls) == 3


def test_alerts_for_large_calls_and_feature_budgets():
    tracker = CostTracker(large_call_tokens=1000, feature_budgets={"rag": 0.001, "tiny": 1.0})
    tracker.record(completion("gpt-4o", 5000, 100), feature="rag")
    tracker.record(completion("gpt-4o", 10, 10), feature="tiny")
    alerts = tracker.alerts()
    assert alerts[0].startswith("call 0 (rag) used 5100 tokens")
    assert any(a.startswith("feature rag spent") for a in alerts)
    assert not any("tiny" in a for a in alerts)


def test_budget_guard_refuses_before_calling():
    tracker = CostTracker(price_as="gpt-4o")
    client = FakeClient(prompt=100, out=100)
    messages = [{"role": "user", "content": "Summarise this."}]
    worst = BudgetGuard(tracker, 1.0).worst_case_usd("m", messages, 100)
    prompt_tokens = tokens.count_message_tokens(messages, "gpt-4o")
    assert worst == pytest.approx(tokens.cost("gpt-4o", prompt_tokens, 100).total)
    guard = BudgetGuard(tracker, limit_usd=worst * 2.5)
    guard.create(client, feature="s", model="m", messages=messages, max_tokens=100)
    guard.create(client, feature="s", model="m", messages=messages, max_tokens=100)
    with pytest.raises(BudgetExceededError) as info:
        guard.create(client, feature="s", model="m", messages=messages, max_tokens=100)
    assert len(client.calls) == 2  # the refused call never reached the client
    assert info.value.scope == "total" and guard.refused == [info.value]
    assert "would exceed" in str(info.value)
    assert guard.remaining_usd == pytest.approx(worst * 2.5 - tracker.total_usd)


def test_budget_guard_needs_a_cap_and_honours_feature_limits():
    tracker = CostTracker(price_as="gpt-4o-mini")
    guard = BudgetGuard(tracker, limit_usd=10.0, feature_limits={"beta": 0.0})
    client = FakeClient()
    with pytest.raises(ValueError):
        guard.create(client, feature="a", model="m", messages=[])
    with pytest.raises(BudgetExceededError) as info:
        guard.create(client, feature="beta", model="m", messages=[], max_tokens=10)
    assert info.value.scope == "feature beta" and client.calls == []
    guard.create(client, feature="a", model="m", messages=[], max_completion_tokens=10)
    assert len(client.calls) == 1
    with pytest.raises(ValueError):
        BudgetGuard(tracker, -1)


def test_spend_alerts_flag_spikes_over_the_rolling_average():
    daily = [10.0] * 10 + [16.0, 10.0, 14.0]
    assert spend_alerts(daily, window=7, factor=1.5) == [10]
    assert spend_alerts([0.0] * 9 + [5.0], window=7) == []  # no baseline to compare with
    assert spend_alerts([1.0, 9.0], window=7) == []
