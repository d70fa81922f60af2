"""A cassette on disk: vcrpy's YAML file (interactions, version, metadata) at
cassettes/<notebook>.yaml, the provenance stored in its metadata, and what an open
cassette offers whether it is being replayed or recorded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import load_yaml
from ..errors import LlmlabError

CASSETTE_SUFFIX = ".yaml"


class ReplayMissError(LlmlabError, RuntimeError):
    """A notebook asked for something its cassette does not hold (or the cassette is
    missing or broken); the message names the re-record command."""


def cassette_path(cassette_dir: Path, notebook: str) -> Path:
    return cassette_dir / f"{notebook}{CASSETTE_SUFFIX}"


def rerecord_command(notebook: str) -> str:
    return f"llmlab record {notebook} --backend local"


def load_cassette_file(path: Path) -> dict:
    """A cassette's YAML as vcrpy wrote it: {interactions, version, metadata}."""
    import yaml

    try:
        data = load_yaml(path.read_bytes()) or {}
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())  # one line: where and what
        raise ReplayMissError(f"Cassette {path.name} is not valid YAML ({detail}); restore it from git "
                              f"or re-record it with: {rerecord_command(path.stem)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise ReplayMissError(f"Cassette {path.name} has no interactions list; restore it from git "
                              f"or re-record it with: {rerecord_command(path.stem)}")
    return data


def as_bytes(body: bytes | str | None) -> bytes:
    """A body as vcrpy hands it to a client: YAML may hold it as text or as bytes."""
    if body is None:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else body


@dataclass
class Provenance:
    """Where a cassette's responses came from, stored inside the cassette."""

    backend: str
    server: str
    models: dict[str, str]
    recorded: str  # ISO date
    capabilities: list[str]
    illustrative: bool = False
    note: str = ""

    def line(self) -> str:
        models = self.models.get("chat", "?")
        if self.models.get("embed") and "embeddings" in self.capabilities:
            models += f", embeddings {self.models['embed']}"
        kind = ("illustrative responses written from the OpenAI API reference" if self.illustrative
                else "responses recorded")
        return (
            f"Replay: {kind} on {self.recorded} from {self.backend} "
            f"({self.server}; model {models}). No key, no network."
        )


class OpenCassette:
    """One notebook's cassette, open for the life of the kernel: the part replay
    (replay.ReplaySession) and recording (recorder.RecordingSession) share."""

    mode: str  # "replay" or "record"

    def __init__(self, notebook: str, cassette_dir: Path):
        self.notebook = notebook
        self.path = cassette_path(cassette_dir, notebook)
        self._metadata: dict[str, Any] = {}

    def metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    def provenance(self) -> Provenance | None:
        data = self._metadata.get("provenance")
        return Provenance(**data) if data else None

    def save(self) -> None:
        """Write what was recorded so far (replay has nothing to write)."""

    def close(self) -> None:
        """Release the cassette: restore patched transports, write the file."""


def recorded_chat_request(path: Path) -> dict[str, Any]:
    """The body of the first plain (not streamed) chat request a cassette answered with a 200:
    a request the recording holds, for tests and the benchmark that replay one."""
    import json

    for entry in load_cassette_file(path)["interactions"]:
        request = entry["request"]
        if request["uri"].endswith("/chat/completions") and request["body"]:
            body = json.loads(as_bytes(request["body"]))
            if not body.get("stream") and entry["response"]["status"]["code"] == 200:
                return body
    raise LookupError(f"{path.name} records no plain chat request")
