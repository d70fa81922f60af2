"""Checks for lab06_exact_semantic_cache: a request key that ignores key order,
a semantic cache over embeddings with a threshold, and a client wrapper that
counts exact hits, semantic hits and misses.

    from llmlab.checks import lab06
    lab06.check_request_key(request_key)
    lab06.check_semantic_cache(SemanticCache)
    lab06.check_cached_client(CachedClient)
    lab06.check_stretch_ttl_cache(TTLCache)   # optional

Everything here is deterministic: a fake embedding function with fixed vectors,
a fake client that counts its calls and a fake clock. No API requests.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

from . import Case, FakeClock, Report, expect, run_cases

SYSTEM = {"role": "system", "content": "You are the help desk of Nordlys Outfitters. Answer in one sentence."}


def make_request(question: str, system: dict = SYSTEM, **params: Any) -> dict:
    """A chat request as a dict: model, messages, then the parameters, as today's OpenAI chat
    models take them (temperature only with reasoning_effort "none"; max_completion_tokens,
    not the deprecated max_tokens)."""
    request = {"model": "fake-chat", "messages": [system, {"role": "user", "content": question}],
               "temperature": 0, "reasoning_effort": "none", "max_completion_tokens": 60}
    request.update(params)
    return request


# -- request_key -------------------------------------------------------------------------

def _reorder(value: Any) -> Any:
    """The same data with every dict's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reorder(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reorder(v) for v in value]
    return value


BASE = make_request("How long does delivery to Tromsø take?")
# SHA-256 of BASE's canonical JSON, which is:
# {"max_completion_tokens":60,"messages":[{"content":"You are the help desk of Nordlys Outfitters. Answer
# in one sentence.","role":"system"},{"content":"How long does delivery to Tromsø take?","role":"user"}],
# "model":"fake-chat","reasoning_effort":"none","temperature":0}   (one line, no spaces after , and :, ø as UTF-8)
BASE_KEY = "9f4681e100c93e32cd1d15382298ee31dca127ffe00a2a781fae8a971ac380af"


def _key(fn, request: dict) -> str:
    before = copy.deepcopy(request)
    out = fn(request)
    expect(request == before, "do not change the request you were given")
    expect(isinstance(out, str), f"return the key as a str, not {type(out).__name__}")
    return out


def _key_stable(fn):
    expect(_key(fn, BASE) == _key(fn, copy.deepcopy(BASE)), "the same request must always give the same key")
    expect(_key(fn, BASE) == _key(fn, dict(reversed(list(BASE.items())))),
           "the order of the request's keys must not matter: serialise with sorted keys")
    expect(_key(fn, BASE) == _key(fn, _reorder(BASE)),
           "the order of keys inside the messages must not matter either ({'role', 'content'} vs "
           "{'content', 'role'}): sort keys at every level")


def _key_sensitive(fn):
    base = _key(fn, BASE)
    changes = {
        "the model": make_request("How long does delivery to Tromsø take?", model="other-model"),
        "temperature": make_request("How long does delivery to Tromsø take?", temperature=0.7),
        "max_completion_tokens": make_request("How long does delivery to Tromsø take?", max_completion_tokens=61),
        "an added parameter (response_format)": make_request("How long does delivery to Tromsø take?",
                                                             response_format={"type": "json_object"}),
        "the system message": make_request("How long does delivery to Tromsø take?",
                                           system={"role": "system", "content": "Answer in French."}),
        "the question (one character)": make_request("How long does delivery to Tromso take?"),
    }
    for what, request in changes.items():
        expect(_key(fn, request) != base, f"changing {what} must change the key: hash the whole request, "
                                          "not just the user's question")


def _key_list_order(fn):
    swapped = copy.deepcopy(BASE)
    swapped["messages"] = swapped["messages"][::-1]
    expect(_key(fn, swapped) != _key(fn, BASE), "the order of the messages matters (it is a conversation): sort "
                                                "dict keys, never lists")


def _key_exact(fn):
    expect(_key(fn, BASE) == BASE_KEY,
           "the key is the SHA-256 hex digest of json.dumps(request, sort_keys=True, separators=(',', ':'), "
           "ensure_ascii=False) encoded as UTF-8: a fixed, documented form, so another process (or another "
           "language) computes the same key")


