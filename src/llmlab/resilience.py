"""Keeping LLM calls alive when a provider is not: retries with exponential
backoff and full jitter (honouring retry-after), a circuit breaker, and a
fallback chain across OpenAI-compatible clients.

Clocks, sleeps and randomness are injectable, so a lesson or a test can run a
whole outage in virtual time and print the same thing every run:

    clock = ManualClock()
    chain = FallbackChain([Provider("primary", c1, "gpt-4.1-mini"),
                           Provider("backup", c2, "llama3.2:3b")],
                          sleep=clock.sleep, clock=clock, rng=random.Random(7))
    result = chain.create(messages=[...], max_tokens=50)
    result.provider, result.response, result.attempts

`SimulatedTransport` produces failures without a network (a refused
connection, a timeout, a 429 with retry-after, a 503); anything using it
should say that the failure is simulated.
"""

from __future__ import annotations

import email.utils
import functools
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai

from .errors import LlmlabError

__all__ = [
    "RETRYABLE_STATUS",
    "AllProvidersFailedError",
    "Attempt",
    "CircuitBreaker",
    "CircuitOpenError",
    "FallbackChain",
    "FallbackResult",
    "ManualClock",
    "Provider",
    "RetryPolicy",
    "SimulatedTransport",
    "call_with_retry",
    "describe_error",
    "exponential_delay",
    "full_jitter_delay",
    "is_retryable",
    "retry_after_seconds",
    "should_fall_back",
    "status_of",
]

# Statuses worth another try on the same provider (the openai SDK retries the same set).
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
# Statuses that mean the request itself is wrong: another provider would refuse it too.
REQUEST_FAULT_STATUS = frozenset({400, 422})


# -- classifying errors --------------------------------------------------------

def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind an SDK error, or None (no response at all)."""
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def describe_error(exc: BaseException) -> str:
    """`RateLimitError 429`, `APIConnectionError`: short and stable, for logs."""
    status = status_of(exc)
    return f"{type(exc).__name__} {status}" if status else type(exc).__name__


# OpenAI's billing 429s: type `insufficient_quota`, the cause in `code` (help center, "Troubleshooting
# API usage and spend limits", and the spend-limits guide, read 2026-12-03; docs/sources.md, notebook 25).
BILLING_CODES = frozenset({"insufficient_quota", "credit_balance_exhausted", "organization_spend_limit_exceeded",
                           "project_spend_limit_exceeded", "organization_usage_limit_exceeded"})


def out_of_quota(exc: BaseException) -> bool:
    """A 429 about money, not load: no amount of waiting fixes it."""
    return getattr(exc, "type", None) == "insufficient_quota" or getattr(exc, "code", None) in BILLING_CODES


def is_retryable(exc: BaseException) -> bool:
    """Could the *same* call on the *same* provider succeed if tried again?

    Yes for connection failures, timeouts, 408/409/429 and 5xx. No for 400,
    401, 403, 404, 422: the answer will not change by asking again. No for a
    billing 429 either (`out_of_quota`): the account is out of credit or over a
    spend or usage limit, and waiting does not change that (notebooks 07 and 25, lab 07).

    This is the kit's one retry policy: `llmlab.errors` words its hints by it."""
    if isinstance(exc, CircuitOpenError):
        return False
    if isinstance(exc, (openai.APIConnectionError, httpx2.TransportError)):
        return True
    status = status_of(exc)
    if status == 429 and out_of_quota(exc):
        return False
    return status is not None and (status in RETRYABLE_STATUS or status >= 500)


def should_fall_back(exc: BaseException) -> bool:
    """Is it worth sending this request to the *next* provider?

    Yes for anything about this provider (down, slow, rate limited, refusing
    the key, not serving the model, circuit open). No for 400 and 422: the
    request is malformed and every provider would refuse it. (A 400 for a
    prompt over the context window is the exception a router may special-case
    by falling back to a longer-context model.)"""
    if isinstance(exc, CircuitOpenError):
        return True
    if isinstance(exc, (openai.APIConnectionError, httpx2.TransportError)):
        return True
    status = status_of(exc)
    if status is not None:
        return status not in REQUEST_FAULT_STATUS
    return isinstance(exc, openai.APIError)


