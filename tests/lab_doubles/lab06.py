"""Doubles for lab06_exact_semantic_cache: request_key, SemanticCache, CachedClient, TTLCache."""

import hashlib
import json
import time
from typing import Any

import numpy as np


def request_key(request):
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _cos(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / n) if n else 0.0


class SemanticCache:
    def __init__(self, threshold):
        self.threshold = threshold
        self.entries: list[tuple[Any, Any]] = []

    def score(self, a, b):
        return _cos(a, b)

    def accept(self, score):
        return score >= self.threshold

    def lookup(self, vector):
        best, best_score = None, None
        for v, value in self.entries:
            s = self.score(vector, v)
            if best_score is None or s > best_score:
                best, best_score = value, s
        return best if best_score is not None and self.accept(best_score) else None

    def add(self, vector, value):
        self.entries.append((vector, value))


class CachedClient:
    scoped = True
    embed_on_hit = False
    embed_twice = False
    cache_truncated = False

    def __init__(self, client, embed, threshold=0.95):
        self.client, self.embed, self.threshold = client, embed, threshold
        self.exact: dict[str, Any] = {}
        self.semantic: dict[str, SemanticCache] = {}
        self.exact_hits = self.semantic_hits = self.misses = 0

    def create(self, **request):
        key = request_key(request)
        if self.embed_on_hit:
            self.embed(request["messages"][-1]["content"])
        if key in self.exact:
            self.exact_hits += 1
            return self.exact[key]
        question = request["messages"][-1]["content"]
        scope = request_key({**request, "messages": request["messages"][:-1]}) if self.scoped else ""
        cache = self.semantic.setdefault(scope, SemanticCache(self.threshold))
        vector = self.embed(question)
        hit = cache.lookup(vector)
        if hit is not None:
            self.semantic_hits += 1
            return hit
        self.misses += 1
        response = self.client.chat.completions.create(**request)
        if self.cache_truncated or response.choices[0].finish_reason == "stop":
            self.exact[key] = response
            cache.add(self.embed(question) if self.embed_twice else vector, response)
        return response


class TTLCache:
    def __init__(self, ttl, clock=time.monotonic):
        self.ttl, self.clock = ttl, clock
        self.entries: dict[Any, tuple[float, Any]] = {}

    def _now(self):
        return self.clock()

    def set(self, key, value):
        self.entries[key] = (self._now(), value)

    def get(self, key):
        if key not in self.entries:
            return None
        stored_at, value = self.entries[key]
        if self._now() - stored_at >= self.ttl:
            del self.entries[key]
            return None
        return value


REFERENCE = {
    "check_request_key": request_key,
    "check_semantic_cache": SemanticCache,
    "check_cached_client": CachedClient,
    "check_stretch_ttl_cache": TTLCache,
}


# -- request_key --------------------------------------------------------------------------------

def _wrong_key_unsorted(request):
    return hashlib.sha256(json.dumps(request, ensure_ascii=False).encode("utf-8")).hexdigest()


def _wrong_key_top_level_sorted(request):
    canonical = json.dumps([[k, request[k]] for k in sorted(request)], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _wrong_key_question_only(request):
    return hashlib.sha256(request["messages"][-1]["content"].encode("utf-8")).hexdigest()


def _wrong_key_sorts_messages(request):
    data = dict(request, messages=sorted(request["messages"], key=lambda m: json.dumps(m, sort_keys=True)))
    return request_key(data)


def _wrong_key_md5(request):
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.md5(canonical.encode("utf-8")).hexdigest()


def _wrong_key_ascii_escapes(request):
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- SemanticCache ------------------------------------------------------------------------------

class _WrongCacheStrict(SemanticCache):
    def accept(self, score):
        return score > self.threshold


class _WrongCacheDot(SemanticCache):
    def score(self, a, b):
        return float(np.dot(a, b))


class _WrongCacheFirstMatch(SemanticCache):
    def lookup(self, vector):
        for v, value in self.entries:
            if self.score(vector, v) >= self.threshold:
                return value
        return None


class _WrongCacheNoThreshold(SemanticCache):
    def accept(self, score):
        return True


# -- CachedClient ---------------------------------------------------------------------------------

class _WrongClientUnscoped(CachedClient):
    scoped = False


class _WrongClientEmbedsOnHit(CachedClient):
    embed_on_hit = True


class _WrongClientEmbedsTwice(CachedClient):
    embed_twice = True


class _WrongClientCachesTruncated(CachedClient):
    cache_truncated = True


class _WrongClientQuestionKey(CachedClient):
    def create(self, **request):
        key = request["messages"][-1]["content"]  # the exact layer keyed on the question alone
        if key in self.exact:
            self.exact_hits += 1
            return self.exact[key]
        self.misses += 1
        response = self.client.chat.completions.create(**request)
        self.exact[key] = response
        return response


class _WrongClientCountsHitsAsMisses(CachedClient):
    def create(self, **request):
        n = self.semantic_hits
        out = super().create(**request)
        if self.semantic_hits > n:
            self.semantic_hits, self.misses = n, self.misses + 1
        return out


# -- TTLCache --------------------------------------------------------------------------------------

class _WrongTTLNeverExpires(TTLCache):
    def get(self, key):
        return self.entries.get(key, (0.0, None))[1]


class _WrongTTLWallClock(TTLCache):
    def _now(self):
        return time.monotonic()


class _WrongTTLSliding(TTLCache):
    def get(self, key):
        value = super().get(key)
        if value is not None:
            self.set(key, value)  # every read restarts the clock
        return value


class _WrongTTLFirstTimeKept(TTLCache):
    def set(self, key, value):
        stored_at = self.entries[key][0] if key in self.entries else self._now()
        self.entries[key] = (stored_at, value)


class _WrongTTLOneClockForAll(TTLCache):
    def set(self, key, value):
        if not self.entries:
            self.first = self._now()
        self.entries[key] = (getattr(self, "first", self._now()), value)


WRONG = {
    "check_request_key": [_wrong_key_unsorted, _wrong_key_top_level_sorted, _wrong_key_question_only,
                          _wrong_key_sorts_messages, _wrong_key_md5, _wrong_key_ascii_escapes],
    "check_semantic_cache": [_WrongCacheStrict, _WrongCacheDot, _WrongCacheFirstMatch, _WrongCacheNoThreshold],
    "check_cached_client": [_WrongClientUnscoped, _WrongClientEmbedsOnHit, _WrongClientEmbedsTwice,
                            _WrongClientCachesTruncated, _WrongClientQuestionKey, _WrongClientCountsHitsAsMisses],
    "check_stretch_ttl_cache": [_WrongTTLNeverExpires, _WrongTTLWallClock, _WrongTTLSliding, _WrongTTLFirstTimeKept,
                                _WrongTTLOneClockForAll],
}
