"""Checks for lab08_fallback_circuit_breaker: a circuit breaker with closed,
open and half-open states, and a fallback chain that consults one breaker per
provider.

    from llmlab.checks import lab08
    lab08.check_circuit_breaker(CircuitBreaker)
    lab08.check_call_with_fallback(call_with_fallback)
    lab08.check_stretch_retry_in(TimedBreaker)   # optional

Everything runs in virtual time (a fake clock) against fake providers that
return a value or raise the exceptions the openai SDK raises, built on
httpx2 responses exactly as the SDK builds them. call_with_fallback gets
stand-in breakers whose answers are scripted. No request leaves the machine.
"""

from __future__ import annotations

from typing import Any

import httpx2
import openai

from . import Case, FakeClock, Report, expect, run_cases

URL = "https://api.example.com/v1/chat/completions"
# The output cap as today's OpenAI chat models take it: max_completion_tokens (max_tokens is deprecated).
REQUEST = {"messages": [{"role": "user", "content": "Is my order A123 shipped?"}], "max_completion_tokens": 40}


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


# -- a stand-in breaker (so call_with_fallback is checked on its own) ---------------------

class StandInBreaker:
    """What call_with_fallback sees of a breaker. allow() answers from a script (the last
    answer repeats; True by default), and `log` notes every call made on it."""

    def __init__(self, *answers: bool):
        self.answers = list(answers) or [True]
        self.log: list[str] = []

    def allow(self) -> bool:
        self.log.append("allow")
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def record_success(self) -> None:
        self.log.append("success")

    def record_failure(self) -> None:
        self.log.append("failure")


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
    breakers = {name: StandInBreaker() for name in providers}
    return list(providers.items()), breakers


def _run(fn, providers, breakers, request=REQUEST):
    result = fn(providers, request, breakers)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"return a (provider name, response) pair, not {type(result).__name__}")
    return result


def _first_answers(fn):
    primary, backup = FakeProvider("answer from primary"), FakeProvider("answer from backup")
    providers, breakers = _chain(primary=primary, backup=backup)
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
        providers, breakers = _chain(primary=primary, backup=backup)
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
    providers, breakers = _chain(primary=primary, backup=backup)
    breakers["primary"] = StandInBreaker(False)  # primary's circuit is open
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
        providers, breakers = _chain(primary=primary, backup=backup)
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
    providers, breakers = _chain(primary=primary, backup=backup, local=local)
    breakers["backup"] = StandInBreaker(False)
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
    failures: Any = getattr(raised, "failures", None)
    expect(isinstance(failures, dict), "raise AllProvidersFailed(failures) with a dict {provider name: what happened}")
    expect(list(failures) == ["primary", "backup", "local"],
           f"failures must name every provider, skipped ones too, in order: ['primary', 'backup', 'local'] "
           f"(you had {list(failures)})")
    expect(all(isinstance(v, str) for v in failures.values()), f"describe each failure as a short text ({failures})")
    # The wording is yours; what it must say is fixed.
    expect("RateLimitError" in failures["primary"] and "429" in failures["primary"],
           f"say which exception and which status: primary's failure should name RateLimitError and 429 "
           f"(you had {failures['primary']!r})")
    expect("APIConnectionError" in failures["local"],
           f"local failed without a status: name the exception, APIConnectionError (you had {failures['local']!r})")
    expect("open" in failures["backup"].lower(),
           f"backup was skipped because its circuit is open: say so, e.g. 'circuit open' (you had "
           f"{failures['backup']!r})")
    expect(raised.__cause__ is refused,
           "chain the last provider error: raise AllProvidersFailed(failures) from <the last exception caught>")


