"""A notebook's session: `start()` picks the backend, opens the notebook's cassette
(replay or recording), and hands the notebook a plain `openai.OpenAI` client plus
model names by role. How requests travel (timing, pacing) is cassettes/pacing.py."""

from __future__ import annotations

import atexit
import datetime as _dt
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import httpx2
import openai

from . import backends as bk
from .cassettes.format import OpenCassette, Provenance, ReplayMissError, rerecord_command
from .cassettes.pacing import LabTransport, pace_enabled
from .cassettes.recorder import RecordingSession
from .cassettes.replay import ReplaySession
from .config import load_config, project_root, truthy
from .errors import LlmlabError, server_down_fix

__all__ = ["REPLAY_BASE_URL", "BackendUnavailableError", "Lab", "LabTransport", "choose_backend", "start"]

REPLAY_BASE_URL = "http://replay.llmlab.invalid/v1"  # .invalid never resolves: a leak fails loudly


class BackendUnavailableError(LlmlabError, RuntimeError):
    """The chosen live server cannot be reached, or refuses the key."""


@dataclass
class Lab:
    """What `llmlab.start()` returns: the client, the models, and where answers come from."""

    notebook: str
    backend: str  # replay, local, ollama, openai, url
    mode: str  # replay, live or record
    models: bk.Models
    capabilities: frozenset[str]
    server: str
    base_url: str
    provenance: Provenance | None = None
    pace: bool = False
    _cassette: OpenCassette | None = None
    _illustrative: frozenset[str] = frozenset()
    _notes: dict[str, str] | None = None
    _client: openai.OpenAI | None = None
    _api_key: str = "not-needed"
    _timings: dict[int, list] | None = None
    requests_made: int = 0  # HTTP requests sent through lab.client so far
    last_answer: str = ""  # live: the last JSON answer in a few words (run_all.py says "what came instead")

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            self._client = openai.OpenAI(
                base_url=self.base_url,
                api_key=self._api_key,
                http_client=httpx2.Client(transport=LabTransport(self, **self._tls())),
                # Replay must fail fast: a retry would hide a miss behind a connection error.
                max_retries=0 if self.mode == "replay" else 2,
                # Recording waits behind other requests on a shared local server.
                timeout=300.0 if self.mode == "record" else 60.0,
            )
        return self._client

    def _tls(self) -> dict:
        """Replay never opens a connection, so it skips loading the system trust
        store (~0.1 s): its TLS context trusts nothing, and would refuse any host."""
        if self.mode != "replay":
            return {}
        import ssl

        return {"verify": ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)}

    def can(self, capability: str) -> bool:
        """True if this backend can do `capability`; otherwise say so in one line."""
        if capability not in bk.CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}; known: {', '.join(bk.CAPABILITIES)}")
        if capability in self._illustrative:
            what = bk.CAPABILITIES[capability].removeprefix("the ")
            print(f"Illustrative: the {what} response replayed here was written "
                  "from the OpenAI API reference, not recorded (no server here offers it). "
                  f"Record it for real with: llmlab record {self.notebook} --backend openai")
            return True
        if capability in self.capabilities:
            return True
        why = (self._notes or {}).get(capability) or f"{self.backend} does not offer {bk.CAPABILITIES[capability]}"
        print(f"Skipped: {why}. Try the openai backend to see this live.")
        return False

    def save(self) -> None:
        if self._cassette:
            self._cassette.save()

    def close(self) -> None:
        if self._cassette:
            self._cassette.close()

    def recorded_stream_timing(self) -> list[list[list[float]]]:
        """Chunk timings ([ms since request, bytes]) of the streams in this cassette."""
        if isinstance(self._cassette, RecordingSession):
            return [t["chunks"] for t in self._cassette.stream_timings]
        timings = self._timings or {}
        return [timings[i] for i in sorted(timings)]

    def describe(self) -> str:
        if self.mode == "replay" and self.provenance:
            return self.provenance.line()
        verb = "Recording" if self.mode == "record" else "Live"
        return f"{verb}: {self.backend} backend at {self.base_url} ({self.server}; model {self.models.chat})."


def choose_backend(explicit: str | None = None) -> str:
    """Explicit argument, then the config file, then LLMLAB_BACKEND, then replay."""
    if explicit:
        return explicit
    config = load_config()
    if config.get("backend"):
        return str(config["backend"])
    return os.environ.get("LLMLAB_BACKEND", "").strip() or "replay"


def _probe(backend: bk.Backend, api_key: str) -> set[str] | None:
    """Check a live server answers, and return the model ids it lists (if it lists any)."""
    try:
        r = httpx2.get(f"{backend.base_url}/models", timeout=3.0,
                       headers={"Authorization": f"Bearer {api_key}"})
    except httpx2.TransportError as exc:
        raise BackendUnavailableError(
            f"Cannot reach the {backend.name} server at {backend.base_url} ({type(exc).__name__}). "
            f"Fix: {server_down_fix(backend.name)}.") from None
    if r.status_code in (401, 403):
        raise BackendUnavailableError(
            f"The {backend.name} server at {backend.base_url} refused the key (HTTP {r.status_code}). "
            f"Check {backend.key_env or 'LLMLAB_API_KEY'} in your environment (it is not printed here).")
    if r.status_code != 200:
        return None
    try:
        return {m.get("id") for m in r.json().get("data", [])}
    except ValueError:
        return None


