"""Doubles for lab07_retry_backoff: backoff_delays, retry_after, call_with_retries,
retry_after_date."""

import datetime as dt
import email.utils
import math
import random
import time
from collections.abc import Callable
from typing import Any

import openai


def _ceiling(i, base, cap):
    return min(cap, base * 2 ** i)


def backoff_delays(attempts, base=0.5, cap=8.0, rng=None):
    rng = rng or random.Random()
    return [rng.uniform(0, _ceiling(i, base, cap)) for i in range(attempts)]


def retry_after(headers):
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


def _retryable(exc, quota=True, all_status=False, network=True):
    if isinstance(exc, openai.APIConnectionError):
        return network
    if isinstance(exc, openai.APIStatusError):
        if all_status:
            return True
        if exc.status_code == 429:
            return not (quota and exc.code == "insufficient_quota")
        return exc.status_code >= 500
    return False


def _retrier(jitter=True, honour=True, quota=True, all_status=False, network=True, extra_attempt=False,
             sleep_after_last=False, wrap=False, first_exponent=0):
    def call_with_retries(fn: Callable[[], Any], max_attempts=4, sleep=time.sleep, rng=None, base=0.5, cap=8.0):
        rng = rng or random.Random()
        attempts = max_attempts + 1 if extra_attempt else max_attempts
        for i in range(attempts):
            try:
                return fn()
            except Exception as exc:
                if not _retryable(exc, quota, all_status, network):
                    raise
                response = getattr(exc, "response", None)
                wait = retry_after(response.headers) if (honour and response is not None) else None
                if wait is None:
                    ceiling = _ceiling(i + first_exponent, base, cap)
                    wait = rng.uniform(0, ceiling) if jitter else ceiling
                if i == attempts - 1:
                    if sleep_after_last:
                        sleep(wait)
                    if wrap:
                        raise RuntimeError(f"gave up after {attempts} attempts") from exc
                    raise
                sleep(wait)
    return call_with_retries


def _named(fn, name):
    fn.__name__ = name
    return fn


def _date_wait(headers, now, cap=60.0, clamp=True, use_cap=True, naive=False, real_clock=False):
    seconds = retry_after(headers)
    if seconds is None and headers.get("retry-after"):
        try:
            when = email.utils.parsedate_to_datetime(headers["retry-after"])
        except (TypeError, ValueError):
            return None
        if real_clock:
            now = dt.datetime.now(dt.UTC)
        if naive:
            when, now = when.replace(tzinfo=None), now.replace(tzinfo=None)
        seconds = (when - now).total_seconds()
        if clamp:
            seconds = max(seconds, 0.0)
    if seconds is None:
        return None
    return min(seconds, cap) if use_cap else seconds


def retry_after_date(headers, now, cap=60.0):
    return _date_wait(headers, now, cap)


REFERENCE = {
    "check_backoff_delays": backoff_delays,
    "check_retry_after": retry_after,
    "check_call_with_retries": _named(_retrier(), "call_with_retries"),
    "check_stretch_retry_after_date": retry_after_date,
}


# -- backoff_delays -----------------------------------------------------------------------

def _wrong_delays_no_jitter(attempts, base=0.5, cap=8.0, rng=None):
    return [_ceiling(i, base, cap) for i in range(attempts)]


def _wrong_delays_no_cap(attempts, base=0.5, cap=8.0, rng=None):
    rng = rng or random.Random()
    return [rng.uniform(0, base * 2 ** i) for i in range(attempts)]


def _wrong_delays_from_one(attempts, base=0.5, cap=8.0, rng=None):
    rng = rng or random.Random()
    return [rng.uniform(0, min(cap, base * 2 ** (i + 1))) for i in range(attempts)]


def _wrong_delays_global_random(attempts, base=0.5, cap=8.0, rng=None):
    return [random.uniform(0, _ceiling(i, base, cap)) for i in range(attempts)]


def _wrong_delays_equal_jitter(attempts, base=0.5, cap=8.0, rng=None):
    rng = rng or random.Random()
    return [_ceiling(i, base, cap) / 2 + rng.uniform(0, _ceiling(i, base, cap) / 2) for i in range(attempts)]


def _wrong_delays_extra_draw(attempts, base=0.5, cap=8.0, rng=None):
    rng = rng or random.Random()
    delays = [rng.uniform(0, _ceiling(i, base, cap)) for i in range(attempts)]
    rng.random()  # one draw too many: the caller's next number shifts
    return delays


# -- retry_after -----------------------------------------------------------------------------

def _wrong_ra_ignores_ms(headers):
    value = headers.get("retry-after")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _wrong_ra_ms_as_seconds(headers):
    for name in ("retry-after-ms", "retry-after"):
        try:
            seconds = float(headers.get(name))
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


def _wrong_ra_no_validation(headers):
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers.get(name)) * scale
        except (TypeError, ValueError):
            continue
    return None


def _wrong_ra_seconds_first(headers):
    for name, scale in (("retry-after", 1.0), ("retry-after-ms", 0.001)):
        try:
            seconds = float(headers.get(name)) * scale
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


def _wrong_ra_crashes(headers):
    if "retry-after-ms" in headers:
        return float(headers["retry-after-ms"]) / 1000
    if "retry-after" in headers:
        seconds = float(headers["retry-after"])
        return seconds if seconds >= 0 else None
    return None


# -- retry_after_date ---------------------------------------------------------------------------

def _wrong_date_no_cap(headers, now, cap=60.0):
    return _date_wait(headers, now, cap, use_cap=False)


def _wrong_date_negative(headers, now, cap=60.0):
    return _date_wait(headers, now, cap, clamp=False)


def _wrong_date_naive(headers, now, cap=60.0):
    return _date_wait(headers, now, cap, naive=True)


def _wrong_date_real_clock(headers, now, cap=60.0):
    return _date_wait(headers, now, cap, real_clock=True)


def _wrong_date_numbers_only(headers, now, cap=60.0):
    seconds = retry_after(headers)
    return None if seconds is None else min(seconds, cap)


WRONG = {
    "check_backoff_delays": [_wrong_delays_no_jitter, _wrong_delays_no_cap, _wrong_delays_from_one,
                             _wrong_delays_global_random, _wrong_delays_equal_jitter, _wrong_delays_extra_draw],
    "check_retry_after": [_wrong_ra_ignores_ms, _wrong_ra_ms_as_seconds, _wrong_ra_no_validation,
                          _wrong_ra_seconds_first, _wrong_ra_crashes],
    "check_call_with_retries": [
        _named(_retrier(jitter=False), "_wrong_retry_no_jitter"),
        _named(_retrier(honour=False), "_wrong_retry_ignores_retry_after"),
        _named(_retrier(all_status=True), "_wrong_retry_retries_4xx"),
        _named(_retrier(quota=False), "_wrong_retry_retries_insufficient_quota"),
        _named(_retrier(network=False), "_wrong_retry_not_timeouts"),
        _named(_retrier(extra_attempt=True), "_wrong_retry_one_attempt_too_many"),
        _named(_retrier(sleep_after_last=True), "_wrong_retry_sleeps_after_last"),
        _named(_retrier(wrap=True), "_wrong_retry_wraps_the_error"),
        _named(_retrier(first_exponent=1), "_wrong_retry_first_ceiling_doubled"),
    ],
    "check_stretch_retry_after_date": [_wrong_date_no_cap, _wrong_date_negative, _wrong_date_naive,
                                       _wrong_date_real_clock, _wrong_date_numbers_only],
}
