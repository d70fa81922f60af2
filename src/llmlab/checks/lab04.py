"""Checks for lab04_structured_extraction: a strict schema, pydantic validation
and exactly one repair request, then a clear failure.

    from llmlab.checks import lab04
    from llmlab.checks.lab04 import SYSTEM_PROMPT, REPAIR_PROMPT
    lab04.check_strict_schema(strict_schema)
    lab04.check_repair_messages(repair_messages)
    lab04.check_extract(extract, lab.client, lab.models.chat, strict=STRICT)
    lab04.check_stretch_response_format_for(response_format_for)   # optional
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from . import Case, FakeChatClient, Report, expect, run_cases

SYSTEM_PROMPT = (
    "You extract invoices. Reply with one JSON object with exactly these keys: invoice_number (string), "
    "vendor_name (string), invoice_date (YYYY-MM-DD), currency (EUR, USD or GBP), line_items (a list of "
    "objects with description, quantity and unit_price), total_amount (number), po_number (string or null). "
    "Use null when a field is missing."
)
REPAIR_PROMPT = "Your reply did not pass validation:\n{errors}\nReply again with the corrected JSON object only."
# GPT-6 chat models take temperature only with reasoning off, and max_completion_tokens, not max_tokens.
REQUEST = {"temperature": 0, "max_completion_tokens": 250, "reasoning_effort": "none"}


# -- the contract (the notebook defines the same two models) --------------------------

class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str
    quantity: int
    unit_price: float


class Invoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invoice_number: str = Field(pattern=r"^INV-[0-9]{4}-[0-9]{4}$")
    vendor_name: str
    invoice_date: dt.date
    currency: Literal["EUR", "USD", "GBP"]
    line_items: list[LineItem] = Field(max_length=2)  # the supplier's invoice form has two item rows
    total_amount: float
    po_number: str | None = Field(default=None, pattern=r"^PO-[0-9]+$")

    @model_validator(mode="after")
    def totals_add_up(self) -> Invoice:
        items = round(sum(item.quantity * item.unit_price for item in self.line_items), 2)
        if abs(items - self.total_amount) > 0.01:
            raise ValueError(f"line items add up to {items:.2f} but total_amount is {self.total_amount:.2f}")
        return self


class ExtractionError(ValueError):
    """No valid invoice after the repair (or a refusal); `replies` holds every raw reply."""

    def __init__(self, message: str, replies: list[str]):
        super().__init__(message)
        self.replies = replies


# -- strict_schema ----------------------------------------------------------------------

# What strict mode needs for Invoice.model_json_schema(): every object closed, every property
# required, no defaults. tests/test_labs.py keeps it equal to the reference's output, list
# order included, because this exact text is what a recorded strict request carried.
INVOICE_STRICT = {
    "title": "Invoice", "type": "object", "additionalProperties": False,
    "properties": {
        "invoice_number": {"pattern": "^INV-[0-9]{4}-[0-9]{4}$", "title": "Invoice Number", "type": "string"},
        "vendor_name": {"title": "Vendor Name", "type": "string"},
        "invoice_date": {"format": "date", "title": "Invoice Date", "type": "string"},
        "currency": {"enum": ["EUR", "USD", "GBP"], "title": "Currency", "type": "string"},
        "line_items": {"items": {"$ref": "#/$defs/LineItem"}, "maxItems": 2, "title": "Line Items",
                       "type": "array"},
        "total_amount": {"title": "Total Amount", "type": "number"},
        "po_number": {"anyOf": [{"pattern": "^PO-[0-9]+$", "type": "string"}, {"type": "null"}],
                      "title": "Po Number"},
    },
    "required": ["invoice_number", "vendor_name", "invoice_date", "currency", "line_items", "total_amount",
                 "po_number"],
    "$defs": {
        "LineItem": {
            "title": "LineItem", "type": "object", "additionalProperties": False,
            "properties": {"description": {"title": "Description", "type": "string"},
                           "quantity": {"title": "Quantity", "type": "integer"},
                           "unit_price": {"title": "Unit Price", "type": "number"}},
            "required": ["description", "quantity", "unit_price"],
        },
    },
}

_NAMED = ("properties", "$defs", "definitions", "patternProperties")  # their keys are names, not keywords
_AS_SETS = ("required", "enum", "type", "anyOf", "oneOf", "allOf")   # lists whose order JSON Schema ignores


def _canonical(schema: Any) -> Any:
    """`schema` with every list that JSON Schema reads as a set put in a fixed order, so two
    schemas that accept the same documents compare equal (dicts ignore key order already)."""
    if isinstance(schema, list):
        return [_canonical(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _NAMED and isinstance(value, dict):
            out[key] = {name: _canonical(sub) for name, sub in value.items()}
        elif key in _AS_SETS and isinstance(value, list):
            out[key] = sorted((_canonical(item) for item in value), key=lambda v: json.dumps(v, sort_keys=True))
        else:
            out[key] = _canonical(value)
    return out


def same_schema(a: Any, b: Any) -> bool:
    """True when two JSON Schemas differ at most in key order and in the order of sets
    such as `required` or `enum`."""
    return _canonical(a) == _canonical(b)


def _objects(schema: Any, path: str = "$"):
    """Every object schema inside `schema`, with where it is."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            yield path, schema
        for key in _NAMED:  # name -> schema maps: every value is a schema
            for name, sub in (schema.get(key) or {}).items():
                yield from _objects(sub, f"{path}.{key}.{name}")
        if "items" in schema:
            yield from _objects(schema["items"], f"{path}.items")
        for i, sub in enumerate(schema.get("anyOf") or []):
            yield from _objects(sub, f"{path}.anyOf[{i}]")


