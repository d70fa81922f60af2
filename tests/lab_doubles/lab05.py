"""Doubles for lab05_semantic_search: embed_all, cosine, search, answer_with_sources,
cited_sources."""

import re

import numpy as np

from llmlab.checks.lab05 import GROUNDED_SYSTEM, NO_ANSWER

CHAT_REQUEST = {"temperature": 0, "reasoning_effort": "none", "max_completion_tokens": 80}
GPT4_ERA_REQUEST = {"temperature": 0, "max_tokens": 80}


def _embed(client, model, texts, batch_size=64, by_index=True, as_list=True):
    rows = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start:start + batch_size]
        data = client.embeddings.create(model=model, input=batch if as_list or len(batch) > 1 else batch[0]).data
        if by_index:
            data = sorted(data, key=lambda d: d.index)
        rows += [d.embedding for d in data]
    return np.array(rows, dtype=float) if rows else np.zeros((0, 0))


def embed_all(client, model, texts, batch_size=64):
    return _embed(client, model, texts, batch_size)


def cosine(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / n) if n else 0.0


def search(query_vec, doc_vecs, k):
    scores = [cosine(query_vec, d) for d in doc_vecs]
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:max(k, 0)]


def _prompt(question, docs, ranked):
    sources = "\n".join(f"[{n}] {docs[i]}" for n, i in enumerate(ranked, 1))
    return [{"role": "system", "content": GROUNDED_SYSTEM},
            {"role": "user", "content": f"Sources:\n{sources}\n\nQuestion: {question}"}]


def _answerer(gate=True, numbered=True, embed_with_chat=False, sources_sorted=False, request=None):
    def answer_with_sources(client, chat_model, embed_model, question, docs, doc_vecs, k=3, min_score=0.0):
        q = embed_all(client, chat_model if embed_with_chat else embed_model, [question])[0]
        ranked = search(q, doc_vecs, k)
        best = cosine(q, doc_vecs[ranked[0]]) if ranked else -1.0
        if gate and best < min_score:
            return {"answer": NO_ANSWER, "sources": []}
        shown = sorted(ranked) if sources_sorted else ranked
        if numbered:
            messages = _prompt(question, docs, shown)
        else:
            messages = [{"role": "system", "content": GROUNDED_SYSTEM},
                        {"role": "user", "content": "\n".join(docs[i] for i in shown) + f"\n\nQuestion: {question}"}]
        reply = client.chat.completions.create(model=chat_model, messages=messages, **(request or CHAT_REQUEST))
        return {"answer": reply.choices[0].message.content, "sources": shown}
    return answer_with_sources


def _named(fn, name):
    fn.__name__ = name
    return fn


def _citations(answer, sources, pattern=r"\[(\d+)\]", check_range=True, unique=True, as_numbers=False, shift=1):
    cited, unknown = [], []
    for number in map(int, re.findall(pattern, answer)):
        valid = 1 <= number <= len(sources) if check_range else True
        value = number if as_numbers else (sources[number - shift] if valid else number)
        bucket = cited if valid else unknown
        if not unique or value not in bucket:
            bucket.append(value)
    return {"cited": cited, "unknown": unknown}


def cited_sources(answer, sources):
    return _citations(answer, sources)


REFERENCE = {
    "check_embed_all": embed_all,
    "check_cosine": cosine,
    "check_search": search,
    "check_answer_with_sources": _named(_answerer(), "answer_with_sources"),
    "check_stretch_cited_sources": cited_sources,
}


# -- embed_all ----------------------------------------------------------------------------

def _wrong_embed_ignores_index(client, model, texts, batch_size=64):
    return _embed(client, model, texts, batch_size, by_index=False)


def _wrong_embed_one_request(client, model, texts, batch_size=64):
    return _embed(client, model, texts, batch_size=max(len(texts), 1))


def _wrong_embed_off_by_one(client, model, texts, batch_size=64):
    rows = []
    for start in range(0, len(texts), batch_size + 1):
        data = client.embeddings.create(model=model, input=texts[start:start + batch_size + 1]).data
        rows += [d.embedding for d in sorted(data, key=lambda d: d.index)]
    return np.array(rows, dtype=float)


