"""Reading a number the way people type it: "1,105", "1 105", "7%", "$1.20",
"120 tokens", "1.2k". The question's `unit` says which words and symbols may
follow (or, for money, precede) the number; anything else is refused with a
one-line message, so a typo is asked again instead of being marked wrong.

The rules, in the order they apply (docs/quiz.md repeats them for learners):

- Spaces (also no-break and thin spaces), underscores and apostrophes group digits.
- A comma followed by groups of exactly three digits groups thousands ("1,105");
  any other single comma is a decimal comma ("0,5"). With both a dot and a comma,
  the later one is the decimal mark ("1.105,5" and "1,105.5").
- A suffix k or K multiplies by a thousand, M by a million (also the words
  thousand, million, billion). A lower-case m is refused: milli, minutes and
  million are all plausible readings.
- On a question in %, "7%" and "7" are 7 %, and a bare number below 1 ("0.07")
  may also be the fraction: both readings are returned and grading accepts
  either. On a question without a unit or in probability, "20%" means 0.2.
"""

from __future__ import annotations

import math
import re
import unicodedata

from ..errors import LlmlabError

# Words and symbols accepted for each unit the bank uses, beyond the unit itself
# and its singular/plural. Lower case; matched after the number.
_ALIASES = {
    "usd": ("$", "us$", "usd", "dollar", "dollars"),
    "eur": ("€", "eur", "euro", "euros"),
    "%": ("%", "percent", "per cent", "pct"),
    "x": ("x", "×", "times"),
    "s": ("s", "sec", "secs", "second", "seconds"),
    "seconds": ("s", "sec", "secs", "second", "seconds"),
    "minutes": ("min", "mins", "minute", "minutes"),
    "tokens": ("tok", "token", "tokens"),
    "tokens/s": ("tok/s", "tokens/s", "tokens per second", "tokens/sec", "tps"),
    "requests/min": ("rpm", "req/min", "requests/min", "requests per minute", "/min"),
    "requests per minute": ("rpm", "req/min", "requests/min", "requests per minute", "/min"),
    "mb": ("mb", "megabyte", "megabytes"),
}
_CURRENCY_PREFIX = {"usd": ("us$", "$"), "eur": ("€",)}
_MAGNITUDE_WORDS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "bn": 1e9}
_MAGNITUDE_SUFFIX = {"k": 1e3, "K": 1e3, "M": 1e6}
_FRACTION_UNITS = {None, "", "probability"}  # units where "20%" means 0.2

_SPACES = "\u00a0\u202f\u2009\u2007 _'’"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class NotANumber(LlmlabError, ValueError):
    """The entry could not be read as a number in the question's unit; the message
    is one line to show the learner before asking again."""


def _unit_words(unit: str | None) -> tuple[str, ...]:
    if not unit:
        return ()
    key = unit.strip().lower()
    words = {key}
    if key.isalpha():  # singular and plural: "1 request", "3 categories"
        words.update({key.removesuffix("s"), key + "s"})
        if key.endswith("ies"):
            words.add(key[:-3] + "y")
    first = key.split(" ", 1)[0]
    if first in _MAGNITUDE_WORDS:  # "2 million" on a question in "million calls/month"
        words.add(first)
    words.update(_ALIASES.get(key, ()))
    return tuple(sorted(words, key=len, reverse=True))  # longest first: "tokens/s" before "tokens"


def example(unit: str | None) -> str:
    """A hint of what to type, for the prompt and the retry message."""
    if not unit:
        return "e.g. 0.25 or 1,105"
    key = unit.lower()
    if key == "usd":
        return "e.g. 1.20 or $1.20"
    if key == "%":
        return "e.g. 7 or 7%"
    return f"e.g. 1,105 or 1105 {unit}"


