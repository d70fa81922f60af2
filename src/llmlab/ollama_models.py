"""Ollama's model store, through the `ollama` Python client: which models are installed,
which of the kit's Ollama defaults (chat, tools, embed, vision) are missing, and pulling
them with a progress bar. `llmlab pull` and `llmlab doctor --backend ollama` use it.

Ollama's native API lives beside its OpenAI-compatible one, at the same host without /v1.
A model name without a tag means `:latest`, as in Ollama. Every failure (server down,
unknown model, an error Ollama answers) becomes one OllamaModelsError line with the fix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import ollama

from .backends import Models, ollama_base_url, resolve
from .backends import ollama_full_name as full_name
from .errors import LlmlabError, server_down_fix

if TYPE_CHECKING:
    from rich.console import Console

ROLES = ("chat", "tools", "embed", "vision")
LIBRARY = "https://ollama.com/library"


class OllamaModelsError(LlmlabError, RuntimeError):
    """Listing or pulling failed; `problem` and `fix` are also kept apart for `llmlab doctor`."""

    def __init__(self, problem: str, fix: str):
        super().__init__(f"{problem}. Fix: {fix}")
        self.problem, self.fix = problem, fix


def native_host(base_url: str | None = None) -> str:
    """Ollama's own API root: the OpenAI-compatible base URL without its /v1."""
    url = (base_url or ollama_base_url()).rstrip("/")
    return url.removesuffix("/v1")


def default_models(models: Models | None = None) -> dict[str, list[str]]:
    """The kit's Ollama model per role (LLMLAB_MODEL_<ROLE> overrides applied): full name -> roles."""
    models = models or resolve("ollama").models
    wanted: dict[str, list[str]] = {}
    for role in ROLES:
        name = getattr(models, role)
        if name:
            wanted.setdefault(full_name(name), []).append(role)
    return wanted


class OllamaModels:
    """One Ollama server's models. `transport` lets tests answer for it (httpx.MockTransport)."""

    def __init__(self, host: str | None = None, *, read_timeout: float | None = 30.0,
                 transport: httpx.BaseTransport | None = None):
        self.host = host or native_host()
        extra: dict[str, Any] = {"transport": transport} if transport else {}
        self.client = ollama.Client(host=self.host, timeout=httpx.Timeout(read_timeout, connect=5.0), **extra)

    def installed(self) -> list[str]:
        """Installed models, by full name, sorted."""
        with self._errors():
            listing = self.client.list()
        return sorted(full_name(m.model) for m in listing.models if m.model)

    def missing(self, models: Models | None = None) -> dict[str, list[str]]:
        """The defaults that are not installed: full name -> roles."""
        have = {name.lower() for name in self.installed()}
        return {name: roles for name, roles in default_models(models).items() if name.lower() not in have}

    def pull(self, model: str, console: Console | None = None) -> None:
        """Pull one model, showing Ollama's progress: a bar per layer (digest), other statuses as lines."""
        from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TaskProgressColumn, TextColumn

        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), DownloadColumn())
        bars: dict[str, TaskID] = {}
        last = ""
        with self._errors(model), Progress(*columns, console=console) as progress:
            for part in self.client.pull(model, stream=True):
                status = part.status or ""
                if part.digest and part.total:
                    if part.digest not in bars:
                        bars[part.digest] = progress.add_task(status, total=part.total)
                    progress.update(bars[part.digest], description=status, completed=part.completed or 0)
                elif status != last and status != "success":
                    progress.console.print(status, soft_wrap=True)
                last = status
        if last == "success":
            progress.console.print("success", soft_wrap=True)  # below the bars, once they are drawn
        else:
            raise OllamaModelsError(f"the pull of {model} ended without success (last status: {last or 'none'})",
                                    f"run llmlab pull {model} again, and check Ollama's log if it fails again")

    @contextmanager
    def _errors(self, model: str | None = None) -> Iterator[None]:
        """The client's failures as one line with the fix. (It turns a refused connection into the
        builtin ConnectionError for list; a stream raises httpx's errors as they are.)"""
        try:
            yield
        except ollama.ResponseError as exc:
            raise self._refused(exc, model) from None
        except (ConnectionError, httpx.ConnectError):
            raise OllamaModelsError(f"Ollama is not reachable at {self.host}: nothing answered",
                                    server_down_fix("ollama")) from None
        except httpx.TimeoutException as exc:
            raise OllamaModelsError(f"Ollama at {self.host} did not answer in time ({type(exc).__name__})",
                                    "check that Ollama is running and not busy, then try again") from None
        except httpx.TransportError as exc:
            raise OllamaModelsError(f"the connection to Ollama at {self.host} failed ({type(exc).__name__}: {exc})",
                                    "try again; if it keeps failing, restart Ollama") from None

    def _refused(self, exc: ollama.ResponseError, model: str | None) -> OllamaModelsError:
        said = " ".join(str(exc.error).split())  # one line, whatever the server wrote
        status = f" (HTTP {exc.status_code})" if exc.status_code > 0 else ""
        if model and ("file does not exist" in said or exc.status_code == 404):
            return OllamaModelsError(f"Ollama has no model {model!r} to pull: {said}{status}",
                                     f"check the name and tag at {LIBRARY} (no tag means :latest), "
                                     "or choose another model with LLMLAB_MODEL_<ROLE>")
        if exc.status_code in (404, 405):
            return OllamaModelsError(f"{self.host} is not an Ollama server: it answered {said!r}{status}",
                                     "point OLLAMA_HOST at Ollama (default http://localhost:11434)")
        return OllamaModelsError(f"Ollama at {self.host} refused the request: {said}{status}",
                                 "read the message above; Ollama's log has the details")
