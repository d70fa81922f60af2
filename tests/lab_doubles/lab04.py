"""Doubles for lab04_structured_extraction: strict_schema, repair_messages, extract,
response_format_for."""

import copy
import json
import re

from pydantic import ValidationError

from llmlab.checks.lab04 import REPAIR_PROMPT, SYSTEM_PROMPT, ExtractionError, Invoice

REQUEST = {"temperature": 0, "max_completion_tokens": 250, "reasoning_effort": "none"}
GPT4_ERA_REQUEST = {"temperature": 0, "max_tokens": 250}
JSON_OBJECT = {"type": "json_object"}


def strict(schema):
    if not isinstance(schema, dict):
        return schema
    out = {k: v for k, v in schema.items() if k != "default"}
    for key in ("properties", "$defs"):
        if key in out:
            out[key] = {name: strict(sub) for name, sub in out[key].items()}
    if "items" in out:
        out["items"] = strict(out["items"])
    if "anyOf" in out:
        out["anyOf"] = [strict(sub) for sub in out["anyOf"]]
    if out.get("type") == "object" or "properties" in out:
        out["additionalProperties"] = False
        out["required"] = list(out.get("properties", {}))
    return out


def strict_required_reversed(schema):
    """Correct too: `required` is a set, so any order means the same."""
    out = strict(schema)

    def flip(s):
        if isinstance(s, dict):
            if isinstance(s.get("required"), list) and s.get("additionalProperties") is False:
                s["required"] = s["required"][::-1]
            for value in s.values():
                flip(value)
        elif isinstance(s, list):
            for value in s:
                flip(value)
    flip(out)
    return dict(reversed(list(out.items())))  # and key order never mattered


def _describe(error):
    return "\n".join(f"- {'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors())


def repair(messages, reply, error):
    return list(messages) + [{"role": "assistant", "content": reply},
                             {"role": "user", "content": REPAIR_PROMPT.format(errors=_describe(error))}]


def _strict_format(make_strict=strict):
    return {"type": "json_schema",
            "json_schema": {"name": "invoice", "strict": True, "schema": make_strict(Invoice.model_json_schema())}}


def _extractor(attempts=2, repair=repair, validate=True, fmt=None, wrap=True, refusal=True, make_strict=strict,
               request=None):
    def extract(client, model, text, strict=False):
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text}]
        response_format = fmt if fmt is not None else (_strict_format(make_strict) if strict else JSON_OBJECT)
        replies = []
        for attempt in range(attempts):
            message = client.chat.completions.create(model=model, messages=messages, response_format=response_format,
                                                     **(request or REQUEST)).choices[0].message
            if refusal and message.refusal:
                raise ExtractionError(f"the model refused: {message.refusal}", replies)
            replies.append(message.content or "")
            if not validate:
                return json.loads(replies[-1])
            try:
                return Invoice.model_validate_json(replies[-1])
            except ValidationError as err:
                if attempt == attempts - 1:
                    if not wrap:
                        raise
                    raise ExtractionError(f"no valid invoice after {attempts} attempts:\n{_describe(err)}",
                                          replies) from err
                messages = repair(messages, replies[-1], err)
    return extract


def _named(fn, name):
    fn.__name__ = name
    return fn


def response_format_for(model_class):
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", model_class.__name__).lower()
    return {"type": "json_schema",
            "json_schema": {"name": name, "strict": True, "schema": strict(model_class.model_json_schema())}}


REFERENCE = {
    "check_strict_schema": strict,
    "check_repair_messages": repair,
    "check_extract": _named(_extractor(), "extract"),
    "check_stretch_response_format_for": response_format_for,
}
ALSO_CORRECT = {
    "check_strict_schema": [strict_required_reversed],
    "check_extract": [_named(_extractor(make_strict=strict_required_reversed), "extract_required_reversed")],
    "check_stretch_response_format_for": [
        _named(lambda cls: {"json_schema": {"schema": strict_required_reversed(cls.model_json_schema()),
                                            "strict": True, "name": response_format_for(cls)["json_schema"]["name"]},
                            "type": "json_schema"}, "response_format_for_reordered")],
}


# -- strict_schema -----------------------------------------------------------------------

def _wrong_strict_root_only(schema):
    out = copy.deepcopy(schema)
    out["additionalProperties"] = False
    out["required"] = list(out.get("properties", {}))
    return out


def _wrong_strict_mutates(schema):
    def fix(s):
        if isinstance(s, dict):
            s.pop("default", None)
            if "properties" in s:
                s["additionalProperties"] = False
                s["required"] = list(s["properties"])
                for sub in s["properties"].values():
                    fix(sub)
            for sub in (s.get("$defs") or {}).values():
                fix(sub)
            fix(s.get("items"))
            for sub in s.get("anyOf") or []:
                fix(sub)
        return s
    return fix(schema)


