"""One error base, one retry policy, one server-down hint, one notebook-name resolver."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import llmlab
from llmlab import errors, resilience
from llmlab.errors import LlmlabError, explain, server_down_fix
from llmlab.notebooks import NotebookNotFoundError, find_notebook, find_notebooks

from helpers import connection_error, status_error, timeout_error

# Each error the kit raises for a person, and the builtin base callers may already catch.
ERRORS = {
    "backends.MissingKeyError": RuntimeError,
    "backends.UnknownBackendError": ValueError,
    "cassettes.ReplayMissError": RuntimeError,
    "catalogue.NoPriceError": LookupError,
    "catalogue.UnknownModelError": KeyError,
    "classroom.agendas.AgendaError": ValueError,
    "config.ConfigError": ValueError,
    "costs.BudgetExceededError": RuntimeError,
    "labs.MarkerError": ValueError,
    "maintainer.llama_server.LlamaServerError": RuntimeError,
    "maintainer.netguard.NetworkDuringReplayError": RuntimeError,
    "notebooks.NotebookNotFoundError": FileNotFoundError,
    "ollama_models.OllamaModelsError": RuntimeError,
    "providers.UnsupportedParameterError": ValueError,
    "quiz.bank.BankError": ValueError,
    "quiz.grading.GradingError": RuntimeError,
    "quiz.grading.NotAnAnswer": ValueError,
    "quiz.numbers.NotANumber": ValueError,
    "quiz.progress.ProgressFileError": ValueError,
    "resilience.AllProvidersFailedError": RuntimeError,
    "resilience.CircuitOpenError": RuntimeError,
    "session.BackendUnavailableError": RuntimeError,
    "tokens.UnknownPriceError": KeyError,
}


def _error_class(dotted: str) -> type:
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(f"llmlab.{module}"), name)


@pytest.mark.parametrize("dotted", list(ERRORS))
def test_every_error_shares_the_base_and_keeps_its_builtin_one(dotted):
    cls = _error_class(dotted)
    assert issubclass(cls, LlmlabError) and issubclass(cls, ERRORS[dotted])


def test_no_error_class_is_left_out():
    """A new `class ...Error(...)` in the package must be listed above (or be private)."""
    skip = ("llmlab.checks", "llmlab.server", "llmlab.local_server")  # lab references; the server's own errors
    found = set()
    for info in pkgutil.walk_packages(llmlab.__path__, "llmlab."):
        if info.name.startswith(skip) or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (isinstance(value, type) and issubclass(value, Exception) and value.__module__ == info.name
                    and not name.startswith("_") and value is not LlmlabError):
                found.add(f"{info.name.removeprefix('llmlab.')}.{name}")
    aliases = {"cassettes.format.ReplayMissError": "cassettes.ReplayMissError"}
    assert {aliases.get(f, f) for f in found} == set(ERRORS)


# -- one retry policy ----------------------------------------------------------------------

def test_the_hints_use_the_one_retry_policy():
    assert errors.is_retryable is resilience.is_retryable
    quota = status_error(429, {"retry-after": "1"}, code="insufficient_quota")
    assert "out of credit" in explain(quota) and "retry" not in explain(quota).lower().replace("retrying", "")
    assert "Back off and retry" in explain(status_error(429))
    for retryable in (status_error(500), status_error(503), status_error(409)):
        assert "retry with backoff" in explain(retryable)
    assert explain(status_error(422)) is None
    # 501 Not Implemented (llama-server's answer to /embeddings without --embeddings): no retry adds it.
    assert "does not implement" in explain(status_error(501)) and "retry" not in explain(status_error(501))


# -- one server-down hint ------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["local", "ollama", "openai", "url"])
def test_one_server_down_hint_for_start_doctor_and_jupyter(backend):
    from llmlab.backends import resolve
    from llmlab.doctor import _live_checks
    from llmlab.session import BackendUnavailableError, _probe

    fix = server_down_fix(backend)
    assert explain(connection_error(), backend) == f"Fix: {fix}."
    if backend == "openai":
        return  # start() would need a key, and doctor would reach the internet
    down = resolve("http://127.0.0.1:9/v1" if backend == "url" else backend)
    down = type(down)(**{**down.__dict__, "base_url": "http://127.0.0.1:9/v1", "key_env": None})
    with pytest.raises(BackendUnavailableError) as err:
        _probe(down, "not-needed")
    assert str(err.value).endswith(f"Fix: {fix}.")
    assert "llmlab serve" in server_down_fix("local")
    if backend == "url":
        assert _live_checks("http://127.0.0.1:9/v1")[-1].fix == fix


def test_a_timeout_is_explained_as_a_timeout():
    assert "timeout" in explain(timeout_error())


# -- one notebook-name resolver ------------------------------------------------------------

@pytest.fixture
def notebooks(kit_root):
    for rel in ("notebooks/01_alpha.ipynb", "notebooks/01_alpha_extra.ipynb", "notebooks/02_beta.ipynb",
                "solutions/lab01_x.ipynb", "labs/lab01_x.ipynb", "quiz/mock_interview.ipynb"):
        (kit_root / rel).write_text("{}")
    return kit_root


def test_an_exact_name_wins_over_longer_ones(notebooks):
    assert find_notebook("01_alpha") == notebooks / "notebooks" / "01_alpha.ipynb"
    assert find_notebook("01_alpha.ipynb") == notebooks / "notebooks" / "01_alpha.ipynb"
    assert find_notebook("02") == notebooks / "notebooks" / "02_beta.ipynb"
    assert find_notebook("mock") == notebooks / "quiz" / "mock_interview.ipynb"
    assert find_notebook(str(notebooks / "labs" / "lab01_x.ipynb")) == notebooks / "labs" / "lab01_x.ipynb"


@pytest.mark.parametrize("name, candidates", [
    ("01", "notebooks/01_alpha.ipynb, notebooks/01_alpha_extra.ipynb"),
    ("lab01_x", "solutions/lab01_x.ipynb, labs/lab01_x.ipynb"),
])
def test_an_ambiguous_name_is_refused_with_the_candidates(notebooks, name, candidates):
    with pytest.raises(NotebookNotFoundError, match="matches 2 notebooks") as err:
        find_notebook(name)
    assert candidates in str(err.value)


def test_all_means_the_topic_notebooks(notebooks):
    assert [p.name for p in find_notebooks(["all"])] == ["01_alpha.ipynb", "01_alpha_extra.ipynb", "02_beta.ipynb"]
    with pytest.raises(NotebookNotFoundError, match="no notebook matches '03'"):
        find_notebooks(["02", "03"])
