"""Checks for lab07_retry_backoff: exponential backoff with full jitter, the
retry-after headers, and a retry loop that knows which errors to retry.

    from llmlab.checks import lab07
    lab07.check_backoff_delays(backoff_delays)
    lab07.check_retry_after(retry_after)
    lab07.check_call_with_retries(call_with_retries)
    lab07.check_stretch_retry_after_date(retry_after_date)   # optional

The checks never sleep: they pass a `sleep` that only records the delays, and a
seeded random.Random. The errors are real openai exception objects built on
httpx2 responses carrying real headers.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import httpx2
import openai

from . import Case, Report, expect, run_cases

URL = "https://api.openai.com/v1/chat/completions"
_CLASSES = {400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
            404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
            429: openai.RateLimitError}
_MESSAGES = {400: "Invalid value for 'temperature'.", 401: "Incorrect API key provided.",
             403: "You are not allowed to use this model.", 404: "The model 'gpt-9' does not exist.",
             409: "Conflict.", 422: "Unprocessable entity.", 429: "Rate limit reached for requests.",
             500: "The server had an error while processing your request.", 502: "Bad gateway.",
             503: "The engine is currently overloaded, please try again later.", 504: "Gateway timeout."}


def api_error(status: int, headers: dict[str, str] | None = None, code: str | None = None) -> openai.APIStatusError:
    """The exception the SDK raises for an HTTP error `status`, with a real response and its headers."""
    message = _MESSAGES.get(status, f"HTTP {status}")
    body = {"message": message, "type": "requests" if status == 429 else "invalid_request_error", "param": None,
            "code": code}
    request = httpx2.Request("POST", URL)
    response = httpx2.Response(status, headers=headers or {}, json={"error": body}, request=request)
    cls = _CLASSES.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    return cls(message, response=response, body=body)


def timeout_error() -> openai.APITimeoutError:
    return openai.APITimeoutError(request=httpx2.Request("POST", URL))


def connection_error() -> openai.APIConnectionError:
    return openai.APIConnectionError(request=httpx2.Request("POST", URL))


# -- backoff_delays ----------------------------------------------------------------------------

def _ceiling(i: int, base: float, cap: float) -> float:
    return min(cap, base * 2 ** i)


# What rng.uniform(0, min(cap, base * 2**i)) draws from random.Random(7), for i = 0, 1, 2, ...
# (Python's generator is the same on every platform and version, so these are fixed numbers).
SEEDED_DELAYS = {
    (0.5, 8.0): [0.16191638241658118, 0.15084917392450192, 1.3018689460797075, 0.28974514667017104,
                 4.287056034453514, 2.9255113353006843],
    (1.0, 20.0): [0.32383276483316237, 0.30169834784900385, 2.603737892159415, 0.5794902933403421,
                  8.574112068907027, 7.31377833825171, 1.1599784954941361, 10.148714663788406,
                  0.7499131688396976, 8.672913673247717],
}


def _delays(fn, attempts, base, cap, seed=7):
    out = fn(attempts, base, cap, random.Random(seed))
    expect(isinstance(out, list), f"return a list of delays, not {type(out).__name__}")
    expect(len(out) == attempts, f"backoff_delays({attempts}, ...) returns {attempts} delays, you returned {len(out)}")
    return [float(d) for d in out]


def _bd_count(fn):
    _delays(fn, 5, 0.5, 8.0)
    _delays(fn, 1, 0.5, 8.0)
    _delays(fn, 0, 0.5, 8.0)


def _bd_bounds(fn):
    for seed in range(20):
        for i, d in enumerate(_delays(fn, 8, 0.5, 4.0, seed)):
            ceiling = _ceiling(i, 0.5, 4.0)
            expect(0 <= d <= ceiling, f"delay {i} (counting from 0) must lie in [0, min(cap, base * 2**{i})] = "
                                      f"[0, {ceiling}]; got {d:.3f}. The first delay's ceiling is base itself")


def _bd_jitter(fn):
    out = _delays(fn, 6, 1.0, 32.0)
    ceilings = [_ceiling(i, 1.0, 32.0) for i in range(6)]
    expect(out != ceilings, "these are the ceilings, not jittered delays: draw each delay uniformly between 0 and "
                            "its ceiling (full jitter), so clients that failed together do not retry together")
    expect(len(set(out)) == len(out), "every delay should be a fresh random draw")


def _bd_seeded(fn):
    for attempts, base, cap in ((6, 0.5, 8.0), (10, 1.0, 20.0)):
        want = SEEDED_DELAYS[(base, cap)]
        got = _delays(fn, attempts, base, cap, 7)
        expect(all(math.isclose(g, w, rel_tol=1e-12) for g, w in zip(got, want, strict=False)),
               "with random.Random(7) the delays should be rng.uniform(0, min(cap, base * 2**i)) for i = 0, 1, 2, "
               "...: one draw per delay, in order, from the rng you were given (not the random module)")


def _bd_consumes_rng(fn):
    rng, twin = random.Random(11), random.Random(11)
    fn(4, 0.5, 8.0, rng)
    for _ in range(4):
        twin.random()  # uniform() costs one draw: the twin is where the rng should be now
    expect(rng.random() == twin.random(), "draw exactly one random number per delay from the rng you were given")


def check_backoff_delays(fn, quiet: bool = False) -> Report:
    return run_cases("backoff_delays", fn, [
        Case("one delay per attempt", _bd_count),
        Case("each delay within min(cap, base * 2**i)", _bd_bounds),
        Case("full jitter, not the ceiling", _bd_jitter),
        Case("seeded: rng.uniform(0, ceiling)", _bd_seeded),
        Case("one draw per delay from the given rng", _bd_consumes_rng),
    ], quiet)


# -- retry_after ---------------------------------------------------------------------------------

def _ra(fn, headers: dict[str, str]) -> Any:
    return fn(httpx2.Headers(headers))


def _ra_seconds(fn):
    expect(_ra(fn, {"retry-after": "2"}) == 2.0, "retry-after: 2 means wait 2.0 seconds")
    expect(_ra(fn, {"retry-after": "0.5"}) == 0.5, "retry-after may be a decimal number of seconds (0.5)")
    expect(_ra(fn, {"Retry-After": "7"}) == 7.0, "header names are case-insensitive (httpx2.Headers handles it)")


def _ra_ms(fn):
    got = _ra(fn, {"retry-after-ms": "250"})
    expect(got is not None and math.isclose(got, 0.25), f"retry-after-ms: 250 means 0.25 seconds (got {got})")
    got = _ra(fn, {"retry-after-ms": "1500", "retry-after": "2"})
    expect(got is not None and math.isclose(got, 1.5),
           f"when both headers are present, retry-after-ms wins: it is the more precise one (got {got})")


def _ra_absent(fn):
    expect(_ra(fn, {}) is None, "no header: return None (the caller then uses its own backoff)")
    expect(_ra(fn, {"x-ratelimit-reset-requests": "6m0s"}) is None,
           "only retry-after-ms and retry-after count; x-ratelimit-reset-* is a different thing")


def _ra_invalid(fn):
    for value in ("soon", "", "-1", "nan", "inf", "Wed, 21 Oct 2026 07:28:00 GMT"):
        expect(_ra(fn, {"retry-after": value}) is None,
               f"retry-after: {value!r} is not a finite, non-negative number of seconds: return None (never let "
               "a bad header crash the retry loop or make it sleep forever)")
    got = _ra(fn, {"retry-after-ms": "soon", "retry-after": "3"})
    expect(got == 3.0, "an unusable retry-after-ms falls back to retry-after")


def check_retry_after(fn, quiet: bool = False) -> Report:
    return run_cases("retry_after", fn, [
        Case("retry-after in seconds", _ra_seconds),
        Case("retry-after-ms, and it wins", _ra_ms),
        Case("no header: None", _ra_absent),
        Case("unusable values: None", _ra_invalid),
    ], quiet)


# -- call_with_retries ------------------------------------------------------------------------------

class Script:
    """The function being retried: raises or returns the prepared outcomes in order."""

    def __init__(self, *outcomes: Any):
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        expect(bool(self.outcomes), f"attempt {self.calls} was not expected: stop retrying after max_attempts, "
                                    "and do not call again after a success")
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class Sleeps(list):
    """An injected sleep: records each delay instead of waiting."""

    def __call__(self, seconds: float) -> None:
        expect(isinstance(seconds, (int, float)) and seconds >= 0, f"sleep() got {seconds!r}: delays are seconds >= 0")
        self.append(float(seconds))


def _retry(fn, script, max_attempts=4, seed=7, **kwargs):
    sleeps = Sleeps()
    result = fn(script, max_attempts=max_attempts, sleep=sleeps, rng=random.Random(seed), **kwargs)
    return result, sleeps


def _expect_raises(fn, script, error, max_attempts=4, **kwargs):
    sleeps = Sleeps()
    try:
        result = fn(script, max_attempts=max_attempts, sleep=sleeps, rng=random.Random(7), **kwargs)
    except (AssertionError, NotImplementedError):
        raise
    except BaseException as exc:  # noqa: BLE001 - compared below
        expect(exc is error, f"re-raise the original exception itself ({type(error).__name__}), not "
                             f"{type(exc).__name__}: callers handle the SDK's errors")
        return sleeps
    raise AssertionError(f"expected {type(error).__name__} to be raised, but you returned {result!r}")


def _cr_success(fn):
    script = Script("answer")
    result, sleeps = _retry(fn, script)
    expect(result == "answer", "return what fn() returned")
    expect(script.calls == 1 and not sleeps, "a first-time success calls fn once and never sleeps")


def _cr_jitter(fn):
    script = Script(api_error(503), api_error(500), api_error(502), "answer")
    result, sleeps = _retry(fn, script, base=0.5, cap=8.0)
    expect(result == "answer" and script.calls == 4, "5xx errors are retried until fn() succeeds")
    want = SEEDED_DELAYS[(0.5, 8.0)][:3]
    expect(len(sleeps) == 3, f"3 failures before the success mean 3 sleeps, you slept {len(sleeps)} times")
    expect(sleeps != [0.5, 1.0, 2.0], "you slept the ceilings base * 2**i: draw uniformly between 0 and the ceiling "
                                      "(full jitter)")
    expect(all(math.isclose(s, w, rel_tol=1e-12) for s, w in zip(sleeps, want, strict=False)),
           f"with random.Random(7), base=0.5 and cap=8 the sleeps should be {[round(w, 3) for w in want]} "
           f"(rng.uniform(0, min(cap, base * 2**i)) after failure i = 0, 1, 2); you slept "
           f"{[round(s, 3) for s in sleeps]}")


def _cr_cap(fn):
    errors = [api_error(503) for _ in range(7)]
    sleeps = _expect_raises(fn, Script(*errors), errors[-1], max_attempts=7, base=1.0, cap=4.0)
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    expect(len(sleeps) == 6, f"7 attempts have 6 sleeps between them, you slept {len(sleeps)} times")
    expect(all(0 <= s <= c for s, c in zip(sleeps, ceilings, strict=False)),
           f"with base=1 and cap=4 each sleep stays within {ceilings}; you slept {[round(s, 3) for s in sleeps]}")


def _cr_retry_after(fn):
    script = Script(api_error(429, {"retry-after": "2"}), "answer")
    result, sleeps = _retry(fn, script)
    expect(result == "answer", "a 429 is retried")
    expect(sleeps == [2.0], f"the server said retry-after: 2, so sleep exactly 2.0 seconds (you slept {sleeps})")
    script = Script(api_error(429, {"retry-after-ms": "120"}), api_error(503, {"retry-after": "1"}), "answer")
    result, sleeps = _retry(fn, script)
    expect(len(sleeps) == 2 and math.isclose(sleeps[0], 0.12) and sleeps[1] == 1.0,
           f"honour retry-after-ms (0.12 s) and a retry-after on a 503 (1.0 s); you slept {sleeps}")


def _cr_mixed(fn):
    script = Script(api_error(429, {"retry-after": "3"}), api_error(503), "answer")
    _result, sleeps = _retry(fn, script, base=0.5, cap=8.0)
    expect(len(sleeps) == 2 and sleeps[0] == 3.0, f"first the server's 3.0 seconds (you slept {sleeps})")
    expect(0 <= sleeps[1] <= 1.0, f"then, without a header, jitter under the ceiling of the second failure "
                                  f"(base * 2**1 = 1.0); you slept {sleeps[1]:.3f}")


def _cr_network(fn):
    script = Script(timeout_error(), connection_error(), "answer")
    try:
        result, sleeps = _retry(fn, script)
    except openai.APIConnectionError as exc:
        raise AssertionError(f"{type(exc).__name__} escaped after {script.calls} call(s): timeouts "
                             "(APITimeoutError) and connection errors (APIConnectionError) are retried too") from None
    expect(result == "answer" and script.calls == 3, "timeouts (APITimeoutError) and connection errors "
                                                     "(APIConnectionError) are retried: no response arrived")
    expect(len(sleeps) == 2, "sleep before each retry")


def _cr_never(fn):
    for status in (400, 401, 403, 404, 422):
        error = api_error(status)
        script = Script(error, "answer")
        sleeps = _expect_raises(fn, script, error)
        expect(script.calls == 1 and not sleeps,
               f"a {status} ({type(error).__name__}) is a problem with the request or the key: asking again cannot "
               "help, so raise it at once, without sleeping")


def _cr_quota(fn):
    error = api_error(429, {"retry-after": "1"}, code="insufficient_quota")
    script = Script(error, "answer")
    sleeps = _expect_raises(fn, script, error)
    expect(script.calls == 1 and not sleeps, "a 429 with code 'insufficient_quota' means the account is out of "
                                             "credit: waiting will not help, so raise it at once")


def _cr_other(fn):
    error = ValueError("a bug in the caller's code")
    script = Script(error, "answer")
    sleeps = _expect_raises(fn, script, error)
    expect(script.calls == 1 and not sleeps, "only the SDK's transient errors are retried; any other exception "
                                             "propagates at once")


def _cr_gives_up(fn):
    errors = [api_error(503), api_error(503), api_error(503)]
    script = Script(*errors, "too late")
    sleeps = _expect_raises(fn, script, errors[-1], max_attempts=3)
    expect(script.calls == 3, f"max_attempts=3 means 3 calls in all, you made {script.calls}")
    expect(len(sleeps) == 2, f"sleep between attempts only, never after the last one (you slept {len(sleeps)} times)")
    error = api_error(429)
    script = Script(error, "too late")
    sleeps = _expect_raises(fn, script, error, max_attempts=1)
    expect(script.calls == 1 and not sleeps, "max_attempts=1 means no retry at all")


def check_call_with_retries(fn, quiet: bool = False) -> Report:
    return run_cases("call_with_retries", fn, [
        Case("success at once: no sleep", _cr_success),
        Case("5xx retried with seeded full jitter", _cr_jitter),
        Case("delays capped", _cr_cap),
        Case("retry-after and retry-after-ms honoured", _cr_retry_after),
        Case("server's wait, then jitter", _cr_mixed),
        Case("timeouts and connection errors retried", _cr_network),
        Case("400/401/403/404/422 never retried", _cr_never),
        Case("insufficient_quota not retried", _cr_quota),
        Case("other exceptions not retried", _cr_other),
        Case("gives up after max_attempts", _cr_gives_up),
    ], quiet)


# -- optional stretch: retry-after as an HTTP date ------------------------------------------------

UTC = dt.UTC
NOW = dt.datetime(2026, 10, 21, 7, 27, 30, tzinfo=UTC)
DATE_IN_30_S = "Wed, 21 Oct 2026 07:28:00 GMT"


def _wait(fn, headers: dict[str, str], now: dt.datetime = NOW, **kwargs: Any) -> Any:
    got = fn(httpx2.Headers(headers), now, **kwargs)
    expect(got is None or (isinstance(got, (int, float)) and not isinstance(got, bool)),
           f"return seconds as a number, or None (got {got!r})")
    return got


def _close_to(got: Any, want: float) -> bool:
    return got is not None and math.isclose(got, want, abs_tol=1e-6)


def _rd_date(fn):
    got = _wait(fn, {"retry-after": DATE_IN_30_S})
    expect(_close_to(got, 30.0), f"at {NOW:%H:%M:%S} UTC, retry-after: {DATE_IN_30_S} means 30 seconds (got {got}); "
                                 "parse it with email.utils.parsedate_to_datetime and subtract now")
    got = _wait(fn, {"retry-after": "Wed, 21 Oct 2026 07:20:00 GMT"})
    expect(_close_to(got, 0.0), f"a date already past means no wait: 0.0, never a negative sleep (got {got})")


def _rd_now(fn):
    later = NOW + dt.timedelta(seconds=20)
    got = _wait(fn, {"retry-after": DATE_IN_30_S}, later)
    expect(_close_to(got, 10.0), f"measure from the now you were given (20 s later the wait is 10.0, got {got}): "
                                 "a clock you inject is a clock you can test")
    oslo = NOW.astimezone(dt.timezone(dt.timedelta(hours=2)))
    got = _wait(fn, {"retry-after": DATE_IN_30_S}, oslo)
    expect(_close_to(got, 30.0), f"now may come in any time zone: {oslo.isoformat()} is the same instant as "
                                 f"{NOW.isoformat()}, so the wait is still 30.0 (got {got}). Subtract aware datetimes")


def _rd_cap(fn):
    got = _wait(fn, {"retry-after": "Wed, 21 Oct 2026 09:00:00 GMT"})
    expect(_close_to(got, 60.0), f"a server that asks for hours is capped at cap (60 s by default); got {got}")
    got = _wait(fn, {"retry-after": "600"}, cap=120.0)
    expect(_close_to(got, 120.0), f"numbers are capped too, at the cap you were given (got {got})")


def _rd_numbers(fn):
    got = _wait(fn, {"retry-after-ms": "1500", "retry-after": DATE_IN_30_S})
    expect(_close_to(got, 1.5), f"retry-after-ms still wins, as in Task 2 (got {got})")
    got = _wait(fn, {"retry-after": "2"})
    expect(_close_to(got, 2.0), f"a number of seconds still works (got {got})")


def _rd_invalid(fn):
    for value in ("soon", "Wed, 99 Foo 2026 07:28:00 GMT", ""):
        got = _wait(fn, {"retry-after": value})
        expect(got is None, f"retry-after: {value!r} is neither a number nor a date: return None (got {got!r})")
    expect(_wait(fn, {}) is None, "no header: None")


def check_stretch_retry_after_date(fn, quiet: bool = False) -> Report:
    """Optional: retry_after_date(headers, now, cap) also reads the HTTP-date form of retry-after."""
    return run_cases("retry_after_date (optional)", fn, [
        Case("an HTTP date becomes seconds", _rd_date),
        Case("measured from the given now", _rd_now),
        Case("capped", _rd_cap),
        Case("numbers work as before", _rd_numbers),
        Case("neither number nor date: None", _rd_invalid),
    ], quiet)