def _defaults(schema: Any, path: str = "$"):
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "default":
                yield path
            elif key in ("properties", "$defs") and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _defaults(sub, f"{path}.{key}.{name}")
            else:
                yield from _defaults(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for i, sub in enumerate(schema):
            yield from _defaults(sub, f"{path}[{i}]")


def _call_strict(fn, schema: dict) -> dict:
    before = copy.deepcopy(schema)
    out = fn(schema)
    expect(isinstance(out, dict), f"return the schema as a dict, not {type(out).__name__}")
    expect(schema == before, "do not change the schema you were given: build and return a new one")
    return out


def _expect_strict(out: dict, where: str) -> None:
    for path, obj in _objects(out):
        props = list(obj.get("properties", {}))
        expect(obj.get("additionalProperties") is False,
               f"{where}: the object at {path} needs additionalProperties: false")
        expect(sorted(obj.get("required", [])) == sorted(props),
               f"{where}: the object at {path} must list every property in required "
               f"(it has {obj.get('required', [])}, properties {props})")
    left = list(_defaults(out))
    expect(not left, f"{where}: strict mode has no defaults: drop the 'default' keys (left at {left})")


FLAT: dict[str, Any] = {
    "title": "Contact", "type": "object",
    "properties": {"name": {"type": "string", "title": "Name"},
                   "email": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Email"}},
    "required": ["name"],
}
NESTED = {
    "title": "Order", "type": "object",
    "properties": {"order_id": {"type": "string"},
                   "customer": {"$ref": "#/$defs/Customer"},
                   "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
    "required": ["order_id", "customer", "items"],
    "$defs": {
        "Customer": {"type": "object", "properties": {"name": {"type": "string"},
                                                      "vip": {"type": "boolean", "default": False}},
                     "required": ["name"]},
        "Item": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                 "required": ["sku", "qty"], "additionalProperties": False},
    },
}
INLINE = {
    "type": "object",
    "properties": {
        "tags": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"},
                                                                             "value": {"type": "string"}}}},
        "shipping": {"anyOf": [{"type": "object", "properties": {"city": {"type": "string"}}}, {"type": "null"}],
                     "default": None},
    },
}


def _flat(fn):
    out = _call_strict(fn, FLAT)
    _expect_strict(out, "a flat object with an optional field")
    expect(out["properties"]["email"]["anyOf"] == FLAT["properties"]["email"]["anyOf"],
           "keep each property's type as it is: 'string or null' is how strict mode says optional")
    expect(out.get("title") == "Contact" and out["properties"]["name"] == FLAT["properties"]["name"],
           "keep every other keyword (type, title, ...) unchanged")