def _wrong_strict_keeps_defaults(schema):
    def fix(s):
        if not isinstance(s, dict):
            return s
        out = dict(s)
        for key in ("properties", "$defs"):
            if key in out:
                out[key] = {n: fix(v) for n, v in out[key].items()}
        if "items" in out:
            out["items"] = fix(out["items"])
        if "anyOf" in out:
            out["anyOf"] = [fix(v) for v in out["anyOf"]]
        if "properties" in out:
            out["additionalProperties"] = False
            out["required"] = list(out["properties"])
        return out
    return fix(schema)


def _wrong_strict_blind_walk(schema):
    def fix(s):
        if isinstance(s, list):
            return [fix(v) for v in s]
        if not isinstance(s, dict):
            return s
        out = {k: fix(v) for k, v in s.items() if k != "default"}  # treats property names as keywords
        if "properties" in out:
            out["additionalProperties"] = False
            out["required"] = list(out["properties"])
        return out
    return fix(schema)


def _wrong_strict_drops_titles(schema):
    out = strict(schema)

    def strip(s):
        if isinstance(s, dict):
            s.pop("title", None)
            for key, value in s.items():
                if key in ("properties", "$defs"):
                    for sub in value.values():
                        strip(sub)
                else:
                    strip(value)
        elif isinstance(s, list):
            for value in s:
                strip(value)
    strip(out)
    return out


# -- repair_messages -------------------------------------------------------------------------

def _wrong_repair_str_error(messages, reply, error):
    return list(messages) + [{"role": "assistant", "content": reply},
                             {"role": "user", "content": REPAIR_PROMPT.format(errors=str(error))}]


def _wrong_repair_no_reply(messages, reply, error):
    return list(messages) + [{"role": "user", "content": REPAIR_PROMPT.format(errors=_describe(error))},
                             {"role": "user", "content": "Thanks."}]


def _wrong_repair_first_error(messages, reply, error):
    e = error.errors()[0]
    line = f"- {'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
    return list(messages) + [{"role": "assistant", "content": reply},
                             {"role": "user", "content": REPAIR_PROMPT.format(errors=line)}]


def _wrong_repair_field_only(messages, reply, error):
    lines = "\n".join(f"- {e['loc'][0] if e['loc'] else '(root)'}: {e['msg']}" for e in error.errors())
    return list(messages) + [{"role": "assistant", "content": reply},
                             {"role": "user", "content": REPAIR_PROMPT.format(errors=lines)}]


def _wrong_repair_mutates(messages, reply, error):
    messages += [{"role": "assistant", "content": reply},
                 {"role": "user", "content": REPAIR_PROMPT.format(errors=_describe(error))}]
    return messages


# -- extract -------------------------------------------------------------------------------------

def _wrong_extract_retry_same(client, model, text, strict=False):
    return _extractor(repair=lambda messages, reply, err: messages)(client, model, text, strict)


def _wrong_extract_returns_none(client, model, text, strict=False):
    try:
        return _extractor()(client, model, text, strict)
    except ExtractionError:
        return None


# -- response_format_for ---------------------------------------------------------------------------

def _wrong_format_not_strict(model_class):
    out = response_format_for(model_class)
    out["json_schema"]["schema"] = model_class.model_json_schema()
    return out


def _wrong_format_class_name(model_class):
    out = response_format_for(model_class)
    out["json_schema"]["name"] = model_class.__name__
    return out


def _wrong_format_always_invoice(model_class):
    return response_format_for(Invoice)


def _wrong_format_no_strict_flag(model_class):
    out = response_format_for(model_class)
    del out["json_schema"]["strict"]
    return out


def _wrong_format_json_mode(model_class):
    return {"type": "json_object"}


WRONG = {
    "check_strict_schema": [_wrong_strict_root_only, _wrong_strict_mutates, _wrong_strict_keeps_defaults,
                            _wrong_strict_blind_walk, _wrong_strict_drops_titles],
    "check_repair_messages": [_wrong_repair_str_error, _wrong_repair_no_reply, _wrong_repair_first_error,
                              _wrong_repair_field_only, _wrong_repair_mutates],
    "check_extract": [
        _named(_extractor(attempts=1), "_wrong_extract_no_repair"),
        _named(_extractor(attempts=3), "_wrong_extract_two_repairs"),
        _named(_extractor(validate=False), "_wrong_extract_json_loads_only"),
        _named(_extractor(wrap=False), "_wrong_extract_leaks_validation_error"),
        _named(_extractor(fmt=JSON_OBJECT), "_wrong_extract_ignores_strict"),
        _named(_extractor(refusal=False), "_wrong_extract_repairs_refusal"),
        _named(_extractor(make_strict=lambda schema: schema), "_wrong_extract_schema_not_strict"),
        _named(_extractor(request=GPT4_ERA_REQUEST), "_wrong_extract_gpt4_era_request"),
        _named(_extractor(request={"temperature": 0, "max_completion_tokens": 250}),
               "_wrong_extract_temperature_without_reasoning_off"),
        _wrong_extract_retry_same,
        _wrong_extract_returns_none,
    ],
    "check_stretch_response_format_for": [_wrong_format_not_strict, _wrong_format_class_name,
                                          _wrong_format_always_invoice, _wrong_format_no_strict_flag,
                                          _wrong_format_json_mode],
}
