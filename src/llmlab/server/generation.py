"""From engine tokens to what the endpoints send: text deltas that never split a
UTF-8 character or leak the start of a stop sequence, tool calls read as they are
written, logprob entries, and the finish reason OpenAI would give."""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

from . import tools as T
from .engine import Engine, Finish, Sampling, Switch, Token, random_seed


@dataclass
class Spec:
    """What every choice of a request is generated with."""

    max_tokens: int | None
    sampling: Sampling
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    logprobs: int | None = None  # None: no logprobs; k: that many alternatives
    text_grammar: str | None = None  # json_object / json_schema, or None for free text
    tool_mode: str = "none"  # none, auto, required, named
    call_grammar: str | None = None


class TextAssembler:
    """Decodes token bytes incrementally and cuts at the first stop sequence. Text that
    could still turn out to be the start of a stop sequence is held back until it cannot."""

    def __init__(self, stops: list[str]):
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.stops = stops
        self.text = ""
        self.sent = 0
        self.stopped = False
        self._entries: list[tuple[int, int, dict]] = []  # (start, end, logprob entry)

    def feed(self, piece: bytes, entry: dict | None) -> tuple[str, list[dict]]:
        start = len(self.text)
        self.text += self._decoder.decode(piece)
        if entry is not None:
            self._entries.append((start, len(self.text), entry))
        if self.stops:
            cut = min((i for i in (self.text.find(s, max(0, start - len(s) + 1)) for s in self.stops) if i >= 0),
                      default=-1)
            if cut >= 0:
                self.text, self.stopped = self.text[:cut], True
                self._entries = [e for e in self._entries if e[0] < cut]
                return self._release(len(self.text))
        return self._release(len(self.text) - self._held())

    def flush(self) -> tuple[str, list[dict]]:
        if not self.stopped:
            self.text += self._decoder.decode(b"", final=True)
        return self._release(len(self.text), everything=True)

    def _held(self) -> int:
        longest = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.text)), longest, -1):
                if self.text.endswith(s[:k]):
                    longest = k
                    break
        return longest

    def _release(self, upto: int, everything: bool = False) -> tuple[str, list[dict]]:
        delta = self.text[self.sent:upto] if upto > self.sent else ""
        self.sent = max(self.sent, upto)
        ready = [e for e in self._entries if everything or e[1] <= upto]
        self._entries = [e for e in self._entries if not (everything or e[1] <= upto)]
        return delta, [e[2] for e in ready]


def logprob_entry(engine: Engine, tok: Token) -> dict:
    """OpenAI's ChatCompletionTokenLogprob: token text, logprob, UTF-8 bytes, alternatives."""
    def one(token_id: int, lp: float) -> dict:
        raw = engine.piece(token_id)
        return {"token": raw.decode("utf-8", "backslashreplace"), "logprob": lp, "bytes": list(raw)}

    entry = one(tok.id, tok.logprob if tok.logprob is not None else 0.0)
    entry["top_logprobs"] = [one(i, lp) for i, lp in (tok.top or [])]
    return entry


@dataclass
class Outcome:
    text: str = ""
    calls: list[dict] = field(default_factory=list)  # {"id", "name", "arguments"}
    finish_reason: str = "stop"
    completion_tokens: int = 0
    logprobs: list[dict] = field(default_factory=list)
    cached_tokens: int = 0
    # Wall time before the first event (the prompt evaluated) and after it (generation), in
    # nanoseconds: what Ollama reports as prompt_eval_duration and eval_duration.
    prompt_eval_ns: int = 0
    eval_ns: int = 0


def run_choice(engine: Engine, prompt: list[int], spec: Spec, index: int,
               cancel: threading.Event | None = None, outcome: Outcome | None = None) -> Iterator[tuple]:
    """Generate one choice; the caller holds engine.lock. Yields
    ("text", delta, logprob_entries), ("call", i, id, name), ("args", i, delta), and
    finally ("finish", Outcome)."""
    out = outcome if outcome is not None else Outcome()
    # With a seed, choice i draws with seed + i: choices differ, the request repeats exactly.
    # The first choice then also starts from an empty KV cache (see Engine._load_prompt).
    seed = spec.seed + index if spec.seed is not None else random_seed()
    reuse = spec.seed is None or index > 0
    in_calls = spec.tool_mode in ("required", "named")
    kwargs: dict = {}
    if spec.tool_mode == "auto":
        grammar = T.allow_opener(spec.text_grammar) if spec.text_grammar else None
        kwargs = {"call_grammar": spec.call_grammar, "call_opener": T.CALL_OPEN}
    elif in_calls:
        grammar = spec.call_grammar
    else:
        grammar = spec.text_grammar
    text = TextAssembler(spec.stop)
    call_decoder = codecs.getincrementaldecoder("utf-8")("replace")
    parser = T.CallParser()
    finish = "stop"
    events: Generator = engine.run(prompt, max_tokens=spec.max_tokens, sampling=spec.sampling, seed=seed,
                                   grammar=grammar, logprobs=spec.logprobs, reuse_cache=reuse, cancel=cancel,
                                   **kwargs)
    out.cached_tokens = 0
    started = time.perf_counter_ns()
    first: int | None = None
    try:
        for ev in events:
            if first is None:
                first = time.perf_counter_ns()
                out.prompt_eval_ns = first - started
            out.cached_tokens = engine.last_cached_tokens
            if isinstance(ev, Switch):
                in_calls = True
            elif isinstance(ev, Token):
                out.completion_tokens += 1
                if in_calls:
                    for e in parser.feed(call_decoder.decode(ev.piece)):
                        if e[0] == "start":
                            out.calls.append({"id": T.new_call_id(), "name": e[2], "arguments": ""})
                            yield ("call", e[1], out.calls[-1]["id"], e[2])
                        else:
                            out.calls[e[1]]["arguments"] += e[2]
                            yield ("args", e[1], e[2])
                    continue
                entry = logprob_entry(engine, ev) if spec.logprobs is not None else None
                delta, entries = text.feed(ev.piece, entry)
                out.logprobs.extend(entries)
                if delta or entries:
                    yield ("text", delta, entries)
                if text.stopped:
                    finish = "stop"
                    break
            elif isinstance(ev, Finish):
                finish = ev.reason
    finally:
        events.close()  # ends the engine loop (and frees its sampler) when a stop sequence cut it short
    if not in_calls:
        delta, entries = text.flush()
        out.logprobs.extend(entries)
        if delta or entries:
            yield ("text", delta, entries)
        out.text = text.text
    elif finish == "stop":
        # A named tool_choice ends with "stop" at OpenAI; a call the model chose, "tool_calls".
        finish = "stop" if spec.tool_mode == "named" else "tool_calls"
    out.finish_reason = finish
    out.eval_ns = time.perf_counter_ns() - (first or started)
    yield ("finish", out)