def check_request_key(fn, quiet: bool = False) -> Report:
    return run_cases("request_key", fn, [
        Case("same request, same key, any key order", _key_stable),
        Case("any change to the request changes the key", _key_sensitive),
        Case("message order matters", _key_list_order),
        Case("canonical JSON, SHA-256", _key_exact),
    ], quiet)


# -- SemanticCache ------------------------------------------------------------------------------

def _cache(cls, threshold: float) -> Any:
    cache = cls(threshold)
    for name in ("lookup", "add"):
        expect(callable(getattr(cache, name, None)), f"SemanticCache needs a method {name}")
    return cache


def _sc_empty(cls):
    cache = _cache(cls, 0.9)
    expect(cache.lookup([1.0, 0.0]) is None, "an empty cache has nothing to return: lookup gives None")


def _sc_hit_and_miss(cls):
    cache = _cache(cls, 0.9)
    cache.add([1.0, 0.0, 0.0], "answer A")
    expect(cache.lookup([1.0, 0.0, 0.0]) == "answer A", "the same vector must hit")
    expect(cache.lookup([0.95, 0.1, 0.0]) == "answer A", "a vector with cosine 0.994 clears a 0.9 threshold: hit")
    expect(cache.lookup([0.0, 1.0, 0.0]) is None, "a perpendicular vector (cosine 0) is a miss: return None")
    expect(cache.lookup([1.0, 1.0, 0.0]) is None, "cosine 0.707 is below the 0.9 threshold: a miss")


def _sc_threshold_inclusive(cls):
    cache = _cache(cls, 0.6)
    cache.add([1.0, 0.0], "east")
    expect(cache.lookup([3.0, 4.0]) == "east", "a similarity exactly equal to the threshold (3/5 = 0.6) is a hit: "
                                               "compare with >=")
    cache = _cache(cls, 0.61)
    cache.add([1.0, 0.0], "east")
    expect(cache.lookup([3.0, 4.0]) is None, "0.6 is below a 0.61 threshold: a miss")


def _sc_best_not_first(cls):
    cache = _cache(cls, 0.8)
    cache.add([1.0, 0.3], "first, close enough")
    cache.add([1.0, 0.05], "second, closer")
    expect(cache.lookup([1.0, 0.0]) == "second, closer",
           "return the MOST similar entry above the threshold, not the first one that clears it")


def _sc_cosine_not_dot(cls):
    cache = _cache(cls, 0.9)
    cache.add([10.0, 10.0], "long vector, 45 degrees away")
    cache.add([0.5, 0.01], "short vector, almost the same direction")
    expect(cache.lookup([2.0, 0.0]) == "short vector, almost the same direction",
           "compare by cosine similarity, not the raw dot product: length is not similarity")


def check_semantic_cache(cls, quiet: bool = False) -> Report:
    return run_cases("SemanticCache", cls, [
        Case("an empty cache misses", _sc_empty),
        Case("close vectors hit, far ones miss", _sc_hit_and_miss),
        Case("the threshold is inclusive", _sc_threshold_inclusive),
        Case("the best match wins", _sc_best_not_first),
        Case("cosine, not dot product", _sc_cosine_not_dot),
    ], quiet)


# -- CachedClient ------------------------------------------------------------------------------------

def _completion(text: str, finish: str = "stop") -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate({
        "id": "chatcmpl-lab06", "object": "chat.completion", "created": 1767225600, "model": "fake-chat",
        "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52},
    })


class CountingClient:
    """Stands in for openai.OpenAI: each chat request gets a new numbered answer."""

    def __init__(self, finish: dict[int, str] | None = None):
        self.requests: list[dict] = []
        self.finish = finish or {}
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))

    def _create(self, *args: Any, **kwargs: Any) -> Any:
        expect(not args, "call client.chat.completions.create with keyword arguments only")
        self.requests.append(copy.deepcopy(kwargs))
        n = len(self.requests)
        return _completion(f"answer #{n}", self.finish.get(n, "stop"))


# Fixed embeddings: the paraphrase is close to the question, the look-alike is not close enough.
VECTORS = {
    "How long does delivery to Tromsø take?": [1.0, 0.0, 0.0],
    "How many days is shipping to Tromsø?": [0.98, 0.2, 0.0],       # cosine 0.980: a paraphrase
    "Can I return a jacket I have worn?": [0.0, 1.0, 0.0],
    "Can I return worn jackets?": [0.05, 0.99, 0.1],                 # cosine 0.994
    "How long does delivery to Bodø take?": [0.9, 0.0, 0.44],        # cosine 0.898: looks alike, is not
}


