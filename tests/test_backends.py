import pytest

from llmlab import backends as bk
from llmlab.config import ConfigError, load_config
from llmlab.session import choose_backend


def test_resolve_known_names():
    assert bk.resolve("local").base_url.startswith("http://127.0.0.1:")
    assert bk.resolve("openai").base_url == "https://api.openai.com/v1"
    assert bk.resolve("ollama").base_url == "http://localhost:11434/v1"


def test_any_url_is_a_backend():
    b = bk.resolve("http://10.0.0.5:8000/v1/")
    assert b.name == "url" and b.base_url == "http://10.0.0.5:8000/v1"


def test_unknown_backend_names_the_choices():
    with pytest.raises(bk.UnknownBackendError, match="replay, local, ollama, openai"):
        bk.resolve("olama")


@pytest.mark.parametrize("host, expected", [
    ("gpu-box:11434", "http://gpu-box:11434/v1"),
    ("http://gpu-box", "http://gpu-box:11434/v1"),
    ("0.0.0.0:9999", "http://localhost:9999/v1"),
])
def test_ollama_host_is_honoured(monkeypatch, host, expected):
    monkeypatch.setenv("OLLAMA_HOST", host)
    assert bk.resolve("ollama").base_url == expected


def test_model_overrides_env_then_argument(monkeypatch):
    monkeypatch.setenv("LLMLAB_MODEL_CHAT", "llama3.1:8b")
    assert bk.resolve("ollama").models.chat == "llama3.1:8b"
    assert bk.resolve("ollama", {"chat": "phi4"}).models.chat == "phi4"
    assert bk.resolve("ollama").models.embed == "nomic-embed-text"


def test_openai_key_comes_from_environment_only(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(bk.MissingKeyError, match="OPENAI_API_KEY"):
        bk.resolve("openai").api_key()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "x" * 20)
    assert bk.resolve("openai").api_key().startswith("sk-test-")


def test_ollama_lacks_what_its_docs_say():
    caps = bk.resolve("ollama").capabilities
    assert {"n", "images", "speech", "moderation", "batch"}.isdisjoint(caps)
    assert {"chat", "stream", "tools", "embeddings", "vision"} <= caps


def test_backend_precedence_argument_config_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMLAB_HOME", str(tmp_path))
    monkeypatch.setenv("LLMLAB_BACKEND", "ollama")
    assert choose_backend() == "ollama"
    (tmp_path / "config.toml").write_text('backend = "local"\n')
    assert choose_backend() == "local"
    assert choose_backend("openai") == "openai"


def test_broken_config_names_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMLAB_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text('backend = "local\n')
    with pytest.raises(ConfigError, match=r"config\.toml"):
        load_config()


def test_config_refuses_a_key(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMLAB_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text('backend = "openai"\napi_key = "sk-abc"\n')
    with pytest.raises(ConfigError, match="environment"):
        load_config()