def _nested(fn):
    out = _call_strict(fn, NESTED)
    _expect_strict(out, "a pydantic-style schema with $defs")
    expect(set(out.get("$defs", {})) == {"Customer", "Item"}, "keep every entry of $defs")
    expect(out["properties"]["customer"] == {"$ref": "#/$defs/Customer"}, "leave $ref pointers as they are")


def _inline(fn):
    out = _call_strict(fn, INLINE)
    _expect_strict(out, "objects inside array items and inside anyOf")


def _property_names(fn):
    schema = {"type": "object", "properties": {"default": {"type": "string"}, "properties": {"type": "string"}},
              "required": []}
    out = _call_strict(fn, schema)
    expect(set(out.get("properties", {})) == {"default", "properties"},
           "a property may be called 'default' or 'properties': inside 'properties' the keys are names, "
           "not keywords, so keep them")
    _expect_strict(out, "properties named like keywords")


def _invoice(fn):
    schema = Invoice.model_json_schema()
    expect("po_number" not in schema["required"], "internal: the fixture no longer has an optional field")
    out = _call_strict(fn, schema)
    _expect_strict(out, "the Invoice schema")
    expect(same_schema(out, INVOICE_STRICT), "the Invoice schema came out different from what strict mode needs: "
                                             "change only additionalProperties, required and default")


def check_strict_schema(fn, quiet: bool = False) -> Report:
    return run_cases("strict_schema", fn, [
        Case("flat object: required and no extras", _flat),
        Case("$defs are made strict too", _nested),
        Case("objects in items and anyOf", _inline),
        Case("property names are not keywords", _property_names),
        Case("the Invoice schema", _invoice),
    ], quiet)


# -- repair_messages --------------------------------------------------------------------

INVOICE_TEXT = """INVOICE INV-2025-0042
Vendor: Harbour Coffee Roasters
Date: 2025-02-14
PO: PO-7781
description | quantity | unit_price
Espresso beans 1 kg | 3 | 24.00
Paper filters (box) | 2 | 4.50
Total due: EUR 81.00"""
VALID = {
    "invoice_number": "INV-2025-0042", "vendor_name": "Harbour Coffee Roasters", "invoice_date": "2025-02-14",
    "currency": "EUR",
    "line_items": [{"description": "Espresso beans 1 kg", "quantity": 3, "unit_price": 24.0},
                   {"description": "Paper filters (box)", "quantity": 2, "unit_price": 4.5}],
    "total_amount": 81.0, "po_number": "PO-7781",
}
MESSAGES = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": INVOICE_TEXT}]


def _variant(**changes: Any) -> str:
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data)


_DROP = object()
BAD_FIELDS = _variant(currency="euro", vat_rate=0.21)                            # enum + extra key
BAD_NESTED = _variant(line_items=[{"description": "Espresso beans 1 kg", "quantity": "three", "unit_price": 24.0},
                                  {"description": "Paper filters (box)", "quantity": 2, "unit_price": 4.5}],
                      total_amount=81.0)                                         # error inside a list
BAD_TOTAL = _variant(total_amount=91.0)                                          # business rule, at the root
CUT_OFF = json.dumps(VALID)[:120]                                                # finish_reason "length"
GOOD = json.dumps(VALID)


# How the repair request writes each error location the fixtures above produce (pydantic
# supplies the messages; their order is pydantic's, so it is not stored).
LOCATIONS = {("currency",): "currency", ("vat_rate",): "vat_rate",
             ("line_items", 0, "quantity"): "line_items.0.quantity", (): "(root)"}


def _correction(raw: str) -> str:
    """The correction request expected after the reply `raw` (one of the fixtures above)."""
    errors = _error_for(raw).errors()
    expect(all(tuple(e["loc"]) in LOCATIONS for e in errors), "internal: pydantic reports an error the check "
                                                               "does not know")
    lines = [f"- {LOCATIONS[tuple(e['loc'])]}: {e['msg']}" for e in errors]
    return REPAIR_PROMPT.format(errors="\n".join(lines))


