"""Checks for lab05_semantic_search: batched embeddings, cosine similarity,
top-k search and a grounded answer with its sources.

    from llmlab.checks import lab05
    from llmlab.checks.lab05 import DOCS, GROUNDED_SYSTEM, NO_ANSWER
    lab05.check_embed_all(embed_all, lab.client, lab.models.embed)
    lab05.check_cosine(cosine)
    lab05.check_search(search, lab.client, lab.models.embed)
    lab05.check_answer_with_sources(answer_with_sources, lab.client, lab.models.chat, lab.models.embed)
    lab05.check_stretch_cited_sources(cited_sources)   # optional
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from . import Case, Report, expect, is_replay_miss, run_cases

DOCS = [
    "Library cards are free for anyone who lives, works or studies in the city.",
    "You can borrow up to 12 items at a time, and a loan lasts three weeks.",
    "You can extend a loan online by renewing it, twice at most, unless another reader has reserved the item.",
    "Returning a book late costs a fine of 20 cents per day, up to 5 euros per item.",
    "The reading room is open from 9 am to 8 pm on weekdays and from 10 am to 4 pm on Saturdays.",
    "Group study rooms for up to six people can be booked one week ahead at the front desk.",
    "Printing costs 10 cents a page in black and white and 50 cents a page in colour.",
    "The guest Wi-Fi network is called library-guest and needs no password.",
    "E-books and audiobooks are borrowed in the library app for 14 days.",
    "If you lose a borrowed book, report it at the desk and pay the replacement price.",
]
QUERIES = [
    "How much is the fine for bringing a book back late?",
    "Can I extend my loan?",
    "Is there internet for visitors?",
    "Where can our team meet to study together?",
    "What is the mayor's phone number?",
]
GROUNDED_SYSTEM = ("You answer questions about the city library using only the numbered sources. Cite the sources "
                   "you used as [1], [2]. If the sources do not contain the answer, say that you do not know.")
NO_ANSWER = "I could not find this in the library's documents."
# GPT-6 chat models take temperature only with reasoning off, and max_completion_tokens, not max_tokens.
CHAT_REQUEST = {"temperature": 0, "reasoning_effort": "none", "max_completion_tokens": 80}
# Read off the recorded e5 scores: questions the documents answer score 0.83 or more, the
# out-of-scope one 0.77. A threshold belongs to one embedding model; never reuse it across models.
MIN_SCORE = 0.80


# -- fakes --------------------------------------------------------------------------------

def _embedding_response(vectors: list[list[float]], model: str, reverse: bool = True) -> Any:
    from openai.types import CreateEmbeddingResponse

    data = [{"object": "embedding", "index": i, "embedding": list(map(float, v))} for i, v in enumerate(vectors)]
    if reverse:
        data = data[::-1]  # the API promises `index`, not order: a server may answer in any order
    tokens = 4 * len(vectors)
    return CreateEmbeddingResponse.model_validate({"object": "list", "data": data, "model": model,
                                                   "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def _chat_response(text: str) -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate({
        "id": "chatcmpl-lab05", "object": "chat.completion", "created": 1767225600, "model": "fake-chat",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 14, "total_tokens": 134},
    })


class FakeClient:
    """Stands in for openai.OpenAI: embeddings from a fixed table (answered in reverse
    order, with correct indexes), chat replies from a list; every request is kept.
    With `inner`, requests go to a real client instead."""

    def __init__(self, table: dict[str, list[float]] | None = None, replies: Sequence[str] = (), inner: Any = None):
        self.table = table or {}
        self.replies = list(replies)
        self.inner = inner
        self.embedding_requests: list[dict] = []
        self.chat_requests: list[dict] = []
        self.chat_responses: list[Any] = []
        self.embeddings = SimpleNamespace(create=self._embed)
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._chat))

    def _forward(self, create, kwargs, hint):
        try:
            return create(**kwargs)
        except Exception as exc:
            if is_replay_miss(exc):
                raise AssertionError(hint) from None
            raise

    def _embed(self, *args: Any, **kwargs: Any) -> Any:
        expect(not args, "call client.embeddings.create with keyword arguments only")
        self.embedding_requests.append(copy.deepcopy(kwargs))
        if self.inner is not None:
            return self._forward(self.inner.embeddings.create, kwargs,
                                 "an embeddings request differs from the recorded one: send only model and input "
                                 "(a list of texts), in batches of batch_size, in order")
        extra = set(kwargs) - {"model", "input"}
        expect(not extra, f"send only model and input to the embeddings endpoint (you also sent {sorted(extra)})")
        texts: Any = kwargs.get("input")
        expect(isinstance(texts, list), f"send input as a list of texts, even for one text (you sent "
                                        f"{type(texts).__name__})")
        for t in texts:
            expect(t in self.table, f"unexpected text sent for embedding: {t!r}")
        return _embedding_response([self.table[t] for t in texts], kwargs.get("model", "?"))

    def _chat(self, *args: Any, **kwargs: Any) -> Any:
        expect(not args, "call client.chat.completions.create with keyword arguments only")
        self.chat_requests.append(copy.deepcopy(kwargs))
        if self.inner is not None:
            response = self._forward(self.inner.chat.completions.create, kwargs,
                                     "the chat request differs from the recorded one: send model, the two messages "
                                     "(GROUNDED_SYSTEM, then the numbered sources and the question), temperature=0, "
                                     "reasoning_effort='none' and max_completion_tokens=80")
        else:
            expect(bool(self.replies), "you called the chat model more often than expected")
            response = _chat_response(self.replies.pop(0))
        self.chat_responses.append(response)
        return response


_RECORDED: dict[tuple, np.ndarray] = {}


def _recorded_vectors(client: Any, model: str, texts: list[str]) -> np.ndarray:
    """The embeddings of `texts` as the cassette holds them (one request, the one recorded):
    what the learner's rows and rankings are compared with."""
    key = (id(client), model, tuple(texts))
    if key not in _RECORDED:
        response = client.embeddings.create(model=model, input=list(texts))
        by_position = {item.index: item.embedding for item in response.data}
        _RECORDED[key] = np.array([by_position[i] for i in range(len(texts))], dtype=float)
    return _RECORDED[key]