def parse_number(text: object, unit: str | None = None) -> tuple[float, ...]:
    """The readings of `text` (usually one; two for a bare fraction on a % question).
    Raises NotANumber with a one-line message when it cannot be read."""
    if isinstance(text, bool):
        raise NotANumber("Enter a number.")
    if isinstance(text, (int, float)):
        return (float(text),)
    raw = unicodedata.normalize("NFKC", str(text or "")).strip().replace("\u2212", "-")
    if not raw:
        raise NotANumber(f"Enter a number ({example(unit)}).")
    try:
        return _readings(raw, unit)
    except NotANumber:
        in_unit = f" in {unit}" if unit else ""
        raise NotANumber(f"Could not read {raw!r} as a number{in_unit}; type it again ({example(unit)}).") from None


def _readings(raw: str, unit: str | None) -> tuple[float, ...]:
    key = (unit or "").strip().lower()
    s = raw
    # Money may lead with its symbol: "$1.20", "-$3".
    sign = ""
    if s[:1] in "+-":
        sign, s = s[:1], s[1:].lstrip()
    for prefix in _CURRENCY_PREFIX.get(key, ()):
        if s.lower().startswith(prefix):
            s = s[len(prefix):].lstrip()
            break
    s = sign + s

    # Trailing unit words: the question's own unit, or a % sign where it means a fraction.
    percent_sign = False
    lowered = s.lower()
    for word in _unit_words(unit):
        if lowered.endswith(word) and _number_before(s, len(word)):
            s = s[: len(s) - len(word)].rstrip()
            percent_sign = word in _ALIASES["%"]
            break
    else:
        if key in _FRACTION_UNITS and s.endswith("%"):
            return (_plain(s[:-1].rstrip()) / 100,)

    # A magnitude: "1.2k", "3 million" (never when the unit itself starts with one).
    factor = 1.0
    if key.split(" ", 1)[0] not in _MAGNITUDE_WORDS:
        for word, value in _MAGNITUDE_WORDS.items():
            if s.lower().endswith(word) and _number_before(s, len(word)):
                s, factor = s[: -len(word)].rstrip(), value
                break
        else:
            if s[-1:] in _MAGNITUDE_SUFFIX and _number_before(s, 1):
                s, factor = s[:-1].rstrip(), _MAGNITUDE_SUFFIX[s[-1]]
    value = _plain(s) * factor
    if key == "%" and not percent_sign and 0 < abs(value) < 1:
        return (value, round(value * 100, 9))  # "0.07" on a % question: 0.07 % or the fraction 7 %
    return (value,)


def _number_before(s: str, tail: int) -> bool:
    """True if what precedes the last `tail` characters ends in a digit (so "1.2k" but not "k")."""
    head = s[: len(s) - tail].rstrip()
    return bool(head) and head[-1].isdigit()


def _plain(s: str) -> float:
    """A bare number with optional grouping and a decimal dot or comma."""
    s = s.strip()
    for ch in _SPACES:
        if ch in s:
            parts = s.split(ch)
            # Grouping: every group after the first is three digits ("1 105", "12 000 000").
            head = parts[0].lstrip("+-")
            if not (head.isdigit() and 1 <= len(head) <= 3 and all(len(p) == 3 and p[:3].isdigit() for p in parts[1:-1])
                    and re.fullmatch(r"\d{3}([.,]\d*)?", parts[-1])):
                raise NotANumber(s)
            s = "".join(parts)
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        group = "." if decimal == "," else ","
        whole, _, frac = s.rpartition(decimal)
        s = _ungroup(whole, group) + "." + frac
    elif s.count(",") == 1 and not re.fullmatch(r"[+-]?[1-9]\d{0,2},\d{3}", s):
        s = s.replace(",", ".")  # a decimal comma: "0,5", "1,25"
    elif "," in s:
        s = _ungroup(s, ",")
    if not _NUMBER.fullmatch(s):
        raise NotANumber(s)
    value = float(s)
    if not math.isfinite(value):  # "1e999"
        raise NotANumber(s)
    return value


def _ungroup(s: str, mark: str) -> str:
    """Drop thousands marks after checking they group by three ("1,105,000", not "1,10,5")."""
    parts = s.split(mark)
    head = parts[0].lstrip("+-")
    if not (head.isdigit() and 1 <= len(head) <= 3 and not head.startswith("0")):
        raise NotANumber(s)
    if not all(len(p) == 3 and p.isdigit() for p in parts[1:]):
        raise NotANumber(s)
    return "".join(parts)