def _headers_of(source: Any) -> Mapping[str, str] | None:
    if source is None:
        return None
    if isinstance(source, BaseException):
        response = getattr(source, "response", None)
        return getattr(response, "headers", None)
    if hasattr(source, "headers"):
        return source.headers
    return source


def retry_after_seconds(source: Any, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from an SDK error, a response or a
    headers mapping: `retry-after-ms` first (OpenAI sends it), then
    `retry-after` as seconds or as an HTTP date. None if absent or unreadable."""
    headers = _headers_of(source)
    if not headers:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return max(float(lowered["retry-after-ms"]) / 1000.0, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(when.timestamp() - now, 0.0)


# -- backoff -------------------------------------------------------------------

def exponential_delay(attempt: int, base: float = 0.5, cap: float = 8.0) -> float:
    """The capped exponential ceiling for retry number `attempt` (0-based): base * 2**attempt."""
    return min(cap, base * (2 ** attempt))


def full_jitter_delay(attempt: int, base: float = 0.5, cap: float = 8.0, rng: random.Random | None = None) -> float:
    """A wait drawn uniformly from [0, ceiling]: clients that failed together
    spread out instead of retrying in lockstep (the thundering herd)."""
    rng = rng or random.Random()
    return rng.uniform(0.0, exponential_delay(attempt, base, cap))


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one provider before giving up on it.

    max_attempts counts the first try (3 means one try and two retries).
    A server's retry-after is honoured as given, up to max_retry_after; a
    longer demand means "not soon", so we stop and let the caller fall back."""

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts counts the first try, so it must be at least 1")

    def wait_before_retry(self, retry_number: int, exc: BaseException | None = None,
                          rng: random.Random | None = None) -> tuple[float, str]:
        """(seconds, why) to wait before retry `retry_number` (0-based)."""
        asked = retry_after_seconds(exc) if exc is not None else None
        if asked is not None:
            return asked, "retry-after"
        return full_jitter_delay(retry_number, self.base_delay, self.max_delay, rng), "backoff"


@dataclass
class Attempt:
    """One line of a retry/fallback log."""

    provider: str
    attempt: int  # 1-based, per provider per request
    outcome: str  # ok, retry, gave up, skipped
    error: str = ""
    wait: float = 0.0  # seconds waited after this attempt, before the next one
    why: str = ""

    def line(self) -> str:
        text = f"{self.provider:<22} try {self.attempt}: {self.outcome}"
        if self.error:
            text += f" ({self.error})"
        if self.wait:
            text += f", wait {self.wait:.2f} s ({self.why})"
        elif self.why:
            text += f" [{self.why}]"
        return text


def call_with_retry(fn: Callable[[], Any], policy: RetryPolicy | None = None, *,
                    sleep: Callable[[float], Any] = time.sleep, rng: random.Random | None = None,
                    retryable: Callable[[BaseException], bool] = is_retryable,
                    log: list[Attempt] | None = None, name: str = "call",
                    breaker: CircuitBreaker | None = None) -> Any:
    """Call `fn()` until it succeeds, the error is not retryable, or the policy
    runs out; then re-raise the last error. Each attempt is appended to `log`.

    With a `breaker`, every attempt goes through it: once it opens, the
    remaining retries are skipped and CircuitOpenError is raised."""
    policy = policy or RetryPolicy()
    rng = rng or random.Random()
    log = log if log is not None else []
    for number in range(1, policy.max_attempts + 1):
        try:
            result = breaker.call(fn) if breaker else fn()
        except CircuitOpenError as exc:
            log.append(Attempt(name, number, "skipped", why=f"circuit open, retry in {exc.retry_in:.0f} s"))
            raise
        except Exception as exc:
            last = number == policy.max_attempts
            if last or not retryable(exc):
                log.append(Attempt(name, number, "gave up", describe_error(exc),
                                   why="attempts used up" if last and retryable(exc) else "not retryable"))
                raise
            wait, why = policy.wait_before_retry(number - 1, exc, rng)
            if why == "retry-after" and wait > policy.max_retry_after:
                log.append(Attempt(name, number, "gave up", describe_error(exc),
                                   why=f"retry-after {wait:.0f} s is longer than {policy.max_retry_after:.0f} s"))
                raise
            log.append(Attempt(name, number, "retry", describe_error(exc), wait=wait, why=why))
            sleep(wait)
        else:
            log.append(Attempt(name, number, "ok"))
            return result
    raise AssertionError("unreachable")  # pragma: no cover


# -- circuit breaker -----------------------------------------------------------

class CircuitOpenError(LlmlabError, RuntimeError):
    """The breaker is open: the call was not attempted."""

    def __init__(self, name: str, retry_in: float):
        super().__init__(f"circuit {name or 'breaker'} is open; next trial in {retry_in:.1f} s")
        self.name, self.retry_in = name, retry_in


class CircuitBreaker:
    """Stop calling a provider that keeps failing, and probe it now and then.

    closed: calls go through; `failure_threshold` consecutive failures open it.
    open: calls fail fast with CircuitOpenError for `reset_timeout` seconds.
    half_open: up to `half_open_max_calls` trial calls go through; a success
    closes the circuit, a failure opens it again for another `reset_timeout`.

    `clock` is any zero-argument function returning seconds (time.monotonic by
    default; a ManualClock in lessons and tests). `is_failure` decides which
    errors count against the provider (default: those worth falling back on,
    so a malformed request does not open the circuit)."""

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(self, failure_threshold: int = 3, reset_timeout: float = 30.0, half_open_max_calls: int = 1,
                 clock: Callable[[], float] = time.monotonic, name: str = "",
                 is_failure: Callable[[BaseException], bool] = should_fall_back):
        if failure_threshold < 1 or half_open_max_calls < 1:
            raise ValueError("failure_threshold and half_open_max_calls must be at least 1")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.half_open_max_calls = half_open_max_calls
        self.clock = clock
        self.name = name
        self.is_failure = is_failure
        self.failures = 0
        self._state = self.CLOSED
        self._opened_at = 0.0
        self._trials = 0
        self.transitions: list[tuple[float, str, str]] = []  # (time, from, to)

    def _move(self, to: str) -> None:
        if to != self._state:
            self.transitions.append((self.clock(), self._state, to))
            self._state = to
        if to == self.OPEN:
            self._opened_at = self.clock()
        if to != self.CLOSED:
            self._trials = 0

    @property
    def state(self) -> str:
        if self._state == self.OPEN and self.clock() - self._opened_at >= self.reset_timeout:
            self._move(self.HALF_OPEN)
        return self._state

    @property
    def retry_in(self) -> float:
        """Seconds until an open circuit lets a trial call through (0 otherwise)."""
        if self.state != self.OPEN:
            return 0.0
        return max(self.reset_timeout - (self.clock() - self._opened_at), 0.0)

    def allow(self) -> bool:
        """May a call go through now? (Counts a half-open trial when it says yes.)"""
        state = self.state
        if state == self.CLOSED:
            return True
        if state == self.HALF_OPEN and self._trials < self.half_open_max_calls:
            self._trials += 1
            return True
        return False

    def record_success(self) -> None:
        self.failures = 0
        if self._state != self.CLOSED:
            self._move(self.CLOSED)

    def record_failure(self) -> None:
        if self.state == self.HALF_OPEN:
            self._move(self.OPEN)
            return
        self.failures += 1
        if self._state == self.CLOSED and self.failures >= self.failure_threshold:
            self._move(self.OPEN)

    def call(self, fn: Callable[[], Any]) -> Any:
        if not self.allow():
            raise CircuitOpenError(self.name, self.retry_in)
        try:
            result = fn()
        except Exception as exc:
            if self.is_failure(exc):
                self.record_failure()
            else:
                self._trials = max(self._trials - 1, 0)
            raise
        self.record_success()
        return result


# -- fallback chain --------------------------------------------------------------

@dataclass
class Provider:
    """One place a request can go: an OpenAI-compatible client and its model."""

    name: str
    client: Any
    model: str
    breaker: CircuitBreaker | None = None
    retry: RetryPolicy | None = None  # overrides the chain's policy for this provider


@dataclass
class FallbackResult:
    response: Any
    provider: str
    attempts: list[Attempt] = field(default_factory=list)


class AllProvidersFailedError(LlmlabError, RuntimeError):
    """Every provider failed or was skipped; `attempts` says what happened."""

    def __init__(self, attempts: list[Attempt], last_error: BaseException | None):
        tried = ", ".join(dict.fromkeys(a.provider for a in attempts)) or "none"
        super().__init__(f"all providers failed (tried: {tried}); last error: "
                         f"{describe_error(last_error) if last_error else 'none'}")
        self.attempts, self.last_error = attempts, last_error


class FallbackChain:
    """Try providers in order, each with retries (and its circuit breaker),
    moving on when an error is worth falling back on.

    `create(**kwargs)` sends a chat completion with each provider's own model;
    `run(fn)` calls `fn(provider)` for any other request shape."""

    def __init__(self, providers: Sequence[Provider], retry: RetryPolicy | None = None, *,
                 sleep: Callable[[float], Any] = time.sleep, rng: random.Random | None = None,
                 fall_back: Callable[[BaseException], bool] = should_fall_back):
        if not providers:
            raise ValueError("a fallback chain needs at least one provider")
        self.providers = list(providers)
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.fall_back = fall_back
        self.history: list[FallbackResult | AllProvidersFailedError] = []

    def run(self, fn: Callable[[Provider], Any]) -> FallbackResult:
        attempts: list[Attempt] = []
        last_error: BaseException | None = None
        for provider in self.providers:
            try:
                response = call_with_retry(
                    functools.partial(fn, provider), provider.retry or self.retry, sleep=self.sleep, rng=self.rng,
                    log=attempts, name=provider.name, breaker=provider.breaker)
            except Exception as exc:
                last_error = exc
                if not self.fall_back(exc):  # the request is at fault: no provider will take it
                    self.history.append(AllProvidersFailedError(attempts, exc))
                    raise
                continue
            result = FallbackResult(response, provider.name, attempts)
            self.history.append(result)
            return result
        failure = AllProvidersFailedError(attempts, last_error)
        self.history.append(failure)
        raise failure

    def create(self, **kwargs: Any) -> FallbackResult:
        """A chat completion through the chain; `model` comes from each provider."""
        if "model" in kwargs:
            raise TypeError("the chain picks the model per provider; do not pass model=")
        return self.run(lambda p: p.client.chat.completions.create(model=p.model, **kwargs))

    def states(self) -> dict[str, str]:
        """Each provider's circuit state (providers without a breaker show 'none')."""
        return {p.name: (p.breaker.state if p.breaker else "none") for p in self.providers}


# -- time and simulated failures ---------------------------------------------------

class ManualClock:
    """Virtual time for lessons and tests: `clock()` reads it, `sleep(s)` and
    `advance(s)` move it forward instantly, and every sleep is remembered."""

    def __init__(self, start: float = 0.0):
        self.now = float(start)
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SimulatedTransport(httpx2.BaseTransport):
    """A SIMULATION: an httpx2 transport that fails without touching the network.

    kind: "refused" (connection refused), "timeout" (read timeout),
    "rate_limit" (HTTP 429 with retry-after), "unavailable" (HTTP 503).
    times: fail this many requests, then hand the rest to `inner` (None: fail
    forever). Lessons use it for failures no local server produces on demand,
    and for failures a cassette cannot replay because no response ever came."""

    KINDS = ("refused", "timeout", "rate_limit", "unavailable")
    # Set whenever `times` is (__init__ insists), and only then does handle_request use it.
    inner: Any

    def __init__(self, kind: str, *, retry_after: float | None = 2.0, times: int | None = None,
                 inner: httpx2.BaseTransport | None = None):
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {', '.join(self.KINDS)}")
        if times is not None and inner is None:
            raise ValueError("times= needs an inner transport for the requests after the failures")
        self.kind, self.retry_after, self.times, self.inner = kind, retry_after, times, inner
        self.requests = 0

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests += 1
        if self.times is not None and self.requests > self.times:
            return self.inner.handle_request(request)
        if self.kind == "refused":
            raise httpx2.ConnectError("[Errno 111] Connection refused (simulated)", request=request)
        if self.kind == "timeout":
            raise httpx2.ReadTimeout("timed out (simulated)", request=request)
        headers = {"x-llmlab-simulated": self.kind}
        if self.retry_after is not None:
            headers["retry-after"] = f"{self.retry_after:g}"
        if self.kind == "rate_limit":
            status, body = 429, {"error": {
                "message": "Rate limit reached for requests (simulated by llmlab.resilience.SimulatedTransport).",
                "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
        else:
            status, body = 503, {"error": {
                "message": "The server is overloaded (simulated by llmlab.resilience.SimulatedTransport).",
                "type": "server_error", "param": None, "code": None}}
        return httpx2.Response(status, headers=headers, json=body, request=request)

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()
