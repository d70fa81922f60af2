"""The model and price catalogue: which models exist, their status, limits and
list prices, the request rules of each model family, and the models the kit
uses by default. The data lives in catalogue.yaml next to this file (one dated
file, every fact with a source); this module validates it once and answers
small questions about it.

    from llmlab import catalogue
    catalogue.default_model("openai", "chat")      # 'gpt-6-luna'
    catalogue.price("gpt-4o-mini").input           # USD per 1M input tokens
    catalogue.status("gpt-4.1-mini").shutdown      # datetime.date(2027, 1, 14)
    catalogue.rules("gpt-6-luna").rules["temperature"].rule   # 'only_with_reasoning_effort_none'

How to update the file, and where each number comes from: docs/catalogue.md.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import importlib
import inspect
import re
import typing
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .errors import LlmlabError

__all__ = [
    "CATALOGUE_PATH",
    "ROLES",
    "Catalogue",
    "Default",
    "Family",
    "Grader",
    "Model",
    "NoPriceError",
    "Price",
    "Rule",
    "SdkNote",
    "Source",
    "Status",
    "UnknownModelError",
    "checked",
    "default_model",
    "defaults",
    "family",
    "find",
    "grader",
    "load",
    "model",
    "models",
    "openai_sdk_lifecycle",
    "price",
    "rules",
    "source",
    "status",
    "token_prices",
]

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

ROLES = ("chat", "tools", "reasoning", "embed", "vision", "images", "speech", "transcription", "moderation")
Role = Literal["chat", "tools", "reasoning", "embed", "vision", "images", "speech", "transcription", "moderation"]
SourceKind = Literal["provider", "sdk", "secondary", "kit"]
PriceUnit = Literal["per_1m_tokens", "per_minute", "per_image", "per_1m_characters", "free"]
State = Literal["current", "deprecated", "shut_down"]
RuleValue = Literal["supported", "rejected", "only_with_reasoning_effort_none", "not_documented"]

# Roles whose traffic is billed per token of text, so that llmlab.tokens can price it.
TOKEN_PRICED_ROLES = frozenset({"chat", "tools", "reasoning", "vision", "embed"})


class UnknownModelError(LlmlabError, KeyError):
    """The catalogue has no model (id, alias or snapshot) by that name."""


class NoPriceError(LlmlabError, LookupError):
    """The model is in the catalogue but no price was sourced for it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    url: str
    kind: SourceKind
    read: dt.date
    note: str | None = None

    @property
    def secondary(self) -> bool:
        return self.kind == "secondary"


class Price(_Strict):
    unit: PriceUnit
    input: float | None = Field(default=None, ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)
    output: float | None = Field(default=None, ge=0)
    extra: dict[str, float] = Field(default_factory=dict)
    batch_discount: float | None = Field(default=None, gt=0, le=1)
    as_of: dt.date
    source: str
    also: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _has_a_number(self) -> Price:
        if self.unit != "free" and self.input is None and self.output is None and not self.extra:
            raise ValueError("a price needs at least one rate (or unit: free)")
        return self

    def tokens(self) -> tuple[float, float, float] | None:
        """(input, cached input, output) USD per 1M tokens, or None if not priced per token.
        A missing cached rate is the input rate; a missing output rate is 0 (embeddings)."""
        if self.unit != "per_1m_tokens" or self.input is None:
            return None
        cached = self.cached_input if self.cached_input is not None else self.input
        return (self.input, cached, self.output if self.output is not None else 0.0)


class Status(_Strict):
    state: State
    shutdown: dt.date | None = None
    source: str
    note: str | None = None

    @model_validator(mode="after")
    def _shutdown_matches_state(self) -> Status:
        if self.state == "current" and self.shutdown is not None:
            raise ValueError("a current model has no shutdown date")
        if self.state != "current" and self.shutdown is None:
            raise ValueError(f"a {self.state} model needs its shutdown date")
        return self


class Grader(_Strict):
    """Whether the model may grade open quiz answers against a rubric (llmlab.quiz.grading).
    A model with no mark is not trusted to grade."""

    capable: bool
    why: str = Field(min_length=10, description="one line: why it may or may not grade")