def _scores(query: Any, docs: Any) -> np.ndarray:
    """Cosine of the query with every row of `docs` (none of the checks' vectors is zero)."""
    q, d = np.asarray(query, dtype=float), np.asarray(docs, dtype=float)
    return d @ q / (np.linalg.norm(d, axis=1) * np.linalg.norm(q))


def _expect_top(out: list[int], scores: np.ndarray, k: int, what: str) -> None:
    """`out` must be k best documents by score, best first, ties to the lower index."""
    n = len(scores)
    expect(len(out) == min(k, n) and len(set(out)) == len(out) and all(0 <= i < n for i in out),
           f"{what}: return {min(k, n)} different document indices (you returned {out})")
    before = lambda a, b: scores[a] > scores[b] or (scores[a] == scores[b] and a < b)  # noqa: E731
    expect(all(before(a, b) for a, b in itertools.pairwise(out)),
           f"{what}: {out} is not in order of cosine similarity, best first (ties: lower index first)")
    left = [j for j in range(n) if j not in out]
    expect(not out or all(before(out[-1], j) for j in left),
           f"{what}: {out} leaves out a document that scores higher than one it keeps")


# -- embed_all ------------------------------------------------------------------------------

TABLE = {
    "apple": [1.0, 0.0, 0.0], "banana": [0.0, 1.0, 0.0], "cherry": [0.0, 0.0, 1.0],
    "date": [1.0, 1.0, 0.0], "elderberry": [0.0, 1.0, 1.0], "fig": [1.0, 0.0, 1.0], "grape": [0.5, 0.5, 0.5],
}
FRUIT = list(TABLE)


def _as_matrix(out: Any, n: int, hint: str = "") -> np.ndarray:
    expect(isinstance(out, np.ndarray), f"return a numpy array (np.array(rows)), not {type(out).__name__}")
    expect(out.ndim == 2 and out.shape[0] == n,
           f"return one row per text: expected shape ({n}, dimensions), got {out.shape}{hint}")
    return out


def _embed_order(fn):
    client = FakeClient(TABLE)
    texts = FRUIT[:3]
    out = _as_matrix(fn(client, "fake-embed", texts), 3)
    expect(len(client.embedding_requests) == 1, f"3 texts fit one batch: make one request, you made "
                                                f"{len(client.embedding_requests)}")
    expect(client.embedding_requests[0] == {"model": "fake-embed", "input": texts},
           "send model=<the model you were given> and input=<the list of texts>, nothing else")
    expect(np.allclose(out, [TABLE[t] for t in texts]),
           "rows are in the wrong order: the server may answer in any order, so place each embedding by its "
           "`index` (sort response.data by index)")