class FakeEmbed:
    """embed(text) -> vector from VECTORS, counting every call."""

    def __init__(self):
        self.calls: list[str] = []

    def __call__(self, text: str) -> list[float]:
        self.calls.append(text)
        expect(text in VECTORS, f"embed was called with {text!r}: embed the text of the last user message")
        return list(VECTORS[text])


def _wrapper(cls, threshold: float = 0.95, finish: dict[int, str] | None = None):
    client, embed = CountingClient(finish), FakeEmbed()
    cached = cls(client, embed, threshold)
    return cached, client, embed


def _counts(cached) -> tuple:
    return tuple(getattr(cached, name, None) for name in ("exact_hits", "semantic_hits", "misses"))


def _create(cached, request: dict) -> Any:
    before = copy.deepcopy(request)
    out = cached.create(**request)
    expect(request == before, "do not change the request")
    return out


def _cc_exact(cls):
    cached, client, _embed = _wrapper(cls)
    first = _create(cached, BASE)
    expect(client.requests == [BASE], "a miss sends the request to the client exactly as given "
                                      "(client.chat.completions.create(**request))")
    expect(first.choices[0].message.content == "answer #1", "return the client's response on a miss")
    second = _create(cached, copy.deepcopy(BASE))
    expect(len(client.requests) == 1, "the same request again must be served from the exact cache, not the client")
    expect(second is first, "an exact hit returns the stored response object")
    expect(_counts(cached) == (1, 0, 1), f"after one miss and one exact hit expect exact_hits=1, semantic_hits=0, "
                                         f"misses=1; got {_counts(cached)}")


def _cc_key_order(cls):
    cached, client, _embed = _wrapper(cls)
    _create(cached, BASE)
    _create(cached, _reorder(BASE))
    expect(len(client.requests) == 1, "the same request with its keys in another order is an exact hit: key the "
                                      "exact cache with request_key")


def _cc_no_embed_on_exact_hit(cls):
    cached, _client, embed = _wrapper(cls)
    _create(cached, BASE)
    calls = len(embed.calls)
    expect(calls == 1, f"a miss embeds the question once (used for both lookup and add); you embedded it {calls} "
                       "times")
    _create(cached, BASE)
    expect(len(embed.calls) == calls, "an exact hit must not call embed: check the exact cache first, it is free")


def _cc_semantic(cls):
    cached, client, _embed = _wrapper(cls, threshold=0.95)
    first = _create(cached, BASE)
    para = _create(cached, make_request("How many days is shipping to Tromsø?"))
    expect(len(client.requests) == 1, "a paraphrase above the threshold (cosine 0.98 >= 0.95) is a semantic hit: "
                                      "no client call")
    expect(para is first, "a semantic hit returns the stored response of the similar question")
    alike = _create(cached, make_request("How long does delivery to Bodø take?"))
    expect(len(client.requests) == 2 and alike is not first,
           "a look-alike below the threshold (cosine 0.90 < 0.95) must go to the client")
    expect(_counts(cached) == (0, 1, 2), f"expect exact_hits=0, semantic_hits=1, misses=2; got {_counts(cached)}")


def _cc_scope(cls):
    cached, client, _embed = _wrapper(cls, threshold=0.95)
    _create(cached, BASE)
    for what, request in (
        ("another system message", make_request("How many days is shipping to Tromsø?",
                                                system={"role": "system", "content": "Answer in French."})),
        ("another model", make_request("How many days is shipping to Tromsø?", model="other-model")),
        ("another temperature", make_request("How many days is shipping to Tromsø?", temperature=0.7)),
    ):
        n = len(client.requests)
        _create(cached, request)
        expect(len(client.requests) == n + 1,
               f"a similar question with {what} is a different request: the semantic layer may only match requests "
               "that are identical apart from the last user message (keep one SemanticCache per "
               "request_key of the request without its last message)")


def _cc_not_truncated(cls):
    cached, client, _embed = _wrapper(cls, finish={1: "length"})
    _create(cached, BASE)
    _create(cached, BASE)
    expect(len(client.requests) == 2, "a response cut off by max_completion_tokens (finish_reason 'length') must "
                                      "not be cached: store only finish_reason 'stop'")
    _create(cached, BASE)
    expect(len(client.requests) == 2, "the second (complete) response is cached as usual")
    expect(_counts(cached) == (1, 0, 2), f"expect exact_hits=1, misses=2; got {_counts(cached)}")


