"""Doubles for lab08_fallback_circuit_breaker: CircuitBreaker, call_with_fallback, and the
breaker's retry_in()."""

import time
from collections.abc import Callable

import openai


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 3, reset_after: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.failure_threshold, self.reset_after, self.clock = failure_threshold, reset_after, clock
        self.failures = 0
        self._open = False
        self._opened_at = 0.0
        self._trial = False

    @property
    def state(self) -> str:
        if not self._open:
            return "closed"
        return "half_open" if self.clock() - self._opened_at >= self.reset_after else "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial:
            self._trial = True
            return True
        return False

    def record_success(self) -> None:
        self.failures, self._open, self._trial = 0, False, False

    def record_failure(self) -> None:
        if self.state == "half_open":
            self._opened_at, self._trial = self.clock(), False
            return
        self.failures += 1
        if self.failures >= self.failure_threshold and not self._open:
            self._open, self._opened_at = True, self.clock()


class TimedBreaker(CircuitBreaker):
    def retry_in(self) -> float:
        if not self._open:
            return 0.0
        return max(0.0, self.reset_after - (self.clock() - self._opened_at))


def _describe(exc):
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__} {status}" if status else type(exc).__name__


class _AllFailed(RuntimeError):
    def __init__(self, failures: dict):
        super().__init__("all providers failed: " + "; ".join(f"{k}: {v}" for k, v in failures.items()))
        self.failures = failures


def _fallback(providers, request, breakers, *, use_breaker=True, record_failures=True, record_successes=True,
              request_fault_stops=True, combine=True, describe=_describe, skipped="circuit open"):
    failures, last = {}, None
    for name, call in providers:
        breaker = breakers[name]
        if use_breaker and not breaker.allow():
            failures[name] = skipped
            continue
        try:
            response = call(request)
        except (openai.BadRequestError, openai.UnprocessableEntityError):
            if request_fault_stops:
                breaker.record_success()
                raise
            failures[name] = "request fault"
            if record_failures:
                breaker.record_failure()
            continue
        except openai.APIError as exc:
            failures[name], last = describe(exc), exc
            if record_failures:
                breaker.record_failure()
            continue
        if record_successes:
            breaker.record_success()
        return name, response
    if not combine:
        raise last
    raise _AllFailed(failures) from last


def call_with_fallback(providers, request, breakers):
    return _fallback(providers, request, breakers)


def call_with_fallback_own_words(providers, request, breakers):
    """Correct too: the failures say the same things in other words."""
    def describe(exc):
        status = getattr(exc, "status_code", None)
        return f"failed with {type(exc).__name__}" + (f" (HTTP {status})" if status else "")
    return _fallback(providers, request, breakers, describe=describe, skipped="skipped: breaker is OPEN")


REFERENCE = {
    "check_circuit_breaker": CircuitBreaker,
    "check_call_with_fallback": call_with_fallback,
    "check_stretch_retry_in": TimedBreaker,
}
ALSO_CORRECT = {"check_call_with_fallback": [call_with_fallback_own_words]}


# -- CircuitBreaker -------------------------------------------------------------------------

class _WrongOffByOne(CircuitBreaker):
    def record_failure(self) -> None:
        if self.state == "half_open":
            self._opened_at, self._trial = self.clock(), False
            return
        self.failures += 1
        if self.failures > self.failure_threshold and not self._open:  # one failure too late
            self._open, self._opened_at = True, self.clock()


class _WrongTotalFailures(CircuitBreaker):
    def record_success(self) -> None:  # closes but never resets the count
        self._open, self._trial = False, False


class _WrongNoHalfOpen(CircuitBreaker):
    @property
    def state(self) -> str:
        if self._open and self.clock() - self._opened_at >= self.reset_after:
            self._open, self.failures = False, 0  # straight back to closed: a flood, not a trial
        return "open" if self._open else "closed"


class _WrongUnlimitedTrials(CircuitBreaker):
    def allow(self) -> bool:
        return self.state != "open"


class _WrongStaleTimer(CircuitBreaker):
    def record_failure(self) -> None:
        if self.state == "half_open":
            self._trial = False  # reopens, but the clock still counts from the first opening
            return
        super().record_failure()


class _WrongWallClock(CircuitBreaker):
    def __init__(self, failure_threshold=3, reset_after=30.0, clock=time.monotonic):
        super().__init__(failure_threshold, reset_after, time.monotonic)


class _WrongStrictWait(CircuitBreaker):
    @property
    def state(self) -> str:
        if not self._open:
            return "closed"
        return "half_open" if self.clock() - self._opened_at > self.reset_after else "open"


# -- call_with_fallback ----------------------------------------------------------------------

def _wrong_ignores_breakers(providers, request, breakers):
    return _fallback(providers, request, breakers, use_breaker=False)


def _wrong_never_records_failures(providers, request, breakers):
    return _fallback(providers, request, breakers, record_failures=False)


def _wrong_never_records_successes(providers, request, breakers):
    return _fallback(providers, request, breakers, record_successes=False)


def _wrong_falls_back_on_400(providers, request, breakers):
    return _fallback(providers, request, breakers, request_fault_stops=False)


def _wrong_reraises_last(providers, request, breakers):
    return _fallback(providers, request, breakers, combine=False)


def _wrong_stops_at_first_error(providers, request, breakers):
    name, call = providers[0]
    return name, call(request)


def _wrong_returns_response_only(providers, request, breakers):
    return _fallback(providers, request, breakers)[1]


def _wrong_status_only(providers, request, breakers):
    return _fallback(providers, request, breakers, describe=lambda exc: str(getattr(exc, "status_code", "error")))


def _wrong_asks_breaker_twice(providers, request, breakers):
    for name, _ in providers:
        breakers[name].allow()  # a peek that spends the half-open trial
    return _fallback(providers, request, breakers)


# -- retry_in -----------------------------------------------------------------------------------

class _WrongRetryInNegative(CircuitBreaker):
    def retry_in(self) -> float:
        return self.reset_after - (self.clock() - self._opened_at) if self._open else 0.0


class _WrongRetryInFirstOpening(CircuitBreaker):
    def record_failure(self) -> None:
        first = getattr(self, "first_opened", None)
        super().record_failure()
        if self._open:
            self.first_opened = first if first is not None else self._opened_at

    def retry_in(self) -> float:
        if not self._open:
            return 0.0
        return max(0.0, self.reset_after - (self.clock() - self.first_opened))


class _WrongRetryInWhenClosed(TimedBreaker):
    def retry_in(self) -> float:
        return super().retry_in() if self._open else self.reset_after


class _WrongRetryInWallClock(CircuitBreaker):
    def retry_in(self) -> float:
        if not self._open:
            return 0.0
        return max(0.0, self.reset_after - (time.monotonic() - self._opened_at))


WRONG = {
    "check_circuit_breaker": [_WrongOffByOne, _WrongTotalFailures, _WrongNoHalfOpen, _WrongUnlimitedTrials,
                              _WrongStaleTimer, _WrongWallClock, _WrongStrictWait],
    "check_call_with_fallback": [_wrong_ignores_breakers, _wrong_never_records_failures,
                                 _wrong_never_records_successes, _wrong_falls_back_on_400, _wrong_reraises_last,
                                 _wrong_stops_at_first_error, _wrong_returns_response_only, _wrong_status_only,
                                 _wrong_asks_breaker_twice],
    "check_stretch_retry_in": [_WrongRetryInNegative, _WrongRetryInFirstOpening, _WrongRetryInWhenClosed,
                               _WrongRetryInWallClock],
}
