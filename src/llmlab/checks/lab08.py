"""Checks for lab08_fallback_circuit_breaker: a circuit breaker with closed,
open and half-open states, and a fallback chain that consults one breaker per
provider.

    from llmlab.checks import lab08
    lab08.check_circuit_breaker(CircuitBreaker)
    lab08.check_call_with_fallback(call_with_fallback)

Everything runs in virtual time (a fake clock) against fake providers that
return a value or raise the exceptions the openai SDK raises, built on
httpx2 responses exactly as the SDK builds them. No request leaves the machine.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import httpx2
import openai

from . import Case, Report, expect, run_cases

URL = "https://api.example.com/v1/chat/completions"
REQUEST = {"messages": [{"role": "user", "content": "Is my order A123 shipped?"}], "max_tokens": 40}


class FakeClock:
    """Virtual time: `clock()` reads it, tests move it by assigning `now`."""

    def __init__(self, start: float = 1000.0):
        self.now = float(start)

    def __call__(self) -> float:
        return self.now


# -- the failures a provider can produce, built the way the SDK builds them -------

def _request() -> httpx2.Request:
    return httpx2.Request("POST", URL)


def status_error(status: int, message: str = "", headers: dict | None = None) -> openai.APIStatusError:
    """The SDK exception for an HTTP error status (RateLimitError for 429, ...)."""
    classes = {400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
               404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
               429: openai.RateLimitError}
    cls = classes.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    message = message or f"Error code: {status}"
    body = {"error": {"message": message, "type": "error", "param": None, "code": None}}
    response = httpx2.Response(status, request=_request(), headers=headers or {}, json=body)
    return cls(message, response=response, body=body["error"])


def connection_error() -> openai.APIConnectionError:
    return openai.APIConnectionError(request=_request())


def timeout_error() -> openai.APITimeoutError:
    return openai.APITimeoutError(request=_request())


class FakeProvider:
    """A provider callable: `provider(request)` plays the next scripted outcome
    (an exception is raised, anything else returned; the last one repeats)."""

    def __init__(self, *outcomes: Any):
        self.outcomes = list(outcomes)
        self.requests: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    @property
    def calls(self) -> int:
        return len(self.requests)


# -- a reference breaker (used to test call_with_fallback on its own) ------------------

class _Breaker:
    """The behaviour Task 1 asks for; `log` notes every call made on it."""

    def __init__(self, failure_threshold: int = 3, reset_after: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.failure_threshold, self.reset_after, self.clock = failure_threshold, reset_after, clock
        self.failures = 0
        self._open = False
        self._opened_at = 0.0
        self._trial = False
        self.log: list[str] = []

    @property
    def state(self) -> str:
        if not self._open:
            return "closed"
        return "half_open" if self.clock() - self._opened_at >= self.reset_after else "open"

    def allow(self) -> bool:
        self.log.append("allow")
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial:
            self._trial = True
            return True
        return False

    def record_success(self) -> None:
        self.log.append("success")
        self.failures, self._open, self._trial = 0, False, False

    def record_failure(self) -> None:
        self.log.append("failure")
        if self.state == "half_open":
            self._opened_at, self._trial = self.clock(), False
            return
        self.failures += 1
        if self.failures >= self.failure_threshold and not self._open:
            self._open, self._opened_at = True, self.clock()


# -- check_circuit_breaker -------------------------------------------------------------

def _new(cls, threshold: int = 3, reset_after: float = 30.0, start: float = 1000.0):
    clock = FakeClock(start)
    return cls(failure_threshold=threshold, reset_after=reset_after, clock=clock), clock


def _state(breaker) -> str:
    state = breaker.state
    expect(state in ("closed", "open", "half_open"),
           f"state must be one of 'closed', 'open', 'half_open' (a str), not {state!r}")
    return state


def _opened(cls, threshold: int = 3, reset_after: float = 30.0):
    breaker, clock = _new(cls, threshold, reset_after)
    for _ in range(threshold):
        breaker.record_failure()
    expect(_state(breaker) == "open", f"after {threshold} failures in a row the breaker must be open")
    return breaker, clock


def _starts_closed(cls):
    breaker, _ = _new(cls)
    expect(_state(breaker) == "closed", "a new breaker starts closed")
    for _ in range(3):
        expect(breaker.allow() is True, "a closed breaker lets every call through: allow() returns True")
    expect(_state(breaker) == "closed", "asking allow() must not change a closed breaker's state")


def _opens_at_threshold(cls):
    for threshold in (3, 1):
        breaker, _ = _new(cls, threshold)
        for n in range(1, threshold):
            breaker.record_failure()
            expect(_state(breaker) == "closed" and breaker.allow(),
                   f"threshold {threshold}: after {n} failure(s) the breaker must still be closed")
        breaker.record_failure()
        expect(_state(breaker) == "open",
               f"threshold {threshold}: failure number {threshold} must open the breaker (the count reaching "
               "the threshold opens it, not the one after)")
        expect(breaker.allow() is False, "an open breaker refuses calls: allow() returns False")


def _consecutive_only(cls):
    breaker, _ = _new(cls, 3)
    for outcome in ("failure", "failure", "success", "failure", "failure"):
        getattr(breaker, f"record_{outcome}")()
    expect(_state(breaker) == "closed",
           "failure, failure, success, failure, failure must leave it closed: a success resets the count, "
           "only failures in a row open the breaker")
    breaker.record_failure()
    expect(_state(breaker) == "open", "the third failure in a row after the success must open it")


def _waits_reset_after(cls):
    breaker, clock = _opened(cls, 3, 30.0)  # opened at t=1000
    for t in (1000.0, 1015.0, 1029.9):
        clock.now = t
        expect(breaker.allow() is False and _state(breaker) == "open",
               f"opened at t=1000 with reset_after=30, at t={t:g} it must still be open and refuse calls. "
               "Read the time only from the clock you were given")
    clock.now = 1030.0
    expect(_state(breaker) == "half_open",
           "opened at t=1000 with reset_after=30, at t=1030 it must read 'half_open': once reset_after "
           "seconds have passed (equal counts), a trial is due. Read the time only from the clock you were given")


def _one_trial(cls):
    breaker, clock = _opened(cls, 3, 30.0)
    clock.now = 1040.0
    expect(breaker.allow() is True, "a half-open breaker lets one trial call through: the first allow() is True")
    expect(breaker.allow() is False and breaker.allow() is False,
           "while the trial is in flight, further calls are refused: only one allow() returns True")
    expect(_state(breaker) == "half_open", "until the trial's outcome is recorded the state stays 'half_open'")


def _trial_success_closes(cls):
    breaker, clock = _opened(cls, 3, 30.0)
    clock.now = 1040.0
    breaker.allow()
    breaker.record_success()
    expect(_state(breaker) == "closed", "a successful trial closes the breaker")
    expect(breaker.allow() is True and breaker.allow() is True, "a closed breaker lets every call through again")
    breaker.record_failure()
    breaker.record_failure()
    expect(_state(breaker) == "closed",
           "after closing, the failure count starts from zero: two failures must not reopen a threshold-3 breaker")
    breaker.record_failure()
    expect(_state(breaker) == "open", "three new failures in a row open it again")


def _trial_failure_reopens(cls):
    breaker, clock = _opened(cls, 3, 30.0)  # opened at t=1000
    clock.now = 1040.0
    breaker.allow()
    breaker.record_failure()
    expect(_state(breaker) == "open", "a failed trial opens the breaker again at once")
    expect(breaker.allow() is False, "after a failed trial, calls are refused")
    clock.now = 1060.0
    expect(_state(breaker) == "open" and breaker.allow() is False,
           "trial failed at t=1040, reset_after=30: at t=1060 it must still be open. The wait restarts at "
           "the failed trial, not at the first opening")
    clock.now = 1070.0
    expect(_state(breaker) == "half_open" and breaker.allow() is True,
           "trial failed at t=1040, reset_after=30: at t=1070 the next trial is due")


BREAKER_CASES = [
    Case("starts closed and lets calls through", _starts_closed),
    Case("opens after exactly failure_threshold failures", _opens_at_threshold),
    Case("only consecutive failures count", _consecutive_only),
    Case("stays open until reset_after has passed", _waits_reset_after),
    Case("half-open lets exactly one trial through", _one_trial),
    Case("a successful trial closes it", _trial_success_closes),
    Case("a failed trial reopens it with a fresh wait", _trial_failure_reopens),
]


def check_circuit_breaker(cls, quiet: bool = False) -> Report:
    """`cls` is your CircuitBreaker class (the checks create instances with a fake clock)."""
    return run_cases("CircuitBreaker", cls, BREAKER_CASES, quiet)


# -- check_call_with_fallback ------------------------------------------------------------

def _chain(**providers: FakeProvider):
    clock = FakeClock()
    breakers = {name: _Breaker(failure_threshold=3, reset_after=60.0, clock=clock) for name in providers}
    return list(providers.items()), breakers, clock


def _run(fn, providers, breakers, request=REQUEST):
    result = fn(providers, request, breakers)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"return a (provider name, response) pair, not {type(result).__name__}")
    return result


def _first_answers(fn):
    primary, backup = FakeProvider("answer from primary"), FakeProvider("answer from backup")
    providers, breakers, _ = _chain(primary=primary, backup=backup)
    result = _run(fn, providers, breakers)
    expect(result == ("primary", "answer from primary"),
           f"the first provider answered, so return ('primary', its response); you returned {result!r}")
    expect(primary.requests == [REQUEST], "call each provider with the request you were given, once")
    expect(backup.calls == 0, "do not call the next provider once one has answered")
    expect(breakers["primary"].log == ["allow", "success"],
           "ask the provider's breaker first (allow()), and record the answer on it (record_success()); "
           f"the breaker saw {breakers['primary'].log}")


def _falls_back(fn):
    failures = {"429 rate limit": status_error(429, "Rate limit reached", {"retry-after": "20"}),
                "503 overloaded": status_error(503, "The server is overloaded"),
                "404 retired model": status_error(404, "The model does not exist"),
                "401 bad key": status_error(401, "Incorrect API key provided"),
                "connection refused": connection_error(),
                "timeout": timeout_error()}
    for label, exc in failures.items():
        primary, backup = FakeProvider(exc), FakeProvider("answer from backup")
        providers, breakers, _ = _chain(primary=primary, backup=backup)
        result = _run(fn, providers, breakers)
        expect(result == ("backup", "answer from backup"),
               f"primary failed with {label}: the request must go to the next provider ({result!r})")
        expect(backup.requests == [REQUEST], "the next provider gets the same request")
        expect(breakers["primary"].log == ["allow", "failure"],
               f"primary failed with {label}: record it on primary's breaker with record_failure() "
               f"(its breaker saw {breakers['primary'].log})")
        expect(breakers["backup"].log == ["allow", "success"], "record the backup's answer on its own breaker")


def _skips_open(fn):
    primary, backup = FakeProvider("answer from primary"), FakeProvider("answer from backup")
    providers, breakers, _ = _chain(primary=primary, backup=backup)
    for _ in range(3):
        breakers["primary"].record_failure()  # primary's circuit is open
    breakers["primary"].log.clear()
    result = _run(fn, providers, breakers)
    expect(primary.calls == 0,
           "primary's breaker is open (allow() returned False): skip it without calling it, that is the "
           "whole point of the breaker")
    expect(result == ("backup", "answer from backup"), f"with primary skipped the backup answers ({result!r})")
    expect(breakers["primary"].log == ["allow"],
           "a skipped provider records neither a success nor a failure (no call was made)")


def _request_fault_stops(fn):
    for exc in (status_error(400, "This model's maximum context length is 2048 tokens"),
                status_error(422, "Unprocessable request")):
        primary, backup = FakeProvider(exc), FakeProvider("answer from backup")
        providers, breakers, _ = _chain(primary=primary, backup=backup)
        try:
            fn(providers, REQUEST, breakers)
        except NotImplementedError:
            raise
        except Exception as raised:  # noqa: BLE001 - checking what was raised
            expect(raised is exc,
                   f"a {exc.status_code} means the request itself is wrong: re-raise that same exception "
                   f"(you raised {type(raised).__name__})")
        else:
            raise AssertionError(f"a {exc.status_code} means the request itself is wrong and every provider "
                                 "would refuse it: re-raise it instead of falling back")
        expect(backup.calls == 0, f"after a {exc.status_code}, do not send the bad request to the next provider")
        expect(breakers["primary"].log == ["allow", "success"],
               f"a {exc.status_code} is not the provider's fault (it answered): record_success() on its breaker, "
               f"never record_failure() (the breaker saw {breakers['primary'].log})")


def _all_fail(fn):
    rate_limited = status_error(429, "Rate limit reached")
    refused = connection_error()
    primary, backup, local = FakeProvider(rate_limited), FakeProvider("unused"), FakeProvider(refused)
    providers, breakers, _ = _chain(primary=primary, backup=backup, local=local)
    for _ in range(3):
        breakers["backup"].record_failure()
    try:
        fn(providers, REQUEST, breakers)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        raised = exc
    else:
        raise AssertionError("every provider failed or was skipped: raise AllProvidersFailed")
    expect(not isinstance(raised, openai.APIError),
           f"raise AllProvidersFailed(failures), not the last provider's {type(raised).__name__}: the caller "
           "needs to know what happened at every provider")
    failures = getattr(raised, "failures", None)
    expect(isinstance(failures, dict), "raise AllProvidersFailed(failures) with a dict {provider name: what happened}")
    expected = {"primary": "RateLimitError 429", "backup": "circuit open", "local": "APIConnectionError"}
    expect(list(failures) == list(expected),
           f"failures must name every provider, skipped ones too, in order: {list(expected)} "
           f"(you had {list(failures)})")
    expect(failures == expected,
           f"describe each failure as '<exception class> <status>' ('RateLimitError 429'), the class alone when "
           f"there is no status ('APIConnectionError'), or 'circuit open' when skipped (you had {failures})")
    expect(raised.__cause__ is refused,
           "chain the last provider error: raise AllProvidersFailed(failures) from <the last exception caught>")


def _breakers_over_requests(fn):
    down = status_error(503, "The server is overloaded")
    primary = FakeProvider(down, down, "answer from primary")  # fails twice, then it is back
    backup = FakeProvider("answer from backup")
    clock = FakeClock()
    breakers = {"primary": _Breaker(failure_threshold=2, reset_after=60.0, clock=clock),
                "backup": _Breaker(failure_threshold=2, reset_after=60.0, clock=clock)}
    providers = [("primary", primary), ("backup", backup)]
    answered = []
    for t in (1000.0, 1001.0, 1002.0, 1030.0):
        clock.now = t
        answered.append(_run(fn, providers, breakers)[0])
    expect(answered == ["backup"] * 4, f"requests 1-4 should all be answered by the backup ({answered})")
    expect(primary.calls == 2,
           f"primary failed twice (threshold 2), so its circuit opened and requests 3 and 4 must skip it; it was "
           f"called {primary.calls} times. Record every failure on its breaker")
    clock.now = 1062.0  # 60 s after the circuit opened: one trial goes through, and primary is back
    first = _run(fn, providers, breakers)
    second = _run(fn, providers, breakers)
    expect(first[0] == "primary",
           "60 s after opening, the half-open breaker lets one trial through and primary answers it")
    expect(second[0] == "primary" and primary.calls == 4,
           "after a successful trial the circuit must be closed, so the next request goes to primary again: "
           "record the success on the breaker (record_success())")


def check_call_with_fallback(fn, quiet: bool = False) -> Report:
    cases = [
        Case("the first healthy provider answers", _first_answers),
        Case("falls back on provider errors (429, 5xx, 401, 404, network)", _falls_back),
        Case("skips a provider whose circuit is open", _skips_open),
        Case("a 400 or 422 stops the chain", _request_fault_stops),
        Case("all failed: one error naming every provider", _all_fail),
        Case("breakers open and recover across requests", _breakers_over_requests),
    ]
    return run_cases("call_with_fallback", fn, cases, quiet)


# -- plausible wrong implementations (tests/test_labs.py makes sure the checks catch them) --

class _WrongOffByOne(_Breaker):
    def record_failure(self) -> None:
        if self.state == "half_open":
            self._opened_at, self._trial = self.clock(), False
            return
        self.failures += 1
        if self.failures > self.failure_threshold and not self._open:  # one failure too late
            self._open, self._opened_at = True, self.clock()


class _WrongTotalFailures(_Breaker):
    def record_success(self) -> None:  # closes but never resets the count
        self._open, self._trial = False, False


class _WrongNoHalfOpen(_Breaker):
    @property
    def state(self) -> str:
        if self._open and self.clock() - self._opened_at >= self.reset_after:
            self._open, self.failures = False, 0  # straight back to closed: a flood, not a trial
        return "open" if self._open else "closed"


class _WrongUnlimitedTrials(_Breaker):
    def allow(self) -> bool:
        return self.state != "open"


class _WrongStaleTimer(_Breaker):
    def record_failure(self) -> None:
        if self.state == "half_open":
            self._trial = False  # reopens, but the clock still counts from the first opening
            return
        super().record_failure()


class _WrongWallClock(_Breaker):
    def __init__(self, failure_threshold=3, reset_after=30.0, clock=time.monotonic):
        super().__init__(failure_threshold, reset_after, time.monotonic)


class _WrongStrictWait(_Breaker):
    @property
    def state(self) -> str:
        if not self._open:
            return "closed"
        return "half_open" if self.clock() - self._opened_at > self.reset_after else "open"


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__} {status}" if status else type(exc).__name__


class _AllFailed(RuntimeError):
    def __init__(self, failures: dict):
        super().__init__("all providers failed: " + "; ".join(f"{k}: {v}" for k, v in failures.items()))
        self.failures = failures


def _reference_fallback(providers, request, breakers, *, use_breaker=True, record_failures=True,
                        record_successes=True, request_fault_stops=True, combine=True):
    failures, last = {}, None
    for name, call in providers:
        breaker = breakers[name]
        if use_breaker and not breaker.allow():
            failures[name] = "circuit open"
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
            failures[name], last = _describe(exc), exc
            if record_failures:
                breaker.record_failure()
            continue
        if record_successes:
            breaker.record_success()
        return name, response
    if not combine:
        raise last
    raise _AllFailed(failures) from last


def _wrong_ignores_breakers(providers, request, breakers):
    return _reference_fallback(providers, request, breakers, use_breaker=False)


def _wrong_never_records_failures(providers, request, breakers):
    return _reference_fallback(providers, request, breakers, record_failures=False)


def _wrong_never_records_successes(providers, request, breakers):
    return _reference_fallback(providers, request, breakers, record_successes=False)


def _wrong_falls_back_on_400(providers, request, breakers):
    return _reference_fallback(providers, request, breakers, request_fault_stops=False)


def _wrong_reraises_last(providers, request, breakers):
    return _reference_fallback(providers, request, breakers, combine=False)


def _wrong_stops_at_first_error(providers, request, breakers):
    name, call = providers[0]
    return name, call(request)


def _wrong_returns_response_only(providers, request, breakers):
    return _reference_fallback(providers, request, breakers)[1]


WRONG = {
    "check_circuit_breaker": [_WrongOffByOne, _WrongTotalFailures, _WrongNoHalfOpen, _WrongUnlimitedTrials,
                              _WrongStaleTimer, _WrongWallClock, _WrongStrictWait],
    "check_call_with_fallback": [_wrong_ignores_breakers, _wrong_never_records_failures,
                                 _wrong_never_records_successes, _wrong_falls_back_on_400, _wrong_reraises_last,
                                 _wrong_stops_at_first_error, _wrong_returns_response_only],
}