def _error_for(raw: str) -> ValidationError:
    try:
        Invoice.model_validate_json(raw)
    except ValidationError as err:
        return err
    raise AssertionError("internal: this fixture validates")


def _call_repair(fn, messages, reply, error):
    messages = copy.deepcopy(messages)
    before = copy.deepcopy(messages)
    out = fn(messages, reply, error)
    expect(messages == before, "do not change the messages you were given: return a new list")
    expect(isinstance(out, list), f"return the new message list, not {type(out).__name__}")
    return out


def _repair_shape(fn):
    error = _error_for(BAD_FIELDS)
    out = _call_repair(fn, MESSAGES, BAD_FIELDS, error)
    expect(len(out) == len(MESSAGES) + 2 and out[:len(MESSAGES)] == MESSAGES,
           f"return the messages you were given plus two more (you returned {len(out)} messages)")
    expect(out[-2] == {"role": "assistant", "content": BAD_FIELDS},
           "first append the model's own reply, verbatim, as {'role': 'assistant', 'content': reply}: the model "
           "has to see what it wrote to correct it")
    expect(out[-1].get("role") == "user" and set(out[-1]) == {"role", "content"},
           "then append the correction request as a user message {'role': 'user', 'content': ...}")


def _repair_names_errors(fn):
    error = _error_for(BAD_FIELDS)
    content = _call_repair(fn, MESSAGES, BAD_FIELDS, error)[-1]["content"]
    for e in error.errors():
        expect(e["loc"][0] in content and e["msg"] in content,
               f"the correction request must name every error: {e['loc'][0]!r} ({e['msg']}) is missing")
    expect("https://" not in content, "send the errors as '- field: message' lines, not str(error) (it adds "
                                      "documentation links and input values the model does not need)")


def _repair_exact(fn):
    for raw in (BAD_FIELDS, BAD_NESTED, BAD_TOTAL, CUT_OFF):
        error = _error_for(raw)
        got = _call_repair(fn, MESSAGES, raw, error)[-1]["content"]
        want = _correction(raw)
        first = next((line for line in want.splitlines() if line not in got.splitlines()), None)
        expect(got == want, "use REPAIR_PROMPT.format(errors=...) with one line per error, "
                            "'- <loc joined by dots>: <msg>' and '(root)' for an empty loc"
                            + (f"; expected the line {first!r}" if first else ""))


def check_repair_messages(fn, quiet: bool = False) -> Report:
    return run_cases("repair_messages", fn, [
        Case("the model's reply, then the correction", _repair_shape),
        Case("every validation error is named", _repair_names_errors),
        Case("exact format: nested paths and root errors", _repair_exact),
    ], quiet)


# -- extract ----------------------------------------------------------------------------

def _completion(content: str | None, finish: str = "stop", refusal: str | None = None) -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate({
        "id": "chatcmpl-lab04", "object": "chat.completion", "created": 1767225600, "model": "fake-model",
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": content, "refusal": refusal}}],
        "usage": {"prompt_tokens": 180, "completion_tokens": 90, "total_tokens": 270},
    })


def _fake_client(prepared: Sequence[Any] = (), inner: Any = None) -> FakeChatClient:
    return FakeChatClient(
        prepared, inner, prepare=_as_recorded,
        too_many="request {n} was not expected: after the first reply and ONE repair request, give up "
                 "(raise ExtractionError)",
        limit=2, over_limit="a third request: the first reply plus ONE repair is the limit",
        miss_hint="a request differs from the recorded one: send model, the messages (SYSTEM_PROMPT, the text, then "
                  "repair_messages(...) for the repair), response_format, temperature=0, reasoning_effort='none' and "
                  "max_completion_tokens=250, nothing else")


JSON_OBJECT = {"type": "json_object"}


def _strict_format() -> dict:
    return {"type": "json_schema", "json_schema": {"name": "invoice", "strict": True,
                                                   "schema": copy.deepcopy(INVOICE_STRICT)}}


