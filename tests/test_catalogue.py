"""The model catalogue (src/llmlab/catalogue.yaml): it validates, every fact has a
dated source, its OpenAI models and statuses agree with the installed openai
SDK's own deprecation record, and no default of the openai backend is going away.

When this fails after an `openai` upgrade, OpenAI has announced (or carried out) a
shutdown: update the model's status in catalogue.yaml, and pick a new default if
it was one (docs/catalogue.md says how)."""

import datetime as dt
import re
import typing

import pytest

from llmlab import catalogue
from llmlab.catalogue import expected_status, parse_deprecation_notes

CAT = catalogue.load()
OPENAI_ROLES = ("chat", "tools", "embed", "vision", "images", "speech", "transcription", "moderation")
OPENAI_MODELS = [m for _, m in CAT.iter_models("openai")]


def test_the_file_validates_against_the_schema():
    assert isinstance(CAT, catalogue.Catalogue)
    assert CAT.checked <= dt.date.today()
    assert set(CAT.providers) >= {"openai", "anthropic", "google", "cohere", "ollama"}
    assert set(typing.get_args(catalogue.Role)) == set(catalogue.ROLES)


def test_every_source_is_dated_and_addressable():
    for key, src in CAT.sources.items():
        assert src.read <= CAT.checked, key
        assert src.url.startswith(("https://", "package:", "llmlab:")), (key, src.url)
        if src.kind in ("provider", "secondary"):
            assert src.url.startswith("https://"), key
        if src.kind == "sdk":
            assert src.url.startswith("package:") and "@" in src.url, key


def test_every_model_and_price_has_a_source():
    for pname, m in CAT.iter_models():
        assert m.source in CAT.sources and m.status.source in CAT.sources, m.id
        if m.context_window or m.max_output:
            assert m.limits_source in CAT.sources, m.id
        if m.price is not None:
            assert isinstance(m.price.as_of, dt.date) and m.price.as_of <= CAT.checked, m.id
            url = CAT.sources[m.price.source].url
            if pname != "self_hosted":
                assert url.startswith("https://"), (m.id, url)
            assert all(key in CAT.sources for key in m.price.also), m.id


def test_every_family_rule_is_sourced():
    for name, fam in CAT.families.items():
        for param, rule in fam.rules.items():
            assert rule.rule == "not_documented" or rule.source in CAT.sources, (name, param)


def test_openai_models_are_known_to_the_installed_sdk():
    version, known, _ = catalogue.openai_sdk_lifecycle()
    missing = [name for m in OPENAI_MODELS for name in (m.id, *m.snapshots) if name not in known]
    assert not missing, f"not model ids of openai {version}: {missing}"


@pytest.mark.parametrize("m", OPENAI_MODELS, ids=lambda m: m.id)
def test_openai_status_agrees_with_the_sdk_deprecation_notes(m):
    version, _, notes = catalogue.openai_sdk_lifecycle()
    for name in (m.id, *m.snapshots):
        note = notes.get(name)
        state, shutdown = expected_status(note, CAT.checked)
        if note is not None and note.kind != "not_supported":
            assert (m.status.state, m.status.shutdown) == (state, shutdown), (
                f"{name}: openai {version} says {note.text!r}; the catalogue says "
                f"{m.status.state} {m.status.shutdown} (expected {state} {shutdown})")
        elif m.status.state != "current":
            # The docs may be ahead of the SDK; then a provider page must say so.
            assert CAT.sources[m.status.source].kind == "provider", name


def test_no_openai_default_is_deprecated_or_shut_down():
    _, _, notes = catalogue.openai_sdk_lifecycle()
    defaults = CAT.defaults["openai"]
    assert set(defaults) == set(OPENAI_ROLES)
    for role in ("chat", "tools", "embed", "vision"):
        assert defaults[role].model, f"the openai backend needs a {role} model"
    for role, default in defaults.items():
        if default.model is None:
            assert default.why and default.source in CAT.sources, role
            continue
        m = catalogue.model(default.model)
        assert m.status.state == "current", (role, m.id, m.status)
        assert default.model not in notes, (role, default.model, notes.get(default.model))
        assert role in m.roles


def test_ollama_defaults_are_the_recommended_tags():
    assert {r: catalogue.default_model("ollama", r) for r in ("chat", "tools", "embed", "vision")} == {
        "chat": "llama3.2:3b", "tools": "qwen3:4b", "embed": "nomic-embed-text", "vision": "gemma3:4b"}
    assert catalogue.default_model("ollama", "images") is None