def _embed_batches(fn):
    client = FakeClient(TABLE)
    out = _as_matrix(fn(client, "fake-embed", FRUIT, batch_size=3), len(FRUIT))
    inputs = [r.get("input") for r in client.embedding_requests]
    expect(inputs == [FRUIT[0:3], FRUIT[3:6], FRUIT[6:7]],
           f"7 texts with batch_size=3 make 3 requests of 3, 3 and 1 texts, in order (you sent batches of "
           f"{[len(i) if isinstance(i, list) else i for i in inputs]})")
    expect(np.allclose(out, [TABLE[t] for t in FRUIT]),
           "rows must follow the order of the texts across batches (sort each batch by index, then concatenate)")


def _embed_single(fn):
    client = FakeClient(TABLE)
    out = _as_matrix(fn(client, "fake-embed", ["grape"], batch_size=2), 1)
    expect(client.embedding_requests == [{"model": "fake-embed", "input": ["grape"]}],
           "one text is still sent as a list: input=['grape']")
    expect(out.dtype.kind == "f" and np.allclose(out[0], TABLE["grape"]), "return the vectors as floats")


def _embed_empty(fn):
    client = FakeClient(TABLE)
    out = fn(client, "fake-embed", [])
    expect(not client.embedding_requests, "no texts, no request: the API rejects an empty input list")
    expect(isinstance(out, np.ndarray) and len(out) == 0, "return an empty numpy array for no texts")


def _embed_live(client, model):
    def run(fn):
        spy = FakeClient(inner=client)
        out = _as_matrix(fn(spy, model, DOCS, batch_size=4), len(DOCS))
        inputs = [r.get("input") for r in spy.embedding_requests]
        expect(inputs == [DOCS[0:4], DOCS[4:8], DOCS[8:10]], "10 documents with batch_size=4 make 3 requests")
        recorded = _recorded_vectors(client, model, DOCS)
        expect(out.shape == recorded.shape, f"expected shape {recorded.shape}, got {out.shape}")
        expect(np.allclose(out, recorded, atol=1e-4),
               "the rows differ from the documents' embeddings: keep the order of the texts")
    return run


def check_embed_all(fn, client: Any = None, model: str | None = None, quiet: bool = False) -> Report:
    """With `client` (lab.client) and `model` (the embedding model), one more case embeds DOCS for real."""
    cases = [
        Case("one batch, rows in the order of the texts", _embed_order),
        Case("several batches of batch_size", _embed_batches),
        Case("one text is still a list", _embed_single),
        Case("no texts: no request", _embed_empty),
    ]
    if client is not None:
        cases.append(Case("the documents through the API", _embed_live(client, model)))
    return run_cases("embed_all", fn, cases, quiet)


# -- cosine --------------------------------------------------------------------------------

def _cos(fn, a, b):
    a0, b0 = copy.deepcopy(a), copy.deepcopy(b)
    out = fn(a, b)
    expect(isinstance(out, (float, np.floating)), f"return a float, not {type(out).__name__}")
    expect(np.array_equal(np.asarray(a), np.asarray(a0)) and np.array_equal(np.asarray(b), np.asarray(b0)),
           "do not change the vectors you were given")
    return float(out)


def _cos_basics(fn):
    expect(math.isclose(_cos(fn, [1.0, 0.0], [0.0, 1.0]), 0.0, abs_tol=1e-9), "perpendicular vectors have cosine 0")
    expect(math.isclose(_cos(fn, [1.0, 0.0], [-1.0, 0.0]), -1.0, abs_tol=1e-9),
           "opposite vectors have cosine -1 (a similarity, not a distance)")
    expect(math.isclose(_cos(fn, [1.0, 2.0, 2.0], [1.0, 2.0, 2.0]), 1.0, abs_tol=1e-9),
           "a vector has cosine 1 with itself")


def _cos_lengths(fn):
    expect(math.isclose(_cos(fn, [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]), 1.0, abs_tol=1e-9),
           "vectors pointing the same way have cosine 1 whatever their lengths: divide the dot product by "
           "both lengths")
    expect(math.isclose(_cos(fn, [3.0, 4.0], [4.0, 3.0]), 0.96, abs_tol=1e-9),
           "cosine([3, 4], [4, 3]) is 24 / (5 * 5) = 0.96: divide by the product of the two norms")
    expect(math.isclose(_cos(fn, [10.0, 0.0], [1.0, 1.0]), 1 / math.sqrt(2), abs_tol=1e-9),
           "cosine([10, 0], [1, 1]) is 1/sqrt(2): the first vector's length must not matter")