def _same_format(got: Any, want: dict) -> bool:
    """response_format equality, with the schema compared by meaning."""
    if not isinstance(got, dict) or want.get("type") != "json_schema":
        return got == want
    spec, wanted = got.get("json_schema") or {}, want["json_schema"]
    return ({k: v for k, v in got.items() if k != "json_schema"} == {"type": "json_schema"}
            and {k: v for k, v in spec.items() if k != "schema"} == {k: v for k, v in wanted.items() if k != "schema"}
            and same_schema(spec.get("schema"), wanted["schema"]))


def _as_recorded(request: dict) -> dict:
    """A strict request whose schema means the same as the recorded one is sent in the recorded
    spelling, so a `required` list in another order still finds its response."""
    if _same_format(request.get("response_format"), _strict_format()):
        request["response_format"] = _strict_format()
    return request


def _run(fn, replies, strict=False, text=INVOICE_TEXT, model="fake-model"):
    client = _fake_client([r if not isinstance(r, str) else _completion(r) for r in replies])
    try:
        result = fn(client, model, text, strict=strict) if strict else fn(client, model, text)
    except Exception as exc:
        if type(exc).__name__ != "ExtractionError":
            raise
        raise AssertionError(f"you raised ExtractionError after {len(client.requests)} request(s), but a valid "
                             f"reply was on its way: an invalid first reply gets one repair request ({exc})") from None
    return client, result


def _expect_invoice(result: Any) -> None:
    expect(isinstance(result, BaseModel), f"return the validated pydantic object (an Invoice), not "
                                          f"{type(result).__name__}")
    expect(result.model_dump(mode="json") == VALID, "return the invoice validated from the reply "
                                                    "(Invoice.model_validate_json(content))")


def _expect_extraction_error(fn, replies, strict=False) -> tuple[FakeChatClient, Exception]:
    client = _fake_client([r if not isinstance(r, str) else _completion(r) for r in replies])
    try:
        result = fn(client, "fake-model", INVOICE_TEXT, strict=strict) if strict else fn(client, "fake-model",
                                                                                         INVOICE_TEXT)
    except ValidationError:
        raise AssertionError("catch the ValidationError and raise ExtractionError(message, replies) from it: "
                             "callers should not need to know pydantic's exceptions") from None
    except (AssertionError, NotImplementedError):
        raise
    except Exception as exc:  # noqa: BLE001 - inspected below
        expect(type(exc).__name__ == "ExtractionError",
               f"give up with ExtractionError, not {type(exc).__name__}")
        return client, exc
    raise AssertionError(f"no valid invoice could be extracted, yet you returned {type(result).__name__}: "
                         "raise ExtractionError so the caller cannot mistake a failure for data")


def _valid_first(fn):
    client, result = _run(fn, [GOOD], model="fake-model")
    expect(len(client.requests) == 1, f"a valid first reply needs one request, you made {len(client.requests)}")
    sent = client.requests[0]
    expect(sent.get("model") == "fake-model", "send the model you were given")
    expect(sent.get("messages") == MESSAGES,
           "send [{'role': 'system', 'content': SYSTEM_PROMPT}, {'role': 'user', 'content': text}]")
    expect(sent.get("response_format") == JSON_OBJECT,
           "without strict mode ask for JSON mode: response_format={'type': 'json_object'}")
    extra = {k: v for k, v in sent.items() if k not in ("model", "messages", "response_format")}
    expect("max_tokens" not in extra, "max_tokens is deprecated (the SDK says so) and reasoning models take "
                                      "max_completion_tokens: cap the reply with max_completion_tokens=250")
    expect(extra == REQUEST, "besides model, messages and response_format send exactly temperature=0, "
                             "reasoning_effort='none' (GPT-6 models take temperature only with reasoning off) and "
                             f"max_completion_tokens=250 (you sent {extra})")
    _expect_invoice(result)