class Model(_Strict):
    id: str
    roles: list[Role] = Field(min_length=1)
    family: str | None = None
    aliases: list[str] = Field(default_factory=list)
    snapshots: list[str] = Field(default_factory=list)
    source: str
    status: Status
    context_window: int | None = Field(default=None, gt=0)
    max_output: int | None = Field(default=None, gt=0)
    limits_source: str | None = None
    price: Price | None = None
    grader: Grader | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _limits_have_a_source(self) -> Model:
        if (self.context_window or self.max_output) and not self.limits_source:
            raise ValueError(f"{self.id}: context_window/max_output need limits_source")
        if self.grader is not None and "chat" not in self.roles:
            raise ValueError(f"{self.id}: only a chat model can be marked as a grader")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases, *self.snapshots)


class Provider(_Strict):
    models: list[Model]


class Rule(_Strict):
    rule: RuleValue
    source: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> Rule:
        if self.rule != "not_documented" and not self.source:
            raise ValueError(f"rule {self.rule!r} needs a source")
        return self


class Effort(_Strict):
    values: list[str]
    default: str | None = None
    source: str
    note: str | None = None


class Family(_Strict):
    description: str
    source: str
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] | None = None
    reasoning_effort: Effort | None = None
    rules: dict[str, Rule]


class Default(_Strict):
    model: str | None
    source: str
    why: str


