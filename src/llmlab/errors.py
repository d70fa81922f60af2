"""One-line fixes for what goes wrong on a learner's machine. The SDK's own
exception is kept intact; in Jupyter the fix is printed under the traceback."""

from __future__ import annotations

import re
from typing import Any

import openai

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}


def is_retryable(exc: BaseException) -> bool:
    """Timeouts, connection drops, 429 and 5xx are worth retrying; 400/401/403/404/422 never are."""
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS
    return False


def explain(exc: BaseException, backend: str = "", model: str = "") -> str | None:
    """The fix for an API error, in one line, or None if we have nothing useful to add."""
    text = str(exc)
    if isinstance(exc, openai.APITimeoutError):
        return ("Fix: the server took longer than the client's timeout. Raise it "
                "(client.with_options(timeout=120)) or ask for fewer tokens; a slow local model needs patience.")
    if isinstance(exc, openai.APIConnectionError):
        return {
            "local": "Fix: start the kit's server in a terminal: llmlab serve",
            "ollama": "Fix: start Ollama (open the app, or run: ollama serve), or set OLLAMA_HOST.",
            "openai": "Fix: check your network or proxy; the OpenAI API did not answer.",
        }.get(backend, "Fix: the server is not reachable; check the base URL and that it runs.")
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
    if isinstance(exc, openai.BadRequestError) and re.search(r"context (length|window)|maximum context|too many tokens", text, re.I):
        return ("Fix: the prompt plus max_tokens exceeds the model's context window. Trim the history "
                "(notebook 23), lower max_tokens, or use a model with a longer context.")
    if isinstance(exc, openai.RateLimitError):
        return "Fix: rate limited. Back off and retry after the retry-after header (notebook 07)."
    if isinstance(exc, openai.InternalServerError):
        return "Fix: the server failed; retry with backoff, and check its log if it keeps happening."
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

    def handler(shell, etype, value, tb, tb_offset=None):
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        hint = explain(value, lab.backend, lab.models.chat)
        if hint:
            print(hint)

    shell.set_custom_exc((openai.APIError,), handler)


def _quoted(text: str) -> str:
    m = re.search(r"model '([^']+)'", text) or re.search(r'model "([^"]+)"', text)
    return m.group(1) if m else ""