def _strict(fn):
    client, result = _run(fn, [GOOD], strict=True)
    fmt = client.requests[0].get("response_format") or {}
    expect(fmt.get("type") == "json_schema", "with strict=True send response_format={'type': 'json_schema', ...}")
    spec = fmt.get("json_schema") or {}
    expect(spec.get("name") == "invoice" and spec.get("strict") is True,
           "the json_schema part needs 'name': 'invoice' and 'strict': True")
    expect(same_schema(spec.get("schema"), INVOICE_STRICT),
           "the schema is strict_schema(Invoice.model_json_schema()): pydantic leaves po_number out of "
           "required, which strict mode rejects")
    _expect_invoice(result)


def _repair_then_valid(fn):
    client, result = _run(fn, [BAD_FIELDS, GOOD])
    expect(len(client.requests) == 2, f"an invalid reply gets exactly one repair request (you made "
                                      f"{len(client.requests)} requests)")
    second = client.requests[1]
    got = second.get("messages") or []
    expect(len(got) == 4 and got[2] == {"role": "assistant", "content": BAD_FIELDS},
           "the repair request is repair_messages(messages, reply, error): the first messages, the model's "
           "reply, then the correction")
    expect(got[3] == {"role": "user", "content": _correction(BAD_FIELDS)},
           "the repair request must carry the validation errors of the first reply, formatted by repair_messages")
    expect({k: v for k, v in second.items() if k != "messages"} == {k: v for k, v in client.requests[0].items()
                                                                    if k != "messages"},
           "the repair request keeps model, response_format, temperature, reasoning_effort and "
           "max_completion_tokens")
    _expect_invoice(result)


def _repair_cut_off(fn):
    client, result = _run(fn, [_completion(CUT_OFF, finish="length"), GOOD])
    expect(len(client.requests) == 2, "a reply cut off by max_completion_tokens is invalid JSON: repair it like any "
                                      "other")
    content = client.requests[1]["messages"][-1]["content"]
    expect("Invalid JSON" in content, "validate the raw text with Invoice.model_validate_json: broken JSON then "
                                      "becomes a ValidationError (json_invalid) like every other problem")
    _expect_invoice(result)


def _repair_business_rule(fn):
    client, result = _run(fn, [BAD_TOTAL, GOOD])
    expect(len(client.requests) == 2, "a reply whose line items do not add up fails validation: repair it")
    expect("line items add up to 81.00" in client.requests[1]["messages"][-1]["content"],
           "the correction must carry the model validator's message too (a root error)")
    _expect_invoice(result)


def _gives_up(fn):
    client, exc = _expect_extraction_error(fn, [BAD_FIELDS, BAD_NESTED])
    expect(len(client.requests) == 2, f"give up after the one repair: 2 requests, you made {len(client.requests)}")
    expect(getattr(exc, "replies", None) == [BAD_FIELDS, BAD_NESTED],
           "ExtractionError(message, replies): replies is the list of both raw replies, in order")
    expect(isinstance(exc.__cause__, ValidationError),
           "raise ExtractionError(...) from the last ValidationError, so the traceback keeps the details")
    expect("line_items.0.quantity" in str(exc),
           "the message must say what was still wrong in the last reply (its errors, as in the repair request)")


def _refusal(fn):
    refused = _completion(None, refusal="I can't help with extracting this document.")
    client, exc = _expect_extraction_error(fn, [refused, GOOD], strict=True)
    expect(len(client.requests) == 1, "a refusal (message.refusal is set) is not a format problem: raise "
                                      "ExtractionError at once, without a repair request")
    expect("I can't help" in str(exc), "put the refusal text in the ExtractionError message")


