"""Doubles for lab10_injection_redaction: redact, wrap_untrusted, looks_like_injection,
safe_messages, Pseudonymizer."""

import re
import uuid
from typing import ClassVar

from llmlab.checks.lab10 import CLOSE, INJECTION_WARNING, NOTE, OPEN

_API_KEY = re.compile(r"(?<![\w-])(?:sk-|AIza|ghp_)[A-Za-z0-9_-]{16,}")
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
_CARD = re.compile(r"(?<!\w)\d(?:[ -]?\d){12,18}(?!\w)")
_PHONE = re.compile(r"(?<![\w+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d+(?:[ .-]\d+)*(?![\w-])")
_TAG = re.compile(r"<\s*/?\s*untrusted_document\s*>", re.I)
_RULES = [
    re.compile(r"\b(?:ignore|disregard|forget|override)\b[^.;,!?]{0,40}?\b(?:previous|prior|above|earlier|preceding"
               r"|all|any|your|system)\b[^.;,!?]{0,40}?\b(?:instructions?|rules|prompts?|directions|guidelines)\b",
               re.I),
    re.compile(r"\b(?:reveal|print|repeat|show|output|display|leak)\b[^.;,!?]{0,30}?\b(?:system prompt|(?:your|the"
               r"|hidden|initial|original) (?:instructions|prompt))\b", re.I),
    re.compile(r"(?im)^\s*(?:system|assistant|developer)\s*:|<\|(?:im_start|im_end|system|user|assistant)\|>"
               r"|\[/?INST\]|<<SYS>>"),
    _TAG,
    re.compile("[\u200b\u200c\u200d\u2060\ufeff]"),
]


def _luhn(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card(m):
    return "[CARD]" if _luhn(re.sub(r"\D", "", m.group())) else m.group()


def _phone(m):
    text = m.group()
    digits = re.sub(r"\D", "", text)
    if 9 <= len(digits) <= 15 and (text[0] in "+(" or re.search(r"[ .-]", text)):
        return "[PHONE]"
    return text


def redact(text):
    text = _API_KEY.sub("[API_KEY]", text)
    text = _EMAIL.sub("[EMAIL]", text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)


def wrap(document):
    cleaned, previous = document, None
    while cleaned != previous:
        previous, cleaned = cleaned, _TAG.sub("", cleaned)
    return f"{NOTE}\n{OPEN}\n{cleaned}\n{CLOSE}"


def looks(text):
    return any(rule.search(text) for rule in _RULES)


def safe(system, user, document):
    if looks(document):
        system = f"{system}\n\n{INJECTION_WARNING}"
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"{redact(user)}\n\n{wrap(redact(document))}"}]


class Pseudonymizer:
    placeholder = re.compile(r"\[EMAIL_(\d+)\]")

    def __init__(self):
        self.numbers: dict[str, int] = {}
        self.addresses: dict[int, str] = {}

    def _number(self, address):
        if address not in self.numbers:
            self.numbers[address] = len(self.numbers) + 1
            self.addresses[self.numbers[address]] = address
        return self.numbers[address]

    def mask(self, text):
        return _EMAIL.sub(lambda m: f"[EMAIL_{self._number(m.group())}]", text)

    def unmask(self, text):
        return self.placeholder.sub(lambda m: self.addresses.get(int(m.group(1)), m.group()), text)


REFERENCE = {
    "check_redact": redact,
    "check_wrap_untrusted": wrap,
    "check_looks_like_injection": looks,
    "check_safe_messages": safe,
    "check_stretch_pseudonymizer": Pseudonymizer,
}


# -- redact -----------------------------------------------------------------------------------

def _wrong_redact_no_luhn(text):
    text = _API_KEY.sub("[API_KEY]", _EMAIL.sub("[EMAIL]", text))
    return _PHONE.sub(_phone, _CARD.sub("[CARD]", text))


def _wrong_redact_phones_first(text):
    text = _API_KEY.sub("[API_KEY]", text)
    text = _EMAIL.sub("[EMAIL]", text)
    text = re.sub(r"\+?\d[\d .()-]{7,}\d", "[PHONE]", text)
    return _CARD.sub(_card, text)


def _wrong_redact_loose_keys(text):
    return redact(re.sub(r"sk-[\w-]{16,}", "[API_KEY]", text))


def _wrong_redact_any_digit_run(text):
    text = _CARD.sub(_card, _EMAIL.sub("[EMAIL]", _API_KEY.sub("[API_KEY]", text)))
    return re.sub(r"\+?\(?\d[\d ().-]{7,}\d", "[PHONE]", text)


def _wrong_redact_forgets_phones(text):
    return _CARD.sub(_card, _EMAIL.sub("[EMAIL]", _API_KEY.sub("[API_KEY]", text)))


def _wrong_redact_naive_email(text):
    text = re.sub(r"\S+@\S+", "[EMAIL]", text)
    return _PHONE.sub(_phone, _CARD.sub(_card, _API_KEY.sub("[API_KEY]", text)))


