"""One llama.cpp model in this process, and the token loop every endpoint shares.

We drive `llama_cpp.Llama` at the level of eval + sampler chain instead of its
`create_completion`, because the lessons need things that API does not give:
OpenAI's sampling semantics (temperature, then top_p, nothing else), a seed per
choice, logprobs without keeping logits for every position (`logits_all`), and
a grammar that is switched on when the model opens a tool call by itself."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np

from .settings import N_CTX, N_THREADS, model_path, version


@dataclass
class Sampling:
    temperature: float = 1.0
    top_p: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    logit_bias: dict[int, float] = field(default_factory=dict)


@dataclass
class Token:
    id: int
    piece: bytes
    logprob: float | None = None
    top: list[tuple[int, float]] | None = None


@dataclass
class Switch:
    """The model's first token opened a tool call; from here on the call grammar applies."""


@dataclass
class Finish:
    reason: str  # "stop" (end of turn) or "length" (max tokens or context full)


class GrammarError(ValueError):
    pass


class Engine:
    def __init__(self, path: str | None = None, n_ctx: int = N_CTX, n_threads: int = N_THREADS):
        import llama_cpp

        self._lc = llama_cpp
        path = str(path or model_path())
        # logits_all=False: llama.cpp then keeps logits only for the last position,
        # which is all the sampler and our logprobs need (see logprobs below).
        self.llm = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                                   logits_all=False, verbose=False)
        self.n_ctx = n_ctx
        self.n_vocab = self.llm.n_vocab()
        self.vocab = self.llm._model.vocab
        # Requests queue here: one model, one KV cache, one generation at a time.
        self.lock = threading.Lock()
        self._pieces: dict[int, bytes] = {}
        tag = f"{version('llama-cpp-python')}|{path.rsplit('/', 1)[-1]}|{n_ctx}"
        self.fingerprint = "fp_" + hashlib.sha256(tag.encode()).hexdigest()[:10]

    # -- tokens -----------------------------------------------------------------------------
    def tokenize(self, text: str, special: bool = False) -> list[int]:
        """special=False for anything a user wrote: "<|im_end|>" typed in a message stays text."""
        if not text:
            return []
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def piece(self, token: int) -> bytes:
        if token not in self._pieces:
            self._pieces[token] = self.llm._model.token_to_piece(token, special=True).rstrip(b"\0")
        return self._pieces[token]

    def is_eog(self, token: int) -> bool:
        return bool(self._lc.llama_vocab_is_eog(self.vocab, token))

    # -- grammar ----------------------------------------------------------------------------
    def _grammar_ptr(self, gbnf: str):
        ptr = self._lc.llama_sampler_init_grammar(self.vocab, gbnf.encode("utf-8"), b"root")
        if not ptr:  # adding a NULL sampler to a chain would crash the process
            raise GrammarError("llama.cpp could not parse the grammar built for this request")
        return ptr

    def check_grammar(self, gbnf: str) -> None:
        self._lc.llama_sampler_free(self._grammar_ptr(gbnf))

    def sampler(self, sampling: Sampling, seed: int, grammar: str | None):
        """A llama.cpp sampler chain: logit bias, penalties, grammar mask, then the draw.
        (Checking the drawn token against the grammar first, as llama.cpp's common sampler
        does, measured only ~10% faster here: masking the whole vocabulary is cheap next to
        a forward pass, so the plain chain stays.)"""
        from llama_cpp._internals import LlamaSampler

        lc, chain = self._lc, LlamaSampler()
        if sampling.logit_bias:
            chain.add_logit_bias(self.n_vocab, sampling.logit_bias)
        if sampling.presence_penalty or sampling.frequency_penalty:
            # OpenAI's penalties count every token generated so far; a window as long as the
            # context covers them all. (The first argument is the window in the C library this
            # wrapper binds, so it is passed in both slots.)
            window = self.n_ctx
            lc.llama_sampler_chain_add(chain.sampler, lc.llama_sampler_init_penalties(
                window, window, 1.0, sampling.frequency_penalty, sampling.presence_penalty))
        if grammar:
            lc.llama_sampler_chain_add(chain.sampler, self._grammar_ptr(grammar))
        if sampling.temperature <= 0.0:
            chain.add_greedy()
        else:
            # OpenAI's order: scale by temperature, then keep the top_p nucleus, then draw.
            chain.add_temp(sampling.temperature)
            if sampling.top_p < 1.0:
                chain.add_top_p(max(sampling.top_p, 1e-6), 1)
            chain.add_dist(seed & 0xFFFFFFFF)
        return chain

    # -- prompt -----------------------------------------------------------------------------
    def _load_prompt(self, prompt: list[int], reuse: bool) -> int:
        """Put the prompt in the KV cache, reusing the longest cached prefix when allowed.
        The last prompt token is always evaluated alone, so the logits the first sample
        reads come from the same computation whether or not a prefix was cached: with a
        seed, that keeps a repeated request identical. Returns the number of cached tokens."""
        llm, keep = self.llm, 0
        if reuse and llm.n_tokens:
            cached = llm.input_ids[: min(llm.n_tokens, len(prompt) - 1)]
            same = np.asarray(prompt[: len(cached)], dtype=cached.dtype) == cached
            keep = int(len(same) if same.all() else np.argmin(same))
        if keep == 0:
            llm.reset()
        else:
            llm.n_tokens = keep  # eval() drops the KV entries from n_tokens on
        rest = prompt[keep:]
        if len(rest) > 1:
            llm.eval(rest[:-1])
        llm.eval(rest[-1:])
        return keep

    # -- the loop ---------------------------------------------------------------------------
    def run(self, prompt: list[int], *, max_tokens: int | None, sampling: Sampling, seed: int,
            grammar: str | None = None, logprobs: int | None = None, call_grammar: str | None = None,
            call_opener: str = "", reuse_cache: bool = True,
            cancel: threading.Event | None = None) -> Generator[Token | Switch | Finish, None, None]:
        """Generate from `prompt`; the caller must hold `self.lock` until the iterator is done.

        logprobs: None for none, else how many alternatives to report (0..20).
        call_grammar/call_opener (tool_choice auto): the first token is drawn with the
        ordinary chain; if its text begins the opener of a tool call, the model has chosen
        to call, and the rest is drawn under call_grammar. Otherwise it answers in text."""
        llm, ctx = self.llm, self.llm._ctx
        if len(prompt) >= self.n_ctx:
            raise ValueError("prompt does not fit the context")
        cached = self._load_prompt(prompt, reuse_cache)
        self.last_cached_tokens = cached
        chain = self.sampler(sampling, seed, grammar)
        pending: int | None = None
        produced = 0
        try:
            while True:
                if max_tokens is not None and produced >= max_tokens:
                    yield Finish("length")
                    return
                if pending is not None:
                    if llm.n_tokens >= self.n_ctx:
                        yield Finish("length")
                        return
                    llm.eval([pending])
                if cancel is not None and cancel.is_set():
                    return
                lp = top = None
                if logprobs is not None:
                    logits = np.ctypeslib.as_array(ctx.get_logits_ith(-1), shape=(self.n_vocab,))
                    logits = logits.astype(np.float64)
                token = chain.sample(ctx, -1)
                if logprobs is not None:
                    lp, top = _logprobs(logits, token, logprobs)
                if produced == 0 and call_grammar is not None:
                    text = self.piece(token).decode("utf-8", "replace")
                    # Only a token that is a prefix of the opener: the grammar must accept it,
                    # and llama.cpp aborts the process on a token its grammar rejects.
                    if text and call_opener.startswith(text):
                        yield Switch()
                        chain.close()
                        chain = self.sampler(sampling, seed + 1, call_grammar)
                        chain.accept(token)  # the grammar starts from the token already drawn
                if self.is_eog(token):
                    yield Finish("stop")
                    return
                produced += 1
                yield Token(token, self.piece(token), lp, top)
                pending = token
        finally:
            chain.close()


def _logprobs(logits: np.ndarray, token: int, k: int) -> tuple[float, list[tuple[int, float]]]:
    """Log-softmax of the raw logits at this position: the model's own distribution,
    before temperature, top_p or a grammar reshaped it (as OpenAI reports them)."""
    m = logits.max()
    lse = m + np.log(np.exp(logits - m).sum())
    top: list[tuple[int, float]] = []
    if k:
        idx = np.argpartition(-logits, k)[:k]
        idx = idx[np.argsort(-logits[idx])]
        top = [(int(i), float(logits[i] - lse)) for i in idx]
    return float(logits[token] - lse), top


def random_seed() -> int:
    import secrets

    return secrets.randbits(31)

