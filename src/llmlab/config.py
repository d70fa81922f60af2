"""Where the kit keeps things: the project root, the learner's home dir, the config file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import IO, Any

from .errors import LlmlabError


class ConfigError(LlmlabError, ValueError):
    """The learner's config file is unreadable or holds what it must not (a key)."""


def truthy(value: str | None) -> bool:
    """An environment flag: 1, true, yes or on (any case) mean yes; anything else no."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def project_root() -> Path:
    """The checkout holding notebooks/ and cassettes/ (LLMLAB_ROOT overrides)."""
    env = os.environ.get("LLMLAB_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in [Path.cwd(), *Path.cwd().parents, *here.parents]:
        if (parent / "cassettes").is_dir() and (parent / "notebooks").is_dir():
            return parent
    return Path.cwd()


def home() -> Path:
    """The learner's own files: config, progress, tiktoken cache (LLMLAB_HOME overrides)."""
    path = Path(os.environ.get("LLMLAB_HOME", Path.home() / ".llmlab")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_path() -> Path:
    return home() / "config.toml"


def load_config() -> dict:
    """Read ~/.llmlab/config.toml, e.g. `backend = "ollama"`. Never holds keys."""
    path = config_path()
    if not path.exists():
        return {}
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix or delete it.") from None
    for forbidden in ("api_key", "key", "openai_api_key"):
        if forbidden in data:
            raise ConfigError(f"{path} holds '{forbidden}': keys belong in the environment, not in files. Remove it.")
    return data


def load_yaml(text: str | bytes | IO[str]) -> Any:
    """yaml.safe_load, with libyaml's C parser when PyYAML has it (5-10x faster)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