def _cos_types(fn):
    a, b = [0.2, 0.1, 0.7], [0.3, 0.9, 0.1]
    want = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    for x, y, what in ((a, b, "lists"), (np.array(a), np.array(b), "numpy arrays"),
                       (np.array(a, dtype=np.float32), np.array(b, dtype=np.float32), "float32 arrays")):
        expect(math.isclose(_cos(fn, x, y), want, abs_tol=1e-6), f"accept {what} too")


def _cos_zero(fn):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = _cos(fn, [0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
    expect(out == 0.0, f"a zero vector has no direction: return 0.0 rather than {out} (dividing by a zero norm "
                       "gives nan, which then breaks every comparison)")


def check_cosine(fn, quiet: bool = False) -> Report:
    return run_cases("cosine", fn, [
        Case("0, 1 and -1", _cos_basics),
        Case("length does not matter", _cos_lengths),
        Case("lists and arrays", _cos_types),
        Case("a zero vector gives 0.0", _cos_zero),
    ], quiet)


# -- search -----------------------------------------------------------------------------------

# cosine ranking 2, 0, 3, 1; ranking by raw dot product would put the long vector 3 first
QUERY = [1.0, 0.2]
VECS = [[0.8, 0.4], [0.0, 1.0], [1.0, 0.25], [6.0, 6.0]]


def _call_search(fn, q, d, k):
    q0, d0 = copy.deepcopy(q), copy.deepcopy(d)
    out = fn(q, d, k)
    expect(isinstance(out, list), f"return a list of document indices, not {type(out).__name__}")
    expect(all(isinstance(i, (int, np.integer)) for i in out), "return indices (ints), not scores or texts")
    expect(np.array_equal(np.asarray(q), np.asarray(q0)) and np.array_equal(np.asarray(d), np.asarray(d0)),
           "do not change the vectors you were given")
    return [int(i) for i in out]


def _search_rank(fn):
    out = _call_search(fn, QUERY, VECS, 3)
    expect(len(out) == 3, f"k=3 returns 3 indices, you returned {len(out)}")
    expect(out[0] != 3, "document 3 is long, not close: rank by cosine similarity, not by the raw dot product")
    expect(out == [2, 0, 3], f"expected the indices ranked by cosine similarity, best first ([2, 0, 3]); got {out}")


def _search_k(fn):
    expect(_call_search(fn, QUERY, VECS, 1) == [2], "k=1 returns only the best index")
    expect(_call_search(fn, QUERY, VECS, 10) == [2, 0, 3, 1], "a k larger than the number of documents returns "
                                                              "all of them, ranked")
    expect(_call_search(fn, QUERY, VECS, 0) == [], "k=0 returns an empty list")


def _search_ties(fn):
    vecs = [[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [1.0, 1.0], [3.0, 0.0]]
    out = _call_search(fn, [1.0, 0.0], vecs, 4)
    expect(out == [1, 2, 4, 3], f"documents 1, 2 and 4 tie: equal scores keep the lower index first (a stable "
                                f"order); expected [1, 2, 4, 3], got {out}")


def _search_arrays(fn):
    out = _call_search(fn, np.array(QUERY), np.array(VECS), 2)
    expect(out == [2, 0], "accept numpy arrays as well as lists")


def _search_live(client, model):
    def run(fn):
        docs = _recorded_vectors(client, model, DOCS)
        queries = _recorded_vectors(client, model, QUERIES)
        for text, q in zip(QUERIES, queries, strict=False):
            _expect_top(_call_search(fn, q, docs, 3), _scores(q, docs), 3, f"on the recorded embeddings, {text!r}")
    return run


def check_search(fn, client: Any = None, model: str | None = None, quiet: bool = False) -> Report:
    """With `client` (lab.client) and `model` (the embedding model), one more case searches real embeddings."""
    cases = [
        Case("ranked by cosine, best first", _search_rank),
        Case("k: one, more than all, zero", _search_k),
        Case("ties keep the lower index first", _search_ties),
        Case("numpy arrays as input", _search_arrays),
    ]
    if client is not None:
        cases.append(Case("the recorded e5 embeddings", _search_live(client, model)))
    return run_cases("search", fn, cases, quiet)


# -- answer_with_sources ------------------------------------------------------------------------

MINI_DOCS = ["Cats sleep up to 16 hours a day.", "Dogs need a walk twice a day.",
             "Goldfish can live for ten years.", "Parrots can learn dozens of words."]
MINI_VECS = [[1.0, 0.1, 0.0], [0.1, 1.0, 0.0], [0.0, 0.2, 1.0], [0.6, 0.6, 0.2]]
MINI_TABLE = {"How long do cats sleep?": [0.9, 0.3, 0.0], "What is the capital of Peru?": [-1.0, -1.0, 0.1]}
REPLY = "Cats sleep up to 16 hours a day [1]."


def _grounded(question: str, docs: list[str], order: list[int]) -> list[dict]:
    """The two messages Task 4 describes, for the documents in `order`."""
    lines = ["Sources:"]
    lines += [f"[{rank}] {docs[doc]}" for rank, doc in zip(range(1, len(order) + 1), order, strict=True)]
    lines += ["", f"Question: {question}"]
    return [{"role": "system", "content": GROUNDED_SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


# The cat question against MINI_VECS: cats first, then parrots, then dogs (goldfish last).
CAT_RANKING = [0, 3, 1]


def _answer(fn, question, k=2, min_score=0.0, replies=(REPLY,)):
    client = FakeClient(MINI_TABLE, list(replies))
    out = fn(client, "fake-chat", "fake-embed", question, MINI_DOCS, np.array(MINI_VECS), k=k, min_score=min_score)
    expect(isinstance(out, dict) and set(out) == {"answer", "sources"},
           f"return {{'answer': text, 'sources': [indices]}}, not {out!r:.80}")
    return client, out


def _answer_prompt(fn):
    question = "How long do cats sleep?"
    client, _out = _answer(fn, question, k=2)
    expect(client.embedding_requests == [{"model": "fake-embed", "input": [question]}],
           "embed the question once with the embedding model (embed_all(client, embed_model, [question]))")
    expect(len(client.chat_requests) == 1, f"one chat request per question, you made {len(client.chat_requests)}")
    sent = client.chat_requests[0]
    expect(sent.get("model") == "fake-chat", "send the chat request to the chat model")
    want = _grounded(question, MINI_DOCS, CAT_RANKING[:2])
    expect(sent.get("messages", [None])[0] == want[0], "the first message is {'role': 'system', 'content': "
                                                       "GROUNDED_SYSTEM}")
    expect(sent.get("messages") == want, "the user message is 'Sources:', one '[n] <document>' line per retrieved "
                                         "document (best first, numbered from 1), a blank line, then "
                                         "'Question: <question>'")
    extra = {k: v for k, v in sent.items() if k not in ("model", "messages")}
    expect("max_tokens" not in extra, "max_tokens is deprecated (the SDK says so) and reasoning models take "
                                      "max_completion_tokens: cap the answer with max_completion_tokens=80")
    expect(extra == CHAT_REQUEST, "besides model and messages send exactly temperature=0, reasoning_effort='none' "
                                  "(GPT-6 models take temperature only with reasoning off) and "
                                  f"max_completion_tokens=80 (you sent {extra})")


def _answer_result(fn):
    question = "How long do cats sleep?"
    client, out = _answer(fn, question, k=3)
    expect(out["answer"] == REPLY, "'answer' is the text of the model's reply")
    want = CAT_RANKING
    expect(list(out["sources"]) == want, f"'sources' are the retrieved document indices in rank order ({want}), "
                                         f"so the caller can show where [1], [2], ... come from")
    expect(len(client.chat_requests[0]["messages"][1]["content"].splitlines()) == 3 + 3,
           "with k=3 the prompt lists three sources")


def _answer_gate(fn):
    question = "What is the capital of Peru?"
    client, out = _answer(fn, question, k=2, min_score=0.5)
    expect(not client.chat_requests, "when the best source scores below min_score, do not ask the chat model: "
                                     "it would answer from nothing")
    expect(out == {"answer": NO_ANSWER, "sources": []}, "below min_score return {'answer': NO_ANSWER, "
                                                        "'sources': []}")
    client, out = _answer(fn, "How long do cats sleep?", k=2, min_score=0.5)
    expect(len(client.chat_requests) == 1, "a question whose best source clears min_score is answered")


def _answer_live(client, chat_model, embed_model):
    def run(fn):
        doc_vecs = _recorded_vectors(client, embed_model, DOCS)
        queries = _recorded_vectors(client, embed_model, QUERIES)
        for question, q in ((QUERIES[0], queries[0]), (QUERIES[4], queries[4])):
            spy = FakeClient(inner=client)
            out = fn(spy, chat_model, embed_model, question, DOCS, doc_vecs, k=2, min_score=MIN_SCORE)
            expect(isinstance(out, dict), "return a dict")
            scores = _scores(q, doc_vecs)
            best = float(scores.max())
            if best >= MIN_SCORE:
                sources = [int(i) for i in out.get("sources", [])]
                _expect_top(sources, scores, 2, f"{question!r}: sources")
                expect(len(spy.chat_requests) == 1 and spy.chat_requests[0].get("messages") == _grounded(
                    question, DOCS, sources), f"{question!r}: the grounded prompt differs from the expected one")
                expect(out.get("answer") == spy.chat_responses[0].choices[0].message.content,
                       "'answer' is the real reply's text")
            else:
                expect(not spy.chat_requests and out == {"answer": NO_ANSWER, "sources": []},
                       f"{question!r} scores {best:.3f}, below min_score={MIN_SCORE}: answer NO_ANSWER without a "
                       "chat request")
    return run



def check_answer_with_sources(fn, client: Any = None, chat_model: str | None = None, embed_model: str | None = None,
                              quiet: bool = False) -> Report:
    """With `client` (lab.client) and both models, one more case answers two real questions."""
    cases = [
        Case("embeds the question, grounded prompt", _answer_prompt),
        Case("answer and sources in rank order", _answer_result),
        Case("below min_score: no chat request", _answer_gate),
    ]
    if client is not None:
        cases.append(Case("two real questions through the API", _answer_live(client, chat_model, embed_model)))
    return run_cases("answer_with_sources", fn, cases, quiet)


# -- optional stretch: check the citations -------------------------------------------------------

def _cited(fn, answer: str, sources: list[int], want: dict, hint: str) -> None:
    before = list(sources)
    got = fn(answer, sources)
    expect(sources == before, "do not change the sources you were given")
    expect(isinstance(got, dict) and set(got) == {"cited", "unknown"},
           f"return {{'cited': [document indices], 'unknown': [numbers]}}, not {got!r:.80}")
    got = {key: [int(v) for v in value] for key, value in got.items()}
    expect(got == want,
           f"{hint}\n    answer:   {answer!r}, sources {sources}\n    expected: {want}\n    got:      {got}")


def _cs_map(fn):
    _cited(fn, "Late books cost 20 cents a day [1], up to 5 euros per item [2].", [3, 1],
           {"cited": [3, 1], "unknown": []},
           "[n] is the n-th source you sent, counting from 1: turn it back into that document's index")


def _cs_order(fn):
    _cited(fn, "You may renew twice [2]. Loans last three weeks [1]. Reserved items cannot be renewed [2].",
           [4, 2, 1], {"cited": [2, 4], "unknown": []},
           "list each cited document once, in the order the answer first cites it")


def _cs_unknown(fn):
    _cited(fn, "Printing is free [0], see also [4] and [2].", [6, 7, 9], {"cited": [7], "unknown": [0, 4]},
           "a number with no source behind it ([0], or more than the sources sent) is an invented citation: report "
           "it under 'unknown' (careful: sources[0 - 1] is the last source, not an error)")


def _cs_shapes(fn):
    _cited(fn, "It is open until 8 pm [12], and on Saturdays [10].", list(range(11, -1, -1)),
           {"cited": [0, 2], "unknown": []}, "numbers can have two digits")
    _cited(fn, "I do not know [citation needed].", [0, 1], {"cited": [], "unknown": []},
           "only a number in square brackets is a citation")


def check_stretch_cited_sources(fn, quiet: bool = False) -> Report:
    """Optional: cited_sources(answer, sources) maps an answer's [n] markers back to documents."""
    return run_cases("cited_sources (optional)", fn, [
        Case("[n] becomes a document index", _cs_map),
        Case("each document once, in citation order", _cs_order),
        Case("invented numbers are reported", _cs_unknown),
        Case("two digits, and what is not a citation", _cs_shapes),
    ], quiet)