def _wrong_embed_string_for_one(client, model, texts, batch_size=64):
    return _embed(client, model, texts, batch_size, as_list=False)


def _wrong_embed_empty_request(client, model, texts, batch_size=64):
    if not texts:
        client.embeddings.create(model=model, input=[])
        return np.zeros((0, 0))
    return _embed(client, model, texts, batch_size)


# -- cosine -----------------------------------------------------------------------------------

def _wrong_cos_dot(a, b):
    return float(np.dot(a, b))


def _wrong_cos_one_norm(a, b):
    return float(np.dot(a, b) / np.linalg.norm(b))


def _wrong_cos_distance(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _wrong_cos_nan(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# -- search -------------------------------------------------------------------------------------

def _wrong_search_dot(query_vec, doc_vecs, k):
    scores = np.asarray(doc_vecs, float) @ np.asarray(query_vec, float)
    return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]


def _wrong_search_ascending(query_vec, doc_vecs, k):
    q, d = np.asarray(query_vec, float), np.asarray(doc_vecs, float)
    scores = d @ q / (np.linalg.norm(d, axis=1) * np.linalg.norm(q))
    return [int(i) for i in np.argsort(scores, kind="stable")[:k]]


def _wrong_search_ties_reversed(query_vec, doc_vecs, k):
    q, d = np.asarray(query_vec, float), np.asarray(doc_vecs, float)
    scores = d @ q / (np.linalg.norm(d, axis=1) * np.linalg.norm(q))
    return sorted(range(len(d)), key=lambda i: (scores[i], i), reverse=True)[:k]


def _wrong_search_scores(query_vec, doc_vecs, k):
    q, d = np.asarray(query_vec, float), np.asarray(doc_vecs, float)
    scores = d @ q / (np.linalg.norm(d, axis=1) * np.linalg.norm(q))
    return sorted(scores.tolist(), reverse=True)[:k]


# -- cited_sources --------------------------------------------------------------------------------

def _wrong_cited_numbers(answer, sources):
    return _citations(answer, sources, as_numbers=True)


def _wrong_cited_off_by_one(answer, sources):
    found = _citations(answer, sources, shift=0, check_range=False)
    return found


def _wrong_cited_zero_is_last(answer, sources):
    cited = []
    for number in map(int, re.findall(r"\[(\d+)\]", answer)):
        if number <= len(sources) and sources[number - 1] not in cited:
            cited.append(sources[number - 1])
    unknown = [n for n in dict.fromkeys(map(int, re.findall(r"\[(\d+)\]", answer))) if n > len(sources)]
    return {"cited": cited, "unknown": unknown}


def _wrong_cited_repeats(answer, sources):
    return _citations(answer, sources, unique=False)


def _wrong_cited_one_digit(answer, sources):
    return _citations(answer, sources, pattern=r"\[(\d)\]")


WRONG = {
    "check_embed_all": [_wrong_embed_ignores_index, _wrong_embed_one_request, _wrong_embed_off_by_one,
                        _wrong_embed_string_for_one, _wrong_embed_empty_request],
    "check_cosine": [_wrong_cos_dot, _wrong_cos_one_norm, _wrong_cos_distance, _wrong_cos_nan],
    "check_search": [_wrong_search_dot, _wrong_search_ascending, _wrong_search_ties_reversed, _wrong_search_scores],
    "check_answer_with_sources": [
        _named(_answerer(gate=False), "_wrong_answer_no_gate"),
        _named(_answerer(numbered=False), "_wrong_answer_unnumbered_sources"),
        _named(_answerer(embed_with_chat=True), "_wrong_answer_embeds_with_chat_model"),
        _named(_answerer(sources_sorted=True), "_wrong_answer_sources_by_index"),
        _named(_answerer(request=GPT4_ERA_REQUEST), "_wrong_answer_gpt4_era_request"),
    ],
    "check_stretch_cited_sources": [_wrong_cited_numbers, _wrong_cited_off_by_one, _wrong_cited_zero_is_last,
                                    _wrong_cited_repeats, _wrong_cited_one_digit],
}