def _live(client, model, strict):
    def run(fn):
        spy = _fake_client(inner=client)
        try:
            result = fn(spy, model, INVOICE_TEXT, strict=strict) if strict else fn(spy, model, INVOICE_TEXT)
        except (AssertionError, NotImplementedError):
            raise
        except Exception as exc:  # noqa: BLE001 - the tiny local model may well fail twice
            expect(type(exc).__name__ == "ExtractionError",
                   f"the real extraction ended in {type(exc).__name__}: {exc}")
            expect(len(spy.requests) == 2, "the real extraction gave up without its one repair request")
            texts = [r.choices[0].message.content for r in spy.responses]
            expect(getattr(exc, "replies", None) == texts, "ExtractionError.replies holds the real raw replies")
            result = None
        expect(spy.requests[0].get("messages") == MESSAGES, "the first real request sends SYSTEM_PROMPT and the text")
        fmt = _strict_format() if strict else JSON_OBJECT
        expect(_same_format(spy.requests[0].get("response_format"), fmt),
               "response_format does not match strict=" + str(strict))
        if len(spy.requests) == 2:
            first = spy.responses[0].choices[0].message.content
            sent = spy.requests[1].get("messages") or []
            correction = sent[-1].get("content", "") if sent else ""
            expect(sent[:-1] == MESSAGES + [{"role": "assistant", "content": first}]
                   and all(e["msg"] in correction for e in _error_for(first).errors()),
                   "the real repair request must carry the first reply and its validation errors")
        if result is not None:
            expect(isinstance(result, BaseModel), "a successful real extraction returns the validated invoice")
    return run


def check_extract(fn, client: Any = None, model: str | None = None, strict: bool = False,
                  quiet: bool = False) -> Report:
    """With `client` (lab.client) and `model`, one more case runs a real extraction (replayed)."""
    cases = [
        Case("valid first time: one request", _valid_first),
        Case("strict mode sends the strict schema", _strict),
        Case("invalid, repaired, valid", _repair_then_valid),
        Case("cut-off JSON is repaired", _repair_cut_off),
        Case("a business rule error is repaired", _repair_business_rule),
        Case("invalid twice: ExtractionError", _gives_up),
        Case("a refusal is not repaired", _refusal),
    ]
    if client is not None:
        cases.append(Case("one real extraction through the API", _live(client, model, strict)))
    return run_cases("extract", fn, cases, quiet)


# -- optional stretch: a response_format for any model class -----------------------------------

class Address(BaseModel):
    street: str
    city: str
    postcode: str | None = None


class ShippingLabel(BaseModel):
    order_id: str
    recipient: str
    address: Address
    express: bool = False
    notes: list[str] = []


def _format_for(fn, model_class: type[BaseModel]) -> dict:
    out = fn(model_class)
    expect(isinstance(out, dict) and out.get("type") == "json_schema" and set(out) == {"type", "json_schema"},
           f"return {{'type': 'json_schema', 'json_schema': {{...}}}}, not {out!r:.80}")
    spec = out["json_schema"]
    keys = sorted(spec) if isinstance(spec, dict) else spec
    expect(isinstance(spec, dict) and set(spec) == {"name", "strict", "schema"},
           f"json_schema holds exactly name, strict and schema (you sent {keys})")
    expect(spec["strict"] is True, "ask for strict mode: 'strict': True")
    return spec


def _rf_invoice(fn):
    spec = _format_for(fn, Invoice)
    expect(spec["name"] == "invoice", f"for Invoice the name is 'invoice', as in Task 3 (you sent {spec['name']!r})")
    expect(same_schema(spec["schema"], INVOICE_STRICT), "the schema is strict_schema(model_class.model_json_schema())")


def _rf_any_class(fn):
    spec = _format_for(fn, ShippingLabel)
    name = spec["name"]
    expect(isinstance(name, str) and name.replace("_", "") == "shippinglabel" and name == name.lower(),
           f"derive the name from the class: ShippingLabel becomes 'shipping_label' (you sent {name!r}); the API "
           "allows letters, digits, _ and -, and lower case reads best in logs")
    schema = spec["schema"]
    expect(set(schema.get("properties", {})) == set(ShippingLabel.model_fields),
           "the schema is the one of the class you were given, not Invoice's")
    _expect_strict(schema, "ShippingLabel")
    expect(set(schema.get("$defs", {})) == {"Address"}, "keep the nested model's $defs entry")


def check_stretch_response_format_for(fn, quiet: bool = False) -> Report:
    """Optional: response_format_for(model_class) builds the strict response_format for any pydantic class."""
    return run_cases("response_format_for (optional)", fn, [
        Case("the Invoice format of Task 3", _rf_invoice),
        Case("any class: its name and its strict schema", _rf_any_class),
    ], quiet)