def _missing_model_lines(backend: bk.Backend, available: set[str] | None) -> list[str]:
    if not available or backend.name not in ("ollama", "local"):
        return []
    lines = []
    for role in ("chat", "tools", "embed", "vision"):
        model = getattr(backend.models, role)
        if not model or model in available or f"{model}:latest" in available:
            continue
        if backend.name == "ollama":
            lines.append(f"Note: model {model} ({role}) is not pulled. Run: ollama pull {model}")
        else:
            lines.append(f"Note: the local server does not list {model} ({role}); restart it with: llmlab serve")
    return lines


def start(notebook: str, backend: str | None = None, *, models: dict[str, str] | None = None,
          quiet: bool = False) -> Lab:
    """Set up a notebook: `lab = llmlab.start("04_streaming")`.

    backend: replay (default), local, ollama, openai, or a base URL. The
    environment variable LLMLAB_RECORD=1 (set by `llmlab record`) records the
    live responses into the notebook's cassette.
    """
    root = project_root()
    cassette_dir = Path(os.environ.get("LLMLAB_CASSETTES", root / "cassettes"))
    name = choose_backend(backend)
    recording = truthy(os.environ.get("LLMLAB_RECORD"))

    if name == "replay":
        if recording:
            raise LlmlabError("Recording needs a live backend: "
                              "llmlab record NOTEBOOK --backend local|ollama|openai|URL")
        session = ReplaySession(notebook, cassette_dir, strict=truthy(os.environ.get("LLMLAB_STRICT_REPLAY", "0")))
        meta = session.metadata()
        prov = session.provenance()
        if prov is None:
            raise ReplayMissError(f"Cassette {session.path.name} has no provenance; re-record it with: "
                                  f"{rerecord_command(notebook)}")
        # The models a cassette was made with: recorded roles, then the roles its illustrative
        # responses were written for, then (for roles neither has) today's openai defaults.
        recorded = {k: v for k, v in prov.models.items() if v}
        written_for = meta.get("illustrative", {}).get("models", {})
        model_set = replace(bk.OPENAI.models, **{**written_for, **recorded})
        illustrative = frozenset(meta.get("illustrative", {}).get("capabilities", []))
        timings = {t["interaction"]: t["chunks"] for t in meta.get("stream_timing", [])}
        lab = Lab(notebook=notebook, backend="replay", mode="replay", models=model_set,
                  capabilities=frozenset(prov.capabilities), server=prov.server,
                  base_url=REPLAY_BASE_URL, provenance=prov, pace=pace_enabled(),
                  _cassette=session, _illustrative=illustrative - frozenset(prov.capabilities),
                  _notes=meta.get("notes", {}), _timings=timings)
    else:
        live = bk.resolve(name, models)
        api_key = live.api_key()
        available = _probe(live, api_key)
        if live.name in PROBED_BACKENDS:
            live = _probed(live)
        lab = Lab(notebook=notebook, backend=live.name, mode="record" if recording else "live",
                  models=live.models, capabilities=live.capabilities, server=live.server,
                  base_url=live.base_url, _notes=dict(live.notes), _api_key=api_key, _timings={})
        if recording:
            recorder = RecordingSession(notebook, cassette_dir)
            lab._cassette = recorder
            prov = Provenance(
                backend=live.name, server=_server_description(live),
                models={k: v for k, v in asdict(live.models).items() if v},
                recorded=_dt.date.today().isoformat(), capabilities=sorted(live.capabilities))
            recorder.set_metadata("provenance", asdict(prov))
            recorder.set_metadata("notes", dict(live.notes))
            _keep_illustrative(recorder, cassette_dir, notebook)
            _save_after_each_cell(lab)
            atexit.register(lab.close)
        for line in _missing_model_lines(live, available):
            print(line)
    if lab.mode != "replay":
        from .errors import install_jupyter_hint
        from .run_all import install as guard_cells

        install_jupyter_hint(lab)
        guard_cells(lab)
    if not quiet:
        print(lab.describe())
    return lab


# Servers we cannot know in advance: what they can do is measured (llmlab probe), not assumed.
PROBED_BACKENDS = ("url", "ollama")


def _probed(backend: bk.Backend) -> bk.Backend:
    from .probe import capabilities_for

    result = capabilities_for(backend)
    return replace(backend, capabilities=result.capabilities, notes={**backend.notes, **result.notes()})


def _server_description(backend: bk.Backend) -> str:
    if backend.name == "local":
        from .local_server import describe

        return describe()
    return backend.server


def _keep_illustrative(session: RecordingSession, cassette_dir: Path, notebook: str) -> None:
    """Illustrative interactions come from cassettes/illustrative/, merged at record time."""
    from .cassettes.illustrative import merge_into

    merge_into(session, cassette_dir, notebook)


def _save_after_each_cell(lab: Lab) -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.events.register("post_run_cell", lambda *_: lab.save())
