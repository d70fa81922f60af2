"""llmlab.resilience: retries, backoff, circuit breaker, fallback chain. No network:
failures come from SimulatedTransport, successes from an in-memory transport."""

import random

import httpx2
import openai
import pytest

from llmlab.resilience import (
    AllProvidersFailedError,
    CircuitBreaker,
    CircuitOpenError,
    FallbackChain,
    ManualClock,
    Provider,
    RetryPolicy,
    SimulatedTransport,
    call_with_retry,
    describe_error,
    exponential_delay,
    full_jitter_delay,
    is_retryable,
    retry_after_seconds,
    should_fall_back,
)

from helpers import BASE, Flaky, connection_error, ok_transport, status_error
from helpers import sdk_client as client

# -- classification -------------------------------------------------------------

@pytest.mark.parametrize("status, retry, fall_back", [
    (400, False, False), (401, False, True), (404, False, True), (422, False, False),
    (429, True, True), (500, True, True), (503, True, True),
])
def test_status_classification(status, retry, fall_back):
    exc = status_error(status)
    assert is_retryable(exc) is retry
    assert should_fall_back(exc) is fall_back
    assert describe_error(exc).endswith(str(status))


def test_an_account_out_of_credit_is_not_retried_but_falls_back():
    """429 insufficient_quota: waiting adds no credit (notebooks 07 and 25, lab 07 agree)."""
    quota = status_error(429, {"retry-after": "1"}, code="insufficient_quota")
    assert not is_retryable(quota) and should_fall_back(quota)
    assert is_retryable(status_error(429, code="rate_limit_exceeded"))
    # Today's billing 429s: type insufficient_quota, the cause in code (notebook 25).
    spent = status_error(429, code="credit_balance_exhausted", type="insufficient_quota")
    assert not is_retryable(spent) and not is_retryable(status_error(429, code="project_spend_limit_exceeded"))


def test_connection_errors_and_open_circuits():
    assert is_retryable(connection_error()) and should_fall_back(connection_error())
    assert is_retryable(openai.APITimeoutError(request=httpx2.Request("GET", BASE)))
    opened = CircuitOpenError("p", 3.0)
    assert not is_retryable(opened) and should_fall_back(opened)
    assert not is_retryable(ValueError("a bug in our code")) and not should_fall_back(ValueError("x"))


def test_retry_after_forms():
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"Retry-After": "1.5"}) == 1.5
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0) == 10.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
    assert retry_after_seconds(status_error(429, {"retry-after": "3"})) == 3.0
    assert retry_after_seconds(connection_error()) is None


# -- backoff ----------------------------------------------------------------------

def test_exponential_ceiling_is_capped():
    assert [exponential_delay(a, 0.5, 8.0) for a in range(7)] == [0.5, 1, 2, 4, 8, 8, 8]


def test_full_jitter_stays_under_the_ceiling_and_is_seedable():
    draws = [full_jitter_delay(a, 0.5, 8.0, random.Random(7)) for a in range(6)]
    assert draws == [full_jitter_delay(a, 0.5, 8.0, random.Random(7)) for a in range(6)]
    rng = random.Random(1)
    for attempt in range(8):
        for _ in range(50):
            assert 0.0 <= full_jitter_delay(attempt, 0.5, 8.0, rng) <= exponential_delay(attempt, 0.5, 8.0)


def test_policy_needs_one_attempt():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


# -- call_with_retry --------------------------------------------------------------

def test_retry_honours_retry_after_then_succeeds():
    clock, log = ManualClock(), []
    fn = Flaky([status_error(429, {"retry-after": "2"}), status_error(429, {"retry-after": "2"})])
    assert call_with_retry(fn, RetryPolicy(max_attempts=3), sleep=clock.sleep, log=log, name="p") == "done"
    assert clock.sleeps == [2.0, 2.0] and clock.now == 4.0
    assert [a.outcome for a in log] == ["retry", "retry", "ok"]
    assert log[0].why == "retry-after" and "wait 2.00 s" in log[0].line()


