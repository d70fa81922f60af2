"""Tools and structured output: request validation, the GBNF grammars that
constrain decoding, and the parser that turns the model's call text into calls.

A call is written the way SmolLM2 was taught function calling: a JSON list inside
one tag, `<tool_call>[{"name": ..., "arguments": {...}}, ...]</tool_call>`. The
list lets the model itself decide how many calls one answer makes: after each
call the grammar allows either ", " (another call) or "]" (done)."""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from .errors import bad

CALL_OPEN = "<tool_call>["
CALL_CLOSE = "]</tool_call>"
MAX_CALLS = 8  # a ceiling on one response's calls, so a looping tiny model stops early
NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass
class Tool:
    name: str
    description: str
    parameters: dict
    strict: bool

    def spec(self) -> dict:
        """How the tool is shown to the model (OpenAI's chat shape, which models have seen most)."""
        fn: dict[str, Any] = {"name": self.name}
        if self.description:
            fn["description"] = self.description
        fn["parameters"] = self.parameters
        return {"type": "function", "function": fn}


def new_call_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "call_" + "".join(secrets.choice(alphabet) for _ in range(24))


# -- request validation ----------------------------------------------------------------------
def parse_tools(raw: Any, responses: bool = False) -> list[Tool]:
    """Chat shape {"type": "function", "function": {...}}; Responses shape is flat."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad("Invalid type for 'tools': expected an array of objects.", "tools", "invalid_type")
    tools, seen = [], set()
    for i, item in enumerate(raw):
        where = f"tools[{i}]"
        if not isinstance(item, dict):
            raise bad(f"Invalid type for '{where}': expected an object.", where, "invalid_type")
        if item.get("type") != "function":
            raise bad(f"Invalid value for '{where}.type': this server supports only function tools, "
                      f"not '{item.get('type')}'.", f"{where}.type", "invalid_value")
        fn = item if responses else item.get("function")
        fwhere = where if responses else f"{where}.function"
        if not isinstance(fn, dict):
            raise bad(f"Missing required parameter: '{fwhere}'.", fwhere, "missing_required_parameter")
        name = fn.get("name")
        if not isinstance(name, str):
            raise bad(f"Missing required parameter: '{fwhere}.name'.", f"{fwhere}.name", "missing_required_parameter")
        if not NAME_RE.match(name):
            raise bad(f"Invalid '{fwhere}.name': string does not match pattern. Expected a string that matches "
                      "the pattern '^[a-zA-Z0-9_-]+$'.", f"{fwhere}.name", "invalid_value")
        if name in seen:
            raise bad(f"Invalid 'tools': duplicate function name '{name}'.", "tools", "invalid_value")
        seen.add(name)
        params = fn.get("parameters")
        if params is None:
            params = {"type": "object", "properties": {}}
        if not isinstance(params, dict):
            raise bad(f"Invalid type for '{fwhere}.parameters': expected an object.", f"{fwhere}.parameters",
                      "invalid_type")
        strict = bool(fn.get("strict"))
        if strict:
            check_strict_schema(params, f"function '{name}'", root_object=True)
        tools.append(Tool(name, str(fn.get("description") or ""), params, strict))
    return tools


def parse_tool_choice(raw: Any, tools: list[Tool], responses: bool = False) -> tuple[str, str | None]:
    """Returns (mode, name): mode is none, auto, required or named."""
    if raw is None:
        return ("auto" if tools else "none"), None
    if isinstance(raw, str):
        if raw not in ("none", "auto", "required"):
            raise bad(f"Invalid value: '{raw}'. Supported values are: 'none', 'auto', and 'required'.",
                      "tool_choice", "invalid_value")
        if raw != "none" and not tools:
            raise bad("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                      "specified.", "tool_choice", "invalid_value")
        return raw, None
    if isinstance(raw, dict) and raw.get("type") == "function":
        name = raw.get("name") if responses else (raw.get("function") or {}).get("name")
        if not tools:
            raise bad("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                      "specified.", "tool_choice", "invalid_value")
        if name not in {t.name for t in tools}:
            raise bad(f"Tool choice '{name}' not found in 'tools' parameter.", "tool_choice", "invalid_value")
        return "named", name
    raise bad("Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or a function.",
              "tool_choice", "invalid_value")


def check_strict_schema(schema: Any, what: str, root_object: bool = False, context: tuple = ()) -> None:
    """The subset OpenAI's strict mode accepts, checked the way its errors read."""
    if not isinstance(schema, dict):
        return
    if root_object and context == () and schema.get("type") != "object":
        raise bad(f"Invalid schema for {what}: schema must be a JSON Schema of 'type: \"object\"', got "
                  f"'type: \"{schema.get('type')}\"'.", None, "invalid_json_schema")
    where = f"In context={context}, "
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if schema.get("additionalProperties", None) is not False:
            raise bad(f"Invalid schema for {what}: {where}'additionalProperties' is required to be supplied and "
                      "to be false.", None, "invalid_json_schema")
        missing = [k for k in props if k not in (schema.get("required") or [])]
        if missing:
            raise bad(f"Invalid schema for {what}: {where}'required' is required to be supplied and to be an "
                      f"array including every key in properties. Missing '{missing[0]}'.", None,
                      "invalid_json_schema")
        for key, sub in props.items():
            check_strict_schema(sub, what, context=context + ("properties", key))
    for key in ("items",):
        if isinstance(schema.get(key), dict):
            check_strict_schema(schema[key], what, context=context + (key,))
    for key in ("anyOf", "$defs", "definitions"):
        value = schema.get(key)
        subs = value if isinstance(value, list) else (value or {}).values() if isinstance(value, dict) else []
        for j, sub in enumerate(subs):
            check_strict_schema(sub, what, context=context + (key, str(j)))


