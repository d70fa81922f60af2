import hashlib
from types import SimpleNamespace

import pytest

from llmlab import catalogue, tokens


def test_tiktoken_loads_offline_from_the_wheel(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    tokens.ensure_offline_encodings()
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    assert (tmp_path / hashlib.sha1(url.encode()).hexdigest()).stat().st_size > 1_000_000
    assert tokens.count_tokens("Hello, world!", "gpt-4o") == 4
    assert tokens.count_tokens("Hello, world!", "gpt-4") == 4  # cl100k_base


def test_message_count_adds_framing():
    msgs = [{"role": "user", "content": "hi"}]
    # 3 (message) + 1 ("user") + 1 ("hi") + 3 (reply priming)
    assert tokens.count_message_tokens(msgs, "gpt-4o") == 8


def test_cost_uses_cached_rate():
    listed = catalogue.price("gpt-4o")  # prices live in src/llmlab/catalogue.yaml
    full = tokens.cost("gpt-4o", 1_000_000, 0)
    cached = tokens.cost("gpt-4o", 1_000_000, 0, cached_tokens=1_000_000)
    assert full.total == pytest.approx(listed.input)
    assert cached.total == pytest.approx(listed.cached_input)
    assert cached.total < full.total


def test_cache_writes_cost_the_cache_write_price_read_from_usage():
    """GPT-6 bills tokens written to the cache at a breakpoint at their own rate (catalogue)."""
    listed = catalogue.price("gpt-6-luna")
    assert listed.cache_write is not None and listed.cache_write != listed.input
    usage = SimpleNamespace(prompt_tokens=3_000_000, completion_tokens=0, prompt_tokens_details=SimpleNamespace(
        cached_tokens=1_000_000, cache_write_tokens=1_000_000))
    got = tokens.cost_of_usage("gpt-6-luna", usage)
    assert got.total == pytest.approx(listed.input + listed.cached_input + listed.cache_write)


def test_prices_come_from_the_catalogue():
    assert catalogue.token_prices() == tokens.PRICES
    assert str(catalogue.checked()) == tokens.PRICES_AS_OF
    listed = catalogue.price("gpt-4.1-mini")
    assert tokens.price("gpt-4.1-mini") == (listed.input, listed.cached_input, listed.output)
    assert tokens.price("claude-sonnet-4") == tokens.PRICES["claude-sonnet-4-20250514"]  # kit alias
    assert tokens.price("local") == (0.0, 0.0, 0.0)


def test_media_models_are_not_priced_per_token():
    with pytest.raises(tokens.UnknownPriceError):
        tokens.price("gpt-4o-mini-tts")  # not gpt-4o-mini's price by prefix


def test_dated_snapshot_uses_family_price():
    assert tokens.price("gpt-4o-mini-2024-07-18") == tokens.PRICES["gpt-4o-mini"]


def test_unknown_model_price_is_an_error():
    with pytest.raises(tokens.UnknownPriceError, match=tokens.PRICES_AS_OF):
        tokens.price("mystery-model")


def test_cached_token_table_matches_tiktoken_and_survives_damage(tmp_path, monkeypatch):
    import marshal

    import tiktoken
    import tiktoken_ext.openai_public as public
    from tiktoken import registry

    from llmlab import tokens

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    tokens.ensure_offline_encodings()
    reference = tiktoken.Encoding(**public.o200k_base())  # tiktoken's own, uncached path
    text = "Grüße! The quick brown fox costs $3.50 — 東京 🚀"
    for damage in (None, b"not a marshal blob"):
        monkeypatch.delitem(registry.ENCODINGS, "o200k_base", raising=False)
        blobs = list(tmp_path.glob("*.ranks.marshal"))
        if damage:
            blobs[0].write_bytes(damage)
        enc = tokens._get_encoding("o200k_base")
        assert enc.encode(text) == reference.encode(text)
        blob = next(tmp_path.glob("*.ranks.marshal"))
        assert len(marshal.loads(blob.read_bytes())) == len(reference._mergeable_ranks)
    assert public.load_tiktoken_bpe.__name__ == "load_tiktoken_bpe"  # the library's loader is restored