# -- wrap_untrusted -------------------------------------------------------------------------

def _wrong_wrap_random(document):
    tag = uuid.uuid4().hex[:8]
    return f"{NOTE}\n<data-{tag}>\n{document}\n</data-{tag}>"


def _wrong_wrap_no_escape(document):
    return f"{NOTE}\n{OPEN}\n{document}\n{CLOSE}"


def _wrong_wrap_exact_case(document):
    cleaned = document.replace(OPEN, "").replace(CLOSE, "")
    return f"{NOTE}\n{OPEN}\n{cleaned}\n{CLOSE}"


def _wrong_wrap_single_pass(document):
    return f"{NOTE}\n{OPEN}\n{_TAG.sub('', document)}\n{CLOSE}"


def _wrong_wrap_strips(document):
    return wrap(document.strip()).replace("  ", " ")


def _wrong_wrap_note_after(document):
    return wrap(document).replace(f"{NOTE}\n", "") + f"\n{NOTE}"


# -- looks_like_injection -----------------------------------------------------------------------

def _wrong_looks_keywords(text):
    lowered = text.lower()
    return any(w in lowered for w in ("ignore", "instructions", "system", "you are now", "prompt"))


def _wrong_looks_no_hidden(text):
    return any(rule.search(text) for rule in _RULES[:-1])


def _wrong_looks_only_override(text):
    return bool(_RULES[0].search(text))


def _wrong_looks_returns_match(text):
    for rule in _RULES:
        found = rule.search(text)
        if found:
            return found.group()
    return None


def _wrong_looks_case_sensitive(text):
    return any(re.compile(rule.pattern).search(text) for rule in _RULES)


# -- safe_messages ----------------------------------------------------------------------------------

def _wrong_safe_doc_in_system(system, user, document):
    system = f"{system}\n\n{wrap(redact(document))}"
    if looks(document):
        system += f"\n\n{INJECTION_WARNING}"
    return [{"role": "system", "content": system}, {"role": "user", "content": redact(user)}]


def _wrong_safe_unredacted_document(system, user, document):
    messages = safe(system, user, document)
    messages[1]["content"] = f"{redact(user)}\n\n{wrap(document)}"
    return messages


def _wrong_safe_no_warning(system, user, document):
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"{redact(user)}\n\n{wrap(redact(document))}"}]


def _wrong_safe_unwrapped(system, user, document):
    messages = safe(system, user, document)
    messages[1]["content"] = f"{redact(user)}\n\n{redact(document)}"
    return messages


def _wrong_safe_user_unredacted(system, user, document):
    messages = safe(system, user, document)
    messages[1]["content"] = f"{user}\n\n{wrap(redact(document))}"
    return messages


# -- Pseudonymizer -------------------------------------------------------------------------------------

class _WrongPseudoRestartsEachCall(Pseudonymizer):
    def mask(self, text):
        self.numbers, self.addresses = {}, {}
        return super().mask(text)


class _WrongPseudoNumberPerOccurrence(Pseudonymizer):
    def _number(self, address):
        n = len(self.addresses) + 1
        self.addresses[n] = address
        return n


class _WrongPseudoCrashesOnInvented(Pseudonymizer):
    def unmask(self, text):
        return self.placeholder.sub(lambda m: self.addresses[int(m.group(1))], text)


class _WrongPseudoSharedMapping(Pseudonymizer):
    shared_numbers: ClassVar[dict] = {}
    shared_addresses: ClassVar[dict] = {}

    def __init__(self):
        self.numbers, self.addresses = self.shared_numbers, self.shared_addresses


class _WrongPseudoOneDigit(Pseudonymizer):
    placeholder = re.compile(r"\[EMAIL_(\d)\]")


WRONG = {
    "check_redact": [_wrong_redact_no_luhn, _wrong_redact_phones_first, _wrong_redact_loose_keys,
                     _wrong_redact_any_digit_run, _wrong_redact_forgets_phones, _wrong_redact_naive_email],
    "check_wrap_untrusted": [_wrong_wrap_random, _wrong_wrap_no_escape, _wrong_wrap_exact_case,
                             _wrong_wrap_single_pass, _wrong_wrap_strips, _wrong_wrap_note_after],
    "check_looks_like_injection": [_wrong_looks_keywords, _wrong_looks_no_hidden, _wrong_looks_only_override,
                                   _wrong_looks_returns_match, _wrong_looks_case_sensitive],
    "check_safe_messages": [_wrong_safe_doc_in_system, _wrong_safe_unredacted_document, _wrong_safe_no_warning,
                            _wrong_safe_unwrapped, _wrong_safe_user_unredacted],
    "check_stretch_pseudonymizer": [_WrongPseudoRestartsEachCall, _WrongPseudoNumberPerOccurrence,
                                    _WrongPseudoCrashesOnInvented, _WrongPseudoSharedMapping, _WrongPseudoOneDigit],
}