# -- grammars ----------------------------------------------------------------------------------
def _converter():
    from llama_cpp.llama_grammar import SchemaConverter

    return SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)


# llama-cpp-python's JSON string rule lets raw control characters (a newline) into a
# string, which no JSON parser accepts; llama.cpp upstream excludes them, and so do we.
_LOOSE_CHAR = '[^"\\\\]'
_JSON_CHAR = '[^"\\\\\\x7F\\x00-\\x1F]'


# A `pattern` becomes character classes that know nothing of JSON: `[^\n]` (or `.`) would let a
# raw quote end the string early, or a backslash or control character break it. Inside a JSON
# string every negated class must also exclude those, so the output always parses.
_NEGATED_CLASS = re.compile(r"\[\^((?:\\.|[^\]\\])*)\]")
_NOT_IN_JSON_STRING = '"\\\\\\x7F\\x00-\\x1F'


def _finish(conv) -> str:
    if "char" in conv._rules:
        rule = conv._rules["char"]
        assert rule.startswith(_LOOSE_CHAR), rule
        conv._rules["char"] = _JSON_CHAR + rule[len(_LOOSE_CHAR):]
    for name, rule in conv._rules.items():
        if name != "char":  # fixed above, with its escapes
            conv._rules[name] = _NEGATED_CLASS.sub(lambda m: f"[^{m.group(1)}{_NOT_IN_JSON_STRING}]", rule)
    return conv.format_grammar()


def _visit(conv, schema: dict, name: str, url: str, what: str) -> str:
    try:
        resolved = conv.resolve_refs(copy.deepcopy(schema), url)
        return conv.visit(resolved, name)
    except (AssertionError, ValueError, KeyError, TypeError, NotImplementedError) as exc:
        raise bad(f"Invalid schema for {what}: {exc}", None, "invalid_json_schema") from None


def schema_grammar(schema: dict, what: str) -> str:
    conv = _converter()
    _visit(conv, schema, "", "schema", what)
    return _finish(conv)


def json_object_grammar() -> str:
    from llama_cpp.llama_grammar import JSON_GBNF

    return JSON_GBNF


def call_grammar(tools: list[Tool], only: str | None = None, parallel: bool = True, limit: int = MAX_CALLS) -> str:
    """Calls of the given tools, each one's arguments decoded from its own schema;
    up to `limit` of them when parallel calls are allowed."""
    conv = _converter()
    alternatives = []
    for i, tool in enumerate(tools):
        if only is not None and tool.name != only:
            continue
        args = _visit(conv, tool.parameters, f"{tool.name}-args", f"tool{i}", f"function '{tool.name}'")
        head = '{"name": ' + json.dumps(tool.name) + ', "arguments": '
        alternatives.append(conv._add_rule(f"call-{tool.name}", f'{conv._format_literal(head)} {args} "}}"'))
    conv._rules["call"] = " | ".join(alternatives)
    more = f' (", " call){{0,{min(limit, MAX_CALLS) - 1}}}' if parallel and only is None and limit > 1 else ""
    conv._rules["root"] = f'{conv._format_literal(CALL_OPEN)} call{more} {conv._format_literal(CALL_CLOSE)}'
    return _finish(conv)


def allow_opener(text_grammar: str) -> str:
    """For tool_choice auto with a JSON response format: the first token may open a call
    instead of the JSON, so the model can still choose between the two."""
    renamed = re.sub(r"^root(\s*::=)", r"text-root\1", text_grammar, flags=re.MULTILINE)
    return renamed + '\nroot ::= "<" | text-root\n'


# -- reading the model's calls -------------------------------------------------------------------
class CallParser:
    """Incremental reader of `<tool_call>[{"name": "f", "arguments": {...}}, ...]</tool_call>`
    as the grammar writes it, so streamed argument text can go out as it is generated."""

    HEAD = re.compile(r'\s*\{"name": "([A-Za-z0-9_-]+)", "arguments": ')

    def __init__(self):
        self.state, self.buf = "open", ""
        self.calls: list[dict] = []
        self.depth, self.in_string, self.escaped = 0, False, False

    @property
    def done(self) -> bool:
        return self.state == "done"

    def feed(self, text: str) -> list[tuple]:
        """Returns events: ("start", index, name) and ("args", index, text)."""
        events: list[tuple] = []
        for ch in text:
            if self.state == "open":
                self.buf += ch
                if len(self.buf) >= len(CALL_OPEN):
                    self.state, self.buf = "head", ""
            elif self.state == "head":
                self.buf += ch
                m = self.HEAD.fullmatch(self.buf)
                if m:
                    self.calls.append({"name": m.group(1), "arguments": ""})
                    events.append(("start", len(self.calls) - 1, m.group(1)))
                    self.state, self.buf, self.depth = "args", "", 0
            elif self.state == "args":
                self.calls[-1]["arguments"] += ch
                if events and events[-1][0] == "args":
                    events[-1] = ("args", events[-1][1], events[-1][2] + ch)
                else:
                    events.append(("args", len(self.calls) - 1, ch))
                if self.in_string:
                    if self.escaped:
                        self.escaped = False
                    elif ch == "\\":
                        self.escaped = True
                    elif ch == '"':
                        self.in_string = False
                elif ch == '"':
                    self.in_string = True
                elif ch in "{[":
                    self.depth += 1
                elif ch in "}]":
                    self.depth -= 1
                    if self.depth == 0:
                        self.state = "after"
            elif self.state == "after":
                self.buf += ch
                rest = self.buf.lstrip(" ")
                if rest == "}, ":
                    self.state, self.buf = "head", ""
                elif rest == "}" + CALL_CLOSE:
                    self.state, self.buf = "done", ""
        return events