def test_lookups():
    chat = catalogue.default_model("openai", "chat")
    assert catalogue.status(chat).state == "current"
    assert catalogue.price(chat).unit == "per_1m_tokens"
    assert catalogue.rules(chat).rules["temperature"].rule == "only_with_reasoning_effort_none"
    assert catalogue.model("gpt-4o-mini-2024-07-18").id == "gpt-4o-mini"
    assert catalogue.model("claude-sonnet-4").id == "claude-sonnet-4-20250514"
    with pytest.raises(catalogue.UnknownModelError):
        catalogue.model("mystery-model")
    with pytest.raises(catalogue.NoPriceError):
        catalogue.price("gpt-image-1")
    with pytest.raises(ValueError):
        catalogue.default_model("openai", "painting")


def test_grading_marks_say_which_chat_models_may_grade_open_answers():
    """llmlab.quiz.grading asks the catalogue: the openai default chat model grades, the local
    135M model does not, an unmarked or unknown model does not either."""
    from llmlab.backends import LOCAL

    openai_chat = catalogue.grader(catalogue.default_model("openai", "chat"))
    assert openai_chat is not None and openai_chat.capable
    local = catalogue.grader(LOCAL.models.chat)
    assert local is not None and not local.capable and "135M" in local.why
    assert catalogue.grader(catalogue.default_model("ollama", "chat")) is None
    assert catalogue.grader("mystery-model") is None
    for _, m in CAT.iter_models():
        if m.grader is not None:
            assert "chat" in m.roles and m.grader.why.strip(), m.id


def test_a_grading_mark_on_a_model_without_the_chat_role_is_refused(tmp_path):
    text = catalogue.CATALOGUE_PATH.read_text(encoding="utf-8")
    entry = "      - id: text-embedding-3-small\n"
    marked = text.replace(entry, entry + "        grader: {capable: true, why: embeddings cannot grade}\n")
    assert marked != text
    broken = tmp_path / "catalogue.yaml"
    broken.write_text(marked, encoding="utf-8")
    with pytest.raises(ValueError, match="only a chat model can be marked as a grader"):
        catalogue.load(broken)


def test_token_prices_leave_out_media_models():
    table = catalogue.token_prices()
    assert table["gpt-4o-mini-2024-07-18"] == table["gpt-4o-mini"]
    assert "gpt-4o-mini-tts" not in table and "gpt-image-2.6-flare" not in table
    p_in, p_cached, p_out = table["text-embedding-3-small"]
    assert p_cached == p_in and p_out == 0.0


def test_sdk_notes_parser_reads_every_phrasing():
    notes = parse_deprecation_notes('''Deprecated values:

- "a-1", "a-2": Announced shutdown date: 2027-01-14. See
  https://example.com for details.
- "b": GPT B was shut down on October 23, 2026. Use c
  instead.
- "c", "d": This model was retired on May 12, 2026. Use a newer one.
- "e": Not a supported model ID. Retained for SDK compatibility.
''')
    assert notes["a-2"].kind == "announced" and notes["a-2"].date == dt.date(2027, 1, 14)
    assert notes["b"] == notes["b"]._replace(kind="shut_down", date=dt.date(2026, 10, 23))
    assert notes["d"].date == dt.date(2026, 5, 12) and notes["e"].kind == "not_supported"
    assert expected_status(notes["a-1"], dt.date(2026, 12, 3)) == ("deprecated", dt.date(2027, 1, 14))
    assert expected_status(notes["a-1"], dt.date(2027, 2, 1)) == ("shut_down", dt.date(2027, 1, 14))


def test_inconsistent_data_is_refused(tmp_path):
    text = catalogue.CATALOGUE_PATH.read_text(encoding="utf-8")
    broken = tmp_path / "catalogue.yaml"
    broken.write_text(text.replace("model: text-embedding-3-small", "model: text-embedding-9"), encoding="utf-8")
    with pytest.raises(ValueError, match="text-embedding-9"):
        catalogue.load(broken)


def test_anthropic_statuses_agree_with_its_sdk_when_installed():
    anthropic = pytest.importorskip("anthropic")
    from anthropic._data import DEPRECATED_MODELS  # {model id: "January 22nd, 2027"}

    for m in (m for _, m in CAT.iter_models("anthropic")):
        for name in (m.id, *m.snapshots):
            if name in DEPRECATED_MODELS:
                ordinal_free = re.sub(r"(?<=\d)[a-z]{2}\b", "", DEPRECATED_MODELS[name])  # "22nd" -> "22"
                day = dt.datetime.strptime(ordinal_free, "%B %d, %Y").date()
                assert m.status.shutdown == day, (anthropic.__version__, name)