def _breakers_over_requests(fn):
    down = status_error(503, "The server is overloaded")
    primary = FakeProvider(down, down, "answer from primary")  # fails twice, then it is back
    backup = FakeProvider("answer from backup")
    # primary's breaker: closed for two requests, open for two, then letting calls through again
    breakers = {"primary": StandInBreaker(True, True, False, False, True), "backup": StandInBreaker()}
    providers = [("primary", primary), ("backup", backup)]
    answered = [_run(fn, providers, breakers)[0] for _ in range(6)]
    expect(answered == ["backup"] * 4 + ["primary"] * 2,
           f"six requests: primary fails twice, is skipped twice while its breaker refuses, then answers twice; "
           f"the answers came from {answered}")
    expect(primary.calls == 4, f"primary must be called only when its breaker allows it (4 times), it was called "
                               f"{primary.calls} times: ask allow() once per request")
    expect(breakers["primary"].log == ["allow", "failure", "allow", "failure", "allow", "allow",
                                       "allow", "success", "allow", "success"],
           f"request after request, ask primary's breaker, then record what happened on it (its log: "
           f"{breakers['primary'].log})")


def check_call_with_fallback(fn, quiet: bool = False) -> Report:
    cases = [
        Case("the first healthy provider answers", _first_answers),
        Case("falls back on provider errors (429, 5xx, 401, 404, network)", _falls_back),
        Case("skips a provider whose circuit is open", _skips_open),
        Case("a 400 or 422 stops the chain", _request_fault_stops),
        Case("all failed: one error naming every provider", _all_fail),
        Case("the breakers decide, request after request", _breakers_over_requests),
    ]
    return run_cases("call_with_fallback", fn, cases, quiet)


# -- optional stretch: when will the next call go through? -------------------------------------------

def _retry_in(breaker) -> float:
    got = breaker.retry_in()
    expect(isinstance(got, (int, float)) and not isinstance(got, bool), f"retry_in() returns seconds, not {got!r}")
    return float(got)


def _ri_closed(cls):
    breaker, _ = _new(cls)
    expect(_retry_in(breaker) == 0.0, "a closed breaker lets calls through now: retry_in() is 0.0")
    breaker.record_failure()
    breaker.record_failure()
    expect(_retry_in(breaker) == 0.0, "two failures of three leave it closed: still 0.0")


def _ri_open(cls):
    breaker, clock = _opened(cls, 3, 30.0)  # opened at t=1000
    for t, left in ((1000.0, 30.0), (1012.5, 17.5), (1029.0, 1.0)):
        clock.now = t
        got = _retry_in(breaker)
        expect(abs(got - left) < 1e-9, f"opened at t=1000 with reset_after=30, at t={t:g} the trial is {left:g} s "
                                       f"away (you said {got:g}). Read the time from the clock you were given")


def _ri_due(cls):
    breaker, clock = _opened(cls, 3, 30.0)
    for t in (1030.0, 1045.0):
        clock.now = t
        expect(_retry_in(breaker) == 0.0, f"at t={t:g} the trial is due (half-open): 0.0, never a negative wait")


def _ri_failed_trial(cls):
    breaker, clock = _opened(cls, 3, 30.0)
    clock.now = 1040.0
    breaker.allow()
    breaker.record_failure()  # the trial failed: open again from t=1040
    got = _retry_in(breaker)
    expect(abs(got - 30.0) < 1e-9, f"the trial failed at t=1040: the next one is 30 s away (you said {got:g})")
    clock.now = 1055.0
    got = _retry_in(breaker)
    expect(abs(got - 15.0) < 1e-9, f"trial failed at t=1040, at t=1055 the next one is 15 s away (you said {got:g})")
    clock.now = 1070.0
    breaker.allow()
    breaker.record_success()
    expect(_retry_in(breaker) == 0.0, "a successful trial closes the breaker: 0.0")


def check_stretch_retry_in(cls, quiet: bool = False) -> Report:
    """Optional: `cls` is your CircuitBreaker subclass with retry_in(), the seconds until a call may go through."""
    return run_cases("retry_in (optional)", cls, [
        Case("closed: 0", _ri_closed),
        Case("open: the time left", _ri_open),
        Case("half-open: 0, never negative", _ri_due),
        Case("a failed trial restarts the wait", _ri_failed_trial),
    ], quiet)