def test_retry_uses_jitter_without_retry_after():
    clock = ManualClock()
    fn = Flaky([connection_error(), connection_error()])
    call_with_retry(fn, RetryPolicy(3, base_delay=1.0, max_delay=4.0), sleep=clock.sleep, rng=random.Random(7))
    expected_rng = random.Random(7)
    assert clock.sleeps == [expected_rng.uniform(0, 1.0), expected_rng.uniform(0, 2.0)]


def test_not_retryable_raises_at_once():
    clock, log = ManualClock(), []
    fn = Flaky([status_error(404)])
    with pytest.raises(openai.NotFoundError):
        call_with_retry(fn, RetryPolicy(5), sleep=clock.sleep, log=log)
    assert fn.calls == 1 and clock.sleeps == [] and log[0].why == "not retryable"


def test_attempts_run_out():
    clock, log = ManualClock(), []
    fn = Flaky([connection_error()] * 5)
    with pytest.raises(openai.APIConnectionError):
        call_with_retry(fn, RetryPolicy(3), sleep=clock.sleep, rng=random.Random(0), log=log)
    assert fn.calls == 3 and len(clock.sleeps) == 2 and log[-1].why == "attempts used up"


def test_a_long_retry_after_means_give_up():
    clock, log = ManualClock(), []
    fn = Flaky([status_error(429, {"retry-after": "120"})])
    with pytest.raises(openai.RateLimitError):
        call_with_retry(fn, RetryPolicy(3, max_retry_after=30), sleep=clock.sleep, log=log)
    assert clock.sleeps == [] and "longer than 30 s" in log[0].why


# -- circuit breaker ----------------------------------------------------------------

def test_breaker_opens_half_opens_and_closes():
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10, clock=clock, name="p")
    failing = Flaky([connection_error()] * 10)
    for _ in range(2):
        with pytest.raises(openai.APIConnectionError):
            breaker.call(failing)
    assert breaker.state == "open" and failing.calls == 2
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(failing)
    assert failing.calls == 2 and info.value.retry_in == 10
    clock.advance(4)
    assert breaker.retry_in == 6
    clock.advance(6)
    assert breaker.state == "half_open"
    with pytest.raises(openai.APIConnectionError):  # the trial fails: open again
        breaker.call(failing)
    assert breaker.state == "open"
    clock.advance(10)
    assert breaker.call(lambda: "back") == "back"
    assert breaker.state == "closed" and breaker.failures == 0
    assert [(f, t) for _, f, t in breaker.transitions] == [
        ("closed", "open"), ("open", "half_open"), ("half_open", "open"), ("open", "half_open"),
        ("half_open", "closed")]


def test_half_open_limits_trial_calls():
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    breaker.record_failure()
    clock.advance(5)
    assert breaker.allow() is True
    assert breaker.allow() is False  # one trial at a time