class Catalogue(_Strict):
    checked: dt.date
    schema_version: int
    sources: dict[str, Source]
    providers: dict[str, Provider]
    families: dict[str, Family]
    defaults: dict[str, dict[Role, Default]]

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, v: int) -> int:
        if v != 1:
            raise ValueError(f"this llmlab reads catalogue schema 1, not {v}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        problems: list[str] = []

        def need_source(key: str | None, where: str) -> None:
            if key is not None and key not in self.sources:
                problems.append(f"{where}: unknown source {key!r}")

        for key, src in self.sources.items():
            if src.read > self.checked:
                problems.append(f"source {key}: read {src.read} after the catalogue's checked date")
        seen: dict[str, str] = {}
        for pname, provider in self.providers.items():
            for m in provider.models:
                where = f"{pname}/{m.id}"
                for name in m.names:
                    if name in seen:
                        problems.append(f"{where}: name {name!r} also used by {seen[name]}")
                    seen[name] = where
                need_source(m.source, where)
                need_source(m.status.source, f"{where} status")
                need_source(m.limits_source, f"{where} limits")
                if m.family is not None and m.family not in self.families:
                    problems.append(f"{where}: unknown family {m.family!r}")
                day = m.status.shutdown
                if m.status.state == "deprecated" and day is not None and day <= self.checked:
                    problems.append(f"{where}: deprecated but its shutdown {day} has passed")
                if m.status.state == "shut_down" and day is not None and day > self.checked:
                    problems.append(f"{where}: shut_down on a future date {day}")
                if m.price is not None:
                    need_source(m.price.source, f"{where} price")
                    for extra in m.price.also:
                        need_source(extra, f"{where} price")
                    if m.price.as_of > self.checked:
                        problems.append(f"{where}: price as_of {m.price.as_of} after checked")
        for fname, fam in self.families.items():
            need_source(fam.source, f"family {fname}")
            if fam.reasoning_effort is not None:
                need_source(fam.reasoning_effort.source, f"family {fname} reasoning_effort")
            for param, rule in fam.rules.items():
                need_source(rule.source, f"family {fname} rule {param}")
        for pname, roles in self.defaults.items():
            if pname not in self.providers:
                problems.append(f"defaults for unknown provider {pname!r}")
                continue
            by_id = {m.id: m for m in self.providers[pname].models}
            for role, default in roles.items():
                need_source(default.source, f"defaults {pname}.{role}")
                if default.model is None:
                    continue
                chosen = by_id.get(default.model)
                if chosen is None:
                    problems.append(f"defaults {pname}.{role}: {default.model!r} is not a {pname} model id")
                elif role not in chosen.roles:
                    problems.append(f"defaults {pname}.{role}: {default.model} does not have the role {role}")
        if problems:
            raise ValueError("catalogue.yaml is inconsistent:\n  " + "\n  ".join(problems))
        return self

    # -- lookups ----------------------------------------------------------------
    def iter_models(self, provider: str | None = None):
        for pname, p in self.providers.items():
            if provider is None or pname == provider:
                for m in p.models:
                    yield pname, m

    @functools.cached_property
    def _index(self) -> dict[str, tuple[str, Model]]:
        return {name: (pname, m) for pname, m in self.iter_models() for name in m.names}

    def find(self, name: str) -> tuple[str, Model] | None:
        return self._index.get(name)


@functools.lru_cache(maxsize=4)
def load(path: str | Path | None = None) -> Catalogue:
    """Read and validate catalogue.yaml (once per path)."""
    from .config import load_yaml

    path = Path(path) if path is not None else CATALOGUE_PATH
    return Catalogue.model_validate(load_yaml(path.read_text(encoding="utf-8")))


def checked() -> dt.date:
    """The date every source in the catalogue was last read."""
    return load().checked


def find(name: str) -> tuple[str, Model] | None:
    """(provider, Model) for an id, alias or snapshot name; None if unknown."""
    return load().find(name)


def model(name: str) -> Model:
    hit = find(name)
    if hit is None:
        raise UnknownModelError(f"{name!r} is not in the model catalogue (checked {checked()}); "
                                "see docs/catalogue.md to add it")
    return hit[1]


def models(provider: str | None = None, role: str | None = None) -> list[Model]:
    return [m for _, m in load().iter_models(provider) if role is None or role in m.roles]


def defaults(provider: str) -> dict[str, Default]:
    return {str(role): entry for role, entry in load().defaults[provider].items()}


def default_model(provider: str, role: str) -> str | None:
    """The model the kit uses for `role` on `provider`'s backend (None: no such model)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    entry = defaults(provider).get(role)  # KeyError for an unknown provider
    return entry.model if entry else None


def price(name: str) -> Price:
    """The model's list price (see Price.unit for what it is per)."""
    m = model(name)
    if m.price is None:
        raise NoPriceError(f"no price for {name!r} was sourced for the catalogue (checked {checked()})")
    return m.price


def status(name: str) -> Status:
    return model(name).status


def family(name: str) -> str | None:
    return model(name).family


def rules(name: str) -> Family | None:
    """The request rules of the model's family (None if the catalogue records none)."""
    fam = model(name).family
    return load().families[fam] if fam else None


def grader(name: str) -> Grader | None:
    """The model's grading mark; None for a model the catalogue does not know or has not marked
    (neither may grade open answers)."""
    hit = find(name)
    return hit[1].grader if hit else None


def source(key: str) -> Source:
    return load().sources[key]


def token_prices() -> dict[str, tuple[float, float, float]]:
    """Every name (id, alias, snapshot) of a model billed per text token, mapped to
    (input, cached input, output) USD per 1M tokens. Media models are left out."""
    table: dict[str, tuple[float, float, float]] = {}
    for _, m in load().iter_models():
        if m.price is None or not TOKEN_PRICED_ROLES.intersection(m.roles):
            continue
        rates = m.price.tokens()
        if rates is not None:
            for name in m.names:
                table[name] = rates
    return table


# -- the installed openai SDK's own record ---------------------------------------
class SdkNote(typing.NamedTuple):
    kind: Literal["announced", "shut_down", "not_supported"]
    date: dt.date | None
    text: str


# Model literal types of the openai SDK, by module and name.
OPENAI_MODEL_TYPES = (
    ("openai.types.shared.chat_model", "ChatModel"),
    ("openai.types.shared.responses_model", "ResponsesModel"),
    ("openai.types.image_model", "ImageModel"),
    ("openai.types.audio.speech_model", "SpeechModel"),
    ("openai.types.audio_model", "AudioModel"),
    ("openai.types.embedding_model", "EmbeddingModel"),
    ("openai.types.moderation_model", "ModerationModel"),
)

_ANNOUNCED = re.compile(r"Announced\s+shutdown\s+date:\s*(\d{4}-\d{2}-\d{2})")
_ENDED = re.compile(r"(?:was\s+shut\s+down|was\s+retired)\s+on\s+([A-Z][a-z]+\s+\d{1,2},\s+\d{4})")
_ITEM = re.compile(r'^((?:"[^"]+"\s*,?\s*)+):\s*(.*)$', re.DOTALL)


def _literal_strings(tp) -> set[str]:
    out: set[str] = set()
    for arg in typing.get_args(tp):
        if isinstance(arg, str):
            out.add(arg)
        else:
            out |= _literal_strings(arg)
    return out


def _deprecation_text(module, name: str) -> str:
    """The string literal that follows `name = ...` at module level (the SDK puts
    its "Deprecated values" note there)."""
    tree = ast.parse(inspect.getsource(module))
    body = tree.body
    for i, node in enumerate(body[:-1]):
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            nxt = body[i + 1]
            if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
                return nxt.value.value
    return ""


def parse_deprecation_notes(text: str) -> dict[str, SdkNote]:
    """Parse an SDK "Deprecated values:" block into {model id: SdkNote}."""
    if "Deprecated values" not in text:
        return {}
    items: list[str] = []
    current: list[str] = []
    for line in text.split("Deprecated values:", 1)[1].splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            if current:
                items.append(" ".join(current))
            current = [stripped[2:]]
        elif stripped and current:
            current.append(stripped)
    if current:
        items.append(" ".join(current))
    notes: dict[str, SdkNote] = {}
    for item in items:
        m = _ITEM.match(item)
        if not m:
            continue
        ids = re.findall(r'"([^"]+)"', m.group(1))
        rest = m.group(2)
        if (a := _ANNOUNCED.search(rest)):
            note = SdkNote("announced", dt.date.fromisoformat(a.group(1)), rest)
        elif (e := _ENDED.search(rest)):
            note = SdkNote("shut_down", dt.datetime.strptime(re.sub(r"\s+", " ", e.group(1)), "%B %d, %Y").date(), rest)
        elif "not a supported model id" in rest.lower():
            note = SdkNote("not_supported", None, rest)
        else:
            continue
        for model_id in ids:
            notes[model_id] = note
    return notes


@functools.lru_cache(maxsize=1)
def openai_sdk_lifecycle() -> tuple[str, frozenset[str], dict[str, SdkNote]]:
    """(openai version, every model id the SDK's model types list, deprecation notes by id)."""
    import openai

    known: set[str] = set()
    notes: dict[str, SdkNote] = {}
    for module_name, type_name in OPENAI_MODEL_TYPES:
        module = importlib.import_module(module_name)
        known |= _literal_strings(getattr(module, type_name))
        notes.update(parse_deprecation_notes(_deprecation_text(module, type_name)))
    return openai.__version__, frozenset(known), notes


def expected_status(note: SdkNote | None, today: dt.date) -> tuple[State, dt.date | None]:
    """What the catalogue must say for a model given the SDK's note about it."""
    if note is None or note.kind == "not_supported":
        return ("current", None)
    if note.date is None:
        return ("current", None)
    if note.kind == "shut_down" or note.date <= today:
        return ("shut_down", note.date)
    return ("deprecated", note.date)


def _main() -> None:  # python -m llmlab.catalogue: defaults and SDK disagreements
    cat = load()
    print(f"catalogue checked {cat.checked}")
    for pname, roles in cat.defaults.items():
        print(f"  {pname}: " + ", ".join(f"{r}={d.model}" for r, d in roles.items()))
    version, known, notes = openai_sdk_lifecycle()
    print(f"openai {version}: {len(known)} model ids, {len(notes)} with deprecation notes")
    for _, m in cat.iter_models("openai"):
        for name in (m.id, *m.snapshots):
            if name not in known:
                print(f"  {name}: not a model id of the installed SDK")
                continue
            state, date = expected_status(notes.get(name), cat.checked)
            if state != "current" and (m.status.state, m.status.shutdown) != (state, date):
                print(f"  {name}: SDK says {state} {date}, catalogue says {m.status.state} {m.status.shutdown}")


if __name__ == "__main__":
    _main()