def _cc_workload(cls):
    cached, _client, embed = _wrapper(cls, threshold=0.95)
    workload = ["How long does delivery to Tromsø take?", "Can I return a jacket I have worn?",
                "How long does delivery to Tromsø take?", "How many days is shipping to Tromsø?",
                "Can I return worn jackets?", "How long does delivery to Bodø take?",
                "Can I return a jacket I have worn?", "How long does delivery to Bodø take?"]
    answers = [_create(cached, make_request(q)).choices[0].message.content for q in workload]
    expect(answers == ["answer #1", "answer #2", "answer #1", "answer #1", "answer #2", "answer #3", "answer #2",
                       "answer #3"], f"over the workload the answers served were {answers}")
    expect(_counts(cached) == (3, 2, 3), f"8 requests: expect exact_hits=3, semantic_hits=2, misses=3; got "
                                         f"{_counts(cached)}")
    expect(len(embed.calls) == 5, f"embed once per exact miss (5 here), you called it {len(embed.calls)} times")


def check_cached_client(cls, quiet: bool = False) -> Report:
    return run_cases("CachedClient", cls, [
        Case("an exact repeat is an exact hit", _cc_exact),
        Case("key order does not matter", _cc_key_order),
        Case("embed once per miss, never on exact hits", _cc_no_embed_on_exact_hit),
        Case("paraphrase hits, look-alike misses", _cc_semantic),
        Case("semantic hits only within the same context", _cc_scope),
        Case("truncated responses are not cached", _cc_not_truncated),
        Case("a mixed workload", _cc_workload),
    ], quiet)


# -- optional stretch: entries that expire -------------------------------------------------------

def _ttl(cls, ttl: float = 60.0):
    clock = FakeClock(1000.0)
    cache = cls(ttl, clock=clock)
    for name in ("get", "set"):
        expect(callable(getattr(cache, name, None)), f"TTLCache needs a method {name}")
    return cache, clock


def _ttl_fresh(cls):
    cache, clock = _ttl(cls)
    expect(cache.get("q") is None, "an empty cache returns None")
    cache.set("q", "answer A")
    for t in (1000.0, 1030.0, 1059.9):
        clock.now = t
        expect(cache.get("q") == "answer A", f"stored at t=1000 with ttl=60, at t={t:g} the entry is still fresh")


def _ttl_expired(cls):
    cache, clock = _ttl(cls)
    cache.set("q", "answer A")
    for t in (1060.1, 1500.0):
        clock.now = t
        expect(cache.get("q") is None,
               f"stored at t=1000 with ttl=60, at t={t:g} the entry has expired: return None (a miss). Read the "
               "time only from the clock you were given")


def _ttl_reads(cls):
    cache, clock = _ttl(cls)
    cache.set("q", "answer A")
    clock.now = 1050.0
    cache.get("q")
    clock.now = 1070.0
    expect(cache.get("q") is None, "reading an entry does not make it younger: stored at t=1000, it expires at "
                                   "t=1060 however often it was read (a popular stale answer must still go)")


def _ttl_set_again(cls):
    cache, clock = _ttl(cls)
    cache.set("q", "old answer")
    clock.now = 1050.0
    cache.set("q", "new answer")
    clock.now = 1080.0
    expect(cache.get("q") == "new answer", "setting a key again stores the new value with a fresh time")
    clock.now = 1111.0
    expect(cache.get("q") is None, "stored again at t=1050, the entry expires at t=1110")


def _ttl_keys(cls):
    cache, clock = _ttl(cls, ttl=10.0)
    cache.set("a", 1)
    clock.now = 1005.0
    cache.set("b", 2)
    clock.now = 1012.0
    expect(cache.get("a") is None and cache.get("b") == 2, "each entry expires on its own clock: a at t=1010, "
                                                           "b at t=1015")


def check_stretch_ttl_cache(cls, quiet: bool = False) -> Report:
    """Optional: TTLCache(ttl, clock) whose entries expire ttl seconds after they were stored."""
    return run_cases("TTLCache (optional)", cls, [
        Case("fresh entries hit", _ttl_fresh),
        Case("expired entries miss", _ttl_expired),
        Case("reads do not extend an entry's life", _ttl_reads),
        Case("setting again refreshes", _ttl_set_again),
        Case("each entry has its own expiry", _ttl_keys),
    ], quiet)