def test_success_resets_the_failure_count_and_bad_requests_do_not_count():
    breaker = CircuitBreaker(failure_threshold=2, clock=ManualClock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"
    for _ in range(3):
        with pytest.raises(openai.BadRequestError):
            breaker.call(Flaky([status_error(400)]))
    assert breaker.state == "closed" and breaker.failures == 1


# -- fallback chain -----------------------------------------------------------------

def test_chain_falls_back_through_real_sdk_errors():
    clock = ManualClock()
    providers = [
        Provider("down", client(SimulatedTransport("refused")), "m-down"),
        Provider("limited", client(SimulatedTransport("rate_limit", retry_after=1)), "m-limited"),
        Provider("retired", client(httpx2.MockTransport(lambda r: httpx2.Response(404, json={"error": {
            "message": "no such model", "type": "invalid_request_error", "code": "model_not_found"}}))), "m-old"),
        Provider("healthy", client(ok_transport()), "m-ok"),
    ]
    chain = FallbackChain(providers, RetryPolicy(max_attempts=2, base_delay=1, max_delay=1),
                          sleep=clock.sleep, rng=random.Random(3))
    result = chain.create(messages=[{"role": "user", "content": "hi"}], max_tokens=5)
    assert result.provider == "healthy"
    assert result.response.choices[0].message.content == "hello from m-ok"
    summary = [(a.provider, a.outcome, a.error) for a in result.attempts]
    assert summary == [
        ("down", "retry", "APIConnectionError"), ("down", "gave up", "APIConnectionError"),
        ("limited", "retry", "RateLimitError 429"), ("limited", "gave up", "RateLimitError 429"),
        ("retired", "gave up", "NotFoundError 404"), ("healthy", "ok", ""),
    ]
    assert clock.sleeps[1] == 1.0  # the rate-limited provider's retry-after


def test_chain_stops_on_a_bad_request():
    bad = httpx2.MockTransport(lambda r: httpx2.Response(400, json={"error": {"message": "bad", "type": "x"}}))
    never = SimulatedTransport("refused")
    chain = FallbackChain([Provider("a", client(bad), "m"), Provider("b", client(never), "m")], sleep=lambda s: None)
    with pytest.raises(openai.BadRequestError):
        chain.create(messages=[{"role": "user", "content": "hi"}])
    assert never.requests == 0


def test_chain_skips_an_open_circuit_and_reports_total_failure():
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=60, clock=clock, name="down")
    down = SimulatedTransport("timeout")
    chain = FallbackChain([Provider("down", client(down), "m", breaker=breaker)],
                          RetryPolicy(max_attempts=2, base_delay=0.1, max_delay=0.1), sleep=clock.sleep,
                          rng=random.Random(0))
    with pytest.raises(AllProvidersFailedError):
        chain.create(messages=[{"role": "user", "content": "hi"}])
    assert breaker.state == "open" and down.requests == 2
    with pytest.raises(AllProvidersFailedError) as info:
        chain.create(messages=[{"role": "user", "content": "hi"}])
    assert down.requests == 2  # skipped without a request
    assert info.value.attempts[0].outcome == "skipped"
    assert chain.states() == {"down": "open"}
    assert len(chain.history) == 2


def test_chain_rejects_model_argument_and_empty_chains():
    with pytest.raises(ValueError):
        FallbackChain([])
    chain = FallbackChain([Provider("a", client(ok_transport()), "m")])
    with pytest.raises(TypeError):
        chain.create(model="x", messages=[])


# -- simulated transport ---------------------------------------------------------------

def test_simulated_transport_kinds():
    with pytest.raises(openai.APIConnectionError):
        client(SimulatedTransport("refused")).models.list()
    with pytest.raises(openai.APITimeoutError):
        client(SimulatedTransport("timeout")).models.list()
    with pytest.raises(openai.RateLimitError) as info:
        client(SimulatedTransport("rate_limit", retry_after=4)).models.list()
    assert retry_after_seconds(info.value) == 4.0
    assert info.value.response.headers["x-llmlab-simulated"] == "rate_limit"
    with pytest.raises(openai.InternalServerError) as info:
        client(SimulatedTransport("unavailable", retry_after=None)).models.list()
    assert info.value.status_code == 503 and retry_after_seconds(info.value) is None
    with pytest.raises(ValueError):
        SimulatedTransport("meteor")
    with pytest.raises(ValueError):
        SimulatedTransport("refused", times=1)


def test_simulated_transport_fails_then_passes_through():
    sim = SimulatedTransport("rate_limit", retry_after=0.5, times=2, inner=ok_transport())
    c = client(sim)
    clock, log = ManualClock(), []
    reply = call_with_retry(lambda: c.chat.completions.create(model="m", messages=[]), RetryPolicy(3),
                            sleep=clock.sleep, log=log)
    assert reply.choices[0].message.content == "hello from m"
    assert sim.requests == 3 and clock.sleeps == [0.5, 0.5]
