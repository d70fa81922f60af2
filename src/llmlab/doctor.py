"""`llmlab doctor`: one OK or FAIL line per item, with the fix for each FAIL."""

from __future__ import annotations

import importlib.metadata as md
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import server_down_fix

if TYPE_CHECKING:
    from .backends import Backend


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    def line(self) -> str:
        status = "OK  " if self.ok else ("FAIL" if self.required else "WARN")
        text = f"{status} {self.name}: {self.detail}"
        if not self.ok and self.fix:
            text += f"\n     fix: {self.fix}"
        return text


def _pkg(name: str, required: bool = True, fix: str | None = None) -> Check:
    try:
        return Check(f"package {name}", True, md.version(name), required=required)
    except md.PackageNotFoundError:
        return Check(f"package {name}", False, "not installed", fix or f"pip install -e .  (or pip install {name})",
                     required=required)


def run_checks(backend: str | None = None) -> list[Check]:
    from .config import ConfigError, project_root
    from .session import choose_backend

    checks = [Check("python", sys.version_info >= (3, 11), sys.version.split()[0], "install Python 3.11 or newer")]
    for name in ("openai", "vcrpy", "tiktoken", "bpe-openai", "jupyterlab", "ipywidgets", "matplotlib", "pydantic"):
        checks.append(_pkg(name))
    try:
        chosen = choose_backend(backend)
        checks.append(Check("backend", True, chosen))
    except ConfigError as exc:
        return checks + [Check("config file", False, str(exc), "fix or delete the file")]

    root = project_root()
    cassettes = sorted((root / "cassettes").glob("*.yaml"))
    checks.append(Check("cassettes", bool(cassettes), f"{len(cassettes)} in {root / 'cassettes'}",
                        "run from the kit's folder, or set LLMLAB_ROOT to it", required=chosen == "replay"))
    try:
        from .tokens import count_tokens, ensure_offline_encodings

        cache = ensure_offline_encodings()
        checks.append(Check("tiktoken offline", count_tokens("hello world") == 2,
                            f"o200k_base and cl100k_base in {cache}"))
    except Exception as exc:  # noqa: BLE001 - any failure here is the finding
        checks.append(Check("tiktoken offline", False, f"{type(exc).__name__}: {exc}",
                            "pip install bpe-openai tiktoken"))

    if chosen != "replay":
        checks.extend(_live_checks(chosen))
    elif backend is None:
        checks.append(_pkg("llama-cpp-python", required=False,
                           fix="pip install -e '.[local]'  (only for the local backend)"))
    return checks


def _live_checks(chosen: str) -> list[Check]:
    import httpx2

    from . import backends as bk

    try:
        live = bk.resolve(chosen)
    except bk.UnknownBackendError as exc:
        return [Check("backend name", False, str(exc), "set LLMLAB_BACKEND to replay, local, ollama, openai or a URL")]
    out = []
    key = "not-needed"
    if live.key_env:
        present = bool(os.environ.get(live.key_env, "").strip())
        out.append(Check(f"key {live.key_env}", present, "present (not shown)" if present else "missing",
                         f"export {live.key_env}=... in your shell, or getpass in a cell"))
        if not present:
            return out
        key = os.environ[live.key_env]
    try:
        r = httpx2.get(f"{live.base_url}/models", timeout=3.0, headers={"Authorization": f"Bearer {key}"})
        reachable = r.status_code < 500
        out.append(Check(f"{live.name} server", reachable and r.status_code not in (401, 403),
                         f"{live.base_url} answered HTTP {r.status_code}",
                         "check the key" if r.status_code in (401, 403) else "check the server logs"))
        listed = {m.get("id") for m in r.json().get("data", [])} if r.status_code == 200 else set()
    except (httpx2.TransportError, ValueError) as exc:
        return out + [Check(f"{live.name} server", False, f"{live.base_url} unreachable ({type(exc).__name__})",
                            server_down_fix(live.name))]
    if live.name == "ollama":
        return out + _ollama_models(live)
    if live.name == "local" and listed:
        for role in ("chat", "tools", "embed", "vision"):
            model = getattr(live.models, role)
            if not model:
                continue
            ok = model in listed or f"{model}:latest" in listed
            out.append(Check(f"model {model} ({role})", ok, "available" if ok else "not pulled",
                             "restart: llmlab serve", required=role in ("chat", "embed")))
    return out


def _ollama_models(live: Backend) -> list[Check]:
    """What Ollama has installed (its native API, through the `ollama` client) against the defaults."""
    from .ollama_models import ROLES, OllamaModels, OllamaModelsError, full_name, native_host

    store = OllamaModels(native_host(live.base_url), read_timeout=5.0)
    try:
        installed = store.installed()
    except OllamaModelsError as exc:
        return [Check("ollama models", False, exc.problem, exc.fix)]
    shown = ", ".join(installed[:10]) + (f" and {len(installed) - 10} more" if len(installed) > 10 else "")
    out = [Check("ollama models", True, f"{len(installed)} installed at {store.host}" + (shown and f": {shown}"))]
    have = {name.lower() for name in installed}
    for role in ROLES:
        model = getattr(live.models, role)
        if not model:
            continue
        ok = full_name(model).lower() in have
        out.append(Check(f"model {model} ({role})", ok, "installed" if ok else "missing (not pulled)",
                         f"llmlab pull  (pulls every missing default; or: llmlab pull {model})",
                         required=role in ("chat", "embed")))
    return out


def main(backend: str | None = None) -> int:
    checks = run_checks(backend)
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok and c.required]
    print(f"\n{len(checks) - len(failed)} OK, {len(failed)} FAIL")
    return 1 if failed else 0
