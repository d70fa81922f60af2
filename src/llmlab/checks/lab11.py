"""Checks for lab11_batch_jsonl: build a Batch API input file, validate one
line by line, and match the output and error files back to the requests.

    from llmlab.checks import lab11
    lab11.check_build_batch_lines(build_batch_lines)
    lab11.check_validate_jsonl(validate_jsonl)
    lab11.check_match_results(match_results)

The output and error lines below follow OpenAI's batch request-output object:
{"id": "batch_req_...", "custom_id": ..., "response": {"status_code", "request_id", "body"} or null,
"error": {"code", "message"} or null}; success bodies are chat.completion objects and
HTTP failures carry the API's usual {"error": {...}} body.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from . import Case, Report, expect, run_cases

# The endpoints a batch may target (OpenAI API reference, CreateBatchRequest.endpoint).
BATCH_ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
                   "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos")
CHAT = "/v1/chat/completions"
MODEL = "gpt-4.1-mini"
SYSTEM = "You triage support tickets. Reply with exactly one label: billing, bug, feature_request or account."
TICKETS = {
    "ticket-001": "My invoice shows the October charge twice.",
    "ticket-002": "The app crashes whenever I upload a photo larger than 10 MB.",
    "ticket-003": "Could you add a dark mode to the dashboard?",
    "ticket-004": "How do I change the email address on my account?",
    "ticket-005": "I cancelled my subscription but was charged again this month.",
    "ticket-006": "Wo finde ich meine Rechnung für November?",
}


def chat_body(text: str, model: str = MODEL) -> dict:
    return {"model": model, "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}],
            "temperature": 0, "max_tokens": 5}


REQUESTS = [(cid, chat_body(text)) for cid, text in TICKETS.items()]

# -- reference behaviour ------------------------------------------------------------


def _build(requests, endpoint=CHAT):
    if endpoint not in BATCH_ENDPOINTS:
        raise ValueError(f"{endpoint!r} is not a batch endpoint")
    if not requests:
        raise ValueError("a batch needs at least one request")
    seen, lines = set(), []
    for custom_id, body in requests:
        if not isinstance(custom_id, str) or not custom_id:
            raise ValueError(f"custom_id must be a non-empty string, not {custom_id!r}")
        if custom_id in seen:
            raise ValueError(f"duplicate custom_id {custom_id!r}")
        if not isinstance(body, dict) or not body.get("model"):
            raise ValueError(f"{custom_id}: the body names no model")
        seen.add(custom_id)
        lines.append(json.dumps({"custom_id": custom_id, "method": "POST", "url": endpoint, "body": body},
                                ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _validate(text, endpoint=CHAT):
    problems, seen = [], set()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            problems.append((number, "bad_json"))
            continue
        custom_id = record.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            problems.append((number, "missing_custom_id"))
        elif custom_id in seen:
            problems.append((number, "duplicate_custom_id"))
        else:
            seen.add(custom_id)
        if record.get("method") != "POST":
            problems.append((number, "wrong_method"))
        if record.get("url") != endpoint:
            problems.append((number, "wrong_url"))
        body = record.get("body")
        if not isinstance(body, dict) or not isinstance(body.get("model"), str) or not body["model"]:
            problems.append((number, "missing_model"))
    return problems


def _outcome(record: dict) -> dict:
    response, error = record.get("response"), record.get("error")
    if error:
        return {"status": "error", "status_code": None, "body": None,
                "error": {"code": error.get("code"), "message": error.get("message")}}
    if response and response.get("status_code") == 200:
        return {"status": "ok", "status_code": 200, "body": response.get("body"), "error": None}
    body_error = ((response or {}).get("body") or {}).get("error") or {}
    return {"status": "error", "status_code": (response or {}).get("status_code"), "body": None,
            "error": {"code": body_error.get("code"), "message": body_error.get("message")}}


def _match(output_jsonl, error_jsonl, requests):
    wanted = [custom_id for custom_id, _ in requests]
    found = {}
    for text in (output_jsonl, error_jsonl):
        for raw in (text or "").splitlines():
            if not raw.strip():
                continue
            record = json.loads(raw)
            if record["custom_id"] not in wanted:
                raise ValueError(f"result for {record['custom_id']!r}, which is not in the requests")
            found[record["custom_id"]] = _outcome(record)
    missing = {"status": "missing", "status_code": None, "body": None, "error": None}
    return {custom_id: found.get(custom_id, dict(missing)) for custom_id in wanted}


# -- check_build_batch_lines -----------------------------------------------------------

def _built(fn, requests, endpoint=CHAT) -> str:
    before = copy.deepcopy(requests)
    text = fn(requests, endpoint)
    expect(isinstance(text, str), f"return the file's text (a str), not {type(text).__name__}")
    expect(requests == before, "do not change the requests or their bodies")
    return text


def _one_object_per_line(fn):
    text = _built(fn, REQUESTS)
    lines = text.splitlines()
    expect(len(lines) == len(REQUESTS),
           f"{len(REQUESTS)} requests make {len(REQUESTS)} lines, you wrote {len(lines)}: one compact JSON object per "
           "line (json.dumps without indent)")
    expect(text.endswith("\n") and not text.endswith("\n\n"), "end the file with a single newline")
    for number, raw in enumerate(lines, start=1):
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            raise AssertionError(f"line {number} is not JSON on its own: {raw[:60]!r}") from None
        expect(isinstance(record, dict) and set(record) == {"custom_id", "method", "url", "body"},
               f"line {number}: each line is an object with exactly custom_id, method, url and body")


def _fields(fn):
    records = [json.loads(line) for line in _built(fn, REQUESTS).splitlines()]
    for (custom_id, body), record in zip(REQUESTS, records):
        expect(record.get("custom_id") == custom_id, "keep the requests' order and their custom_id")
        expect(record.get("method") == "POST", "method is always 'POST'")
        expect(record.get("url") == CHAT, "url is the endpoint you were given")
        expect(record.get("body") == body, "body is the request body exactly as given")


def _newlines_and_unicode(fn):
    body = chat_body("Line one.\nLine two: café, 東京, emoji 🚀")
    text = _built(fn, [("multi-line", body)])
    expect(len(text.splitlines()) == 1,
           "a newline inside a message must stay escaped (\\n) in the JSON: one request, one line")
    expect(json.loads(text)["body"] == body, "the body must read back exactly, non-ASCII text included")


def _other_endpoint(fn):
    requests = [("emb-1", {"model": "text-embedding-3-small", "input": "refund policy"}),
                ("emb-2", {"model": "text-embedding-3-small", "input": "delivery times"})]
    records = [json.loads(line) for line in _built(fn, requests, "/v1/embeddings").splitlines()]
    expect([r.get("url") for r in records] == ["/v1/embeddings"] * 2, "use the endpoint argument as each line's url")


def _raises(fn, requests, endpoint, why: str) -> None:
    try:
        fn(requests, endpoint)
    except ValueError:
        return
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"{why}: raise ValueError (you raised {type(exc).__name__})") from None
    raise AssertionError(f"{why}: raise ValueError before anything is uploaded")


def _refuses(fn):
    _raises(fn, REQUESTS[:2] + [REQUESTS[0]], CHAT,
            "ticket-001 appears twice: results are matched by custom_id, so a duplicate makes one result ambiguous")
    _raises(fn, [("t-1", {"messages": [{"role": "user", "content": "hi"}]})], CHAT, "a body without a model")
    _raises(fn, [("", chat_body("hi"))], CHAT, "an empty custom_id")
    _raises(fn, REQUESTS, "/v1/chat/completion", "'/v1/chat/completion' is not a batch endpoint (see BATCH_ENDPOINTS)")
    _raises(fn, REQUESTS, "v1/chat/completions", "'v1/chat/completions' (no leading slash) is not a batch endpoint")
    _raises(fn, [], CHAT, "an empty batch")


def check_build_batch_lines(fn, quiet: bool = False) -> Report:
    cases = [
        Case("one JSON object per line", _one_object_per_line),
        Case("custom_id, method, url and body", _fields),
        Case("newlines and non-ASCII stay on one line", _newlines_and_unicode),
        Case("any batch endpoint", _other_endpoint),
        Case("refuses duplicates, missing models, bad endpoints", _refuses),
    ]
    return run_cases("build_batch_lines", fn, cases, quiet)


# -- check_validate_jsonl -------------------------------------------------------------

def _line(cid: str, **changes: Any) -> str:
    record = {"custom_id": cid, "method": "POST", "url": CHAT, "body": chat_body(TICKETS["ticket-001"])}
    for key, value in changes.items():
        if key == "model":
            if value is None:
                record["body"].pop("model")
            else:
                record["body"]["model"] = value
        elif value is None:
            record.pop(key)
        else:
            record[key] = value
    return json.dumps(record)


GOOD = "\n".join(_line(cid) for cid in ("a-1", "a-2", "a-3")) + "\n"
BAD = "\n".join([
    _line("b-1"),                                   # 1 fine
    _line("b-2", url="/v1/embeddings"),              # 2 wrong_url
    _line("b-1"),                                   # 3 duplicate
    _line("b-4")[:-1] + ",}",                       # 4 trailing comma: bad_json
    "",                                             # 5 blank line: skipped, but still line 5
    _line("b-6", model=None),                       # 6 missing_model
    _line("b-7", method="GET", url="/v1/chat/completions/"),  # 7 wrong_method, wrong_url
    '["not", "an", "object"]',                      # 8 bad_json
    _line("b-9", custom_id=None),                   # 9 missing_custom_id
    _line("b-10", body="not an object"),            # 10 missing_model
    _line("b-1", model=""),                         # 11 duplicate, missing_model
]) + "\n"


def _problems(fn, text, endpoint=CHAT):
    got = fn(text, endpoint)
    expect(isinstance(got, list), f"return a list of (line number, problem) pairs, not {type(got).__name__}")
    got = [tuple(p) for p in got]
    expect(all(len(p) == 2 and isinstance(p[0], int) and isinstance(p[1], str) for p in got),
           "each problem is a (line number, code) pair, e.g. (3, 'duplicate_custom_id')")
    expect([n for n, _ in got] == sorted(n for n, _ in got), "report the problems in line order")
    return got


def _clean_file(fn):
    got = _problems(fn, GOOD)
    expect(got == [], f"a valid file has no problems (you reported {got})")
    got = _problems(fn, _build(REQUESTS))
    expect(got == [], f"a file from build_batch_lines has no problems (you reported {got})")


def _compare(fn, text, expected, endpoint=CHAT):
    got = _problems(fn, text, endpoint)
    missing = [p for p in expected if p not in got]
    extra = [p for p in got if p not in expected]
    return got, missing, extra


def _each_kind(fn):
    expected = _validate(BAD)
    got, missing, extra = _compare(fn, BAD, expected)
    if not (missing or extra):
        return
    if sorted(c for _, c in got) == sorted(c for _, c in expected):
        raise AssertionError("the right problems on the wrong lines: number lines from 1, like an editor, and count "
                             f"blank lines too (expected {expected}, got {got})")
    first = min(missing + extra)
    hints = {
        "bad_json": "a line that is not JSON, or is JSON but not an object (a list), is 'bad_json', and nothing "
                    "else is reported for it",
        "duplicate_custom_id": "report 'duplicate_custom_id' on every repeat of an id, not on its first line",
        "missing_custom_id": "'missing_custom_id' when custom_id is absent, empty or not a string",
        "wrong_method": "method must be exactly 'POST', else 'wrong_method'",
        "wrong_url": "url must equal the endpoint exactly, else 'wrong_url'",
        "missing_model": "body must be an object whose model is a non-empty string, else 'missing_model'",
    }
    raise AssertionError(f"line {first[0]}: {hints.get(first[1], 'unknown problem code ' + repr(first[1]))} "
                         f"(missing {missing}, unexpected {extra})")


def _blank_lines(fn):
    text = "\n" + _line("c-1") + "\n\n" + _line("c-1") + "\n   \n"
    got = _problems(fn, text)
    expect(got == [(4, "duplicate_custom_id")],
           f"blank lines are skipped, but they still count: the repeat of c-1 is on line 4 (you reported {got}). "
           "Number the lines before you skip any")


def _endpoint_argument(fn):
    text = "\n".join([json.dumps({"custom_id": "e-1", "method": "POST", "url": "/v1/embeddings",
                                  "body": {"model": "text-embedding-3-small", "input": "hi"}}),
                      _line("e-2")]) + "\n"
    got = _problems(fn, text, "/v1/embeddings")
    expect(got == [(2, "wrong_url")], f"with endpoint='/v1/embeddings', only line 2 (a chat request) has the wrong "
                                      f"url (you reported {got})")


def _no_exceptions(fn):
    for text in ("{", "null", '"just a string"', "42", '{"custom_id": 7, "method": "POST"}'):
        got = _problems(fn, text + "\n")
        expect(got and got[0][0] == 1, f"{text!r} must be reported as a problem on line 1, not crash the validator")


def check_validate_jsonl(fn, quiet: bool = False) -> Report:
    cases = [
        Case("a valid file has no problems", _clean_file),
        Case("each problem, on its line", _each_kind),
        Case("blank lines skipped but counted", _blank_lines),
        Case("the url is checked against the endpoint", _endpoint_argument),
        Case("odd lines are problems, not crashes", _no_exceptions),
    ]
    return run_cases("validate_jsonl", fn, cases, quiet)


# -- check_match_results -------------------------------------------------------------

LABELS = {"ticket-001": "billing", "ticket-003": "feature_request", "ticket-004": "account"}


def _completion(custom_id: str, label: str, n: int) -> dict:
    return {
        "id": f"chatcmpl-BATCH{n:04d}", "object": "chat.completion", "created": 1795305661 + n,
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": label, "refusal": None, "annotations": []},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 41 + n, "completion_tokens": 2, "total_tokens": 43 + n},
        "service_tier": "default", "system_fingerprint": "fp_6f2eabb9a5",
    }


def _ok_line(custom_id: str, n: int) -> str:
    return json.dumps({"id": f"batch_req_6740c2{n}b7e1c8190a04f2d9e", "custom_id": custom_id,
                       "response": {"status_code": 200, "request_id": f"req_{n}c41f0a2d9e8b7", "body":
                                    _completion(custom_id, LABELS[custom_id], n)},
                       "error": None})


OUTPUT = "\n".join([_ok_line("ticket-003", 1), _ok_line("ticket-001", 2), _ok_line("ticket-004", 3)]) + "\n"
TOO_LONG = {"message": "This model's maximum context length is 128000 tokens. However, your messages resulted in "
                       "131204 tokens. Please reduce the length of the messages.",
            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}
EXPIRED = {"code": "batch_expired",
           "message": "This request could not be executed before the completion window expired."}
ERRORS = "\n".join([
    json.dumps({"id": "batch_req_6740c2fb7e1c8190a94f2d9e", "custom_id": "ticket-002",
                "response": {"status_code": 400, "request_id": "req_9d17c0e4b2a6f", "body": {"error": TOO_LONG}},
                "error": None}),
    json.dumps({"id": "batch_req_6740c30b7e1c8190aa4f2d9e", "custom_id": "ticket-005", "response": None,
                "error": EXPIRED}),
]) + "\n"
# ticket-006 has no line in either file.


def _matched(fn, output=OUTPUT, errors=ERRORS, requests=REQUESTS) -> dict:
    got = fn(output, errors, requests)
    expect(isinstance(got, dict), f"return a dict {{custom_id: result}}, not {type(got).__name__}")
    for custom_id, result in got.items():
        expect(isinstance(result, dict) and set(result) == {"status", "status_code", "body", "error"},
               f"{custom_id}: each result is a dict with exactly status, status_code, body and error")
    return got


def _by_custom_id(fn):
    got = _matched(fn)
    for custom_id, label in LABELS.items():
        result = got.get(custom_id)
        expect(result is not None, f"{custom_id} has a line in the output file but no result")
        expect(result["status"] == "ok" and result["status_code"] == 200,
               f"{custom_id} answered with status_code 200: its status is 'ok'")
        content = (result["body"] or {}).get("choices", [{}])[0].get("message", {}).get("content")
        expect(content == label,
               f"{custom_id} got the body of another request: the output file is in completion order, not input "
               "order. Match each line by its custom_id")
        expect(result["error"] is None, "a success has error None")


def _http_error(fn):
    result = _matched(fn).get("ticket-002")
    expect(result is not None and result["status"] == "error",
           "ticket-002 is in the error file with status_code 400: its status is 'error' (read the error file too)")
    expect(result["status_code"] == 400, "keep the HTTP status from response.status_code")
    expect(result["error"] == {"code": TOO_LONG["code"], "message": TOO_LONG["message"]},
           "for an HTTP error the code and message are in response.body.error; error is {'code': ..., 'message': ...}")
    expect(result["body"] is None, "a failed request has body None")


def _batch_error(fn):
    result = _matched(fn).get("ticket-005")
    expect(result is not None and result["status"] == "error", "ticket-005 expired: its status is 'error'")
    expect(result["status_code"] is None, "ticket-005 never ran: response is null, so status_code is None")
    expect(result["error"] == EXPIRED, "for a request that never ran, the line's own error object has the code and "
                                       "message (response is null)")


def _missing(fn):
    got = _matched(fn)
    expect(list(got) == [cid for cid, _ in REQUESTS],
           f"one entry per request, in the requests' order: {[cid for cid, _ in REQUESTS]} (you had {list(got)})")
    expect(got["ticket-006"] == {"status": "missing", "status_code": None, "body": None, "error": None},
           "ticket-006 is in neither file (a partial download, the files of a batch still running, a lost line): "
           "report it as status 'missing', the rest None, so it can be resubmitted")


def _no_error_file(fn):
    for errors in (None, ""):
        got = _matched(fn, OUTPUT + "\n", errors, [r for r in REQUESTS if r[0] in LABELS])
        expect(all(r["status"] == "ok" for r in got.values()),
               f"with error_jsonl={errors!r} (batch.error_file_id is None when nothing failed) and a trailing blank "
               "line, the three successes are still matched")


def _unknown(fn):
    try:
        fn(OUTPUT, ERRORS, REQUESTS[:4])
    except ValueError:
        return
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"a result for a custom_id you did not send should raise ValueError (you raised "
                             f"{type(exc).__name__})") from None
    raise AssertionError("ticket-005 has a result but is not among the requests: raise ValueError (you are probably "
                         "reading another batch's file)")


def check_match_results(fn, quiet: bool = False) -> Report:
    cases = [
        Case("successes matched by custom_id", _by_custom_id),
        Case("an HTTP error from the error file", _http_error),
        Case("a request that never ran", _batch_error),
        Case("missing requests reported, in request order", _missing),
        Case("no error file", _no_error_file),
        Case("a result nobody asked for is an error", _unknown),
    ]
    return run_cases("match_results", fn, cases, quiet)


# -- plausible wrong implementations (tests/test_labs.py makes sure the checks catch them) --

def _wrong_build_indented(requests, endpoint=CHAT):
    _build(requests, endpoint)
    return "\n".join(json.dumps({"custom_id": c, "method": "POST", "url": endpoint, "body": b}, indent=2)
                     for c, b in requests) + "\n"


def _wrong_build_no_checks(requests, endpoint=CHAT):
    return "\n".join(json.dumps({"custom_id": c, "method": "POST", "url": endpoint, "body": b})
                     for c, b in requests) + "\n"


def _wrong_build_fixed_url(requests, endpoint=CHAT):
    return _build(requests, endpoint).replace(f'"url": "{endpoint}"', f'"url": "{CHAT}"')


def _wrong_build_adds_stream(requests, endpoint=CHAT):
    return _build([(c, dict(b, stream=False)) for c, b in requests], endpoint)


def _wrong_build_no_trailing_newline(requests, endpoint=CHAT):
    return _build(requests, endpoint).rstrip("\n")


def _wrong_validate_zero_based(text, endpoint=CHAT):
    return [(n - 1, c) for n, c in _validate(text, endpoint)]


def _wrong_validate_drops_blank_lines(text, endpoint=CHAT):
    return _validate("\n".join(line for line in text.splitlines() if line.strip()), endpoint)


def _wrong_validate_flags_first_duplicate(text, endpoint=CHAT):
    problems = _validate(text, endpoint)
    ids: dict[str, list[int]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            record = json.loads(raw)
            ids.setdefault(record["custom_id"], []).append(number)
        except Exception:  # noqa: BLE001
            pass
    firsts = [(lines[0], "duplicate_custom_id") for lines in ids.values() if len(lines) > 1]
    return sorted(problems + firsts)


def _wrong_validate_crashes_on_lists(text, endpoint=CHAT):
    problems = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                problems.append((number, "bad_json"))
                continue
            record.get("custom_id")  # AttributeError on a list
    return _validate(text, endpoint)


def _wrong_validate_ignores_method(text, endpoint=CHAT):
    return [p for p in _validate(text, endpoint) if p[1] != "wrong_method"]


def _wrong_validate_chat_only(text, endpoint=CHAT):
    return _validate(text, CHAT)


def _wrong_validate_model_key_only(text, endpoint=CHAT):
    problems = [p for p in _validate(text, endpoint) if p[1] != "missing_model"]
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("body"), dict) and "model" not in record["body"]:
            problems.append((number, "missing_model"))
    return sorted(problems)


def _wrong_match_by_position(output_jsonl, error_jsonl, requests):
    lines = [json.loads(raw) for raw in (output_jsonl or "").splitlines() if raw.strip()]
    result = {cid: {"status": "missing", "status_code": None, "body": None, "error": None} for cid, _ in requests}
    for (cid, _), record in zip(requests, lines):
        result[cid] = _outcome(record)
    return result


def _wrong_match_ignores_error_file(output_jsonl, error_jsonl, requests):
    return _match(output_jsonl, None, requests)


def _wrong_match_error_object_only(output_jsonl, error_jsonl, requests):
    result = _match(output_jsonl, error_jsonl, requests)
    for value in result.values():
        if value["status"] == "error" and value["status_code"] is not None:
            value["error"] = None
    return result


def _wrong_match_drops_missing(output_jsonl, error_jsonl, requests):
    return {k: v for k, v in _match(output_jsonl, error_jsonl, requests).items() if v["status"] != "missing"}


def _wrong_match_file_order(output_jsonl, error_jsonl, requests):
    result = _match(output_jsonl, error_jsonl, requests)
    return dict(sorted(result.items(), key=lambda kv: kv[1]["status"]))


def _wrong_match_unknown_ignored(output_jsonl, error_jsonl, requests):
    wanted = {cid for cid, _ in requests}
    keep = lambda text: "\n".join(raw for raw in (text or "").splitlines()  # noqa: E731
                                  if raw.strip() and json.loads(raw)["custom_id"] in wanted)
    return _match(keep(output_jsonl), keep(error_jsonl), requests)


def _wrong_match_crashes_on_none(output_jsonl, error_jsonl, requests):
    error_jsonl.splitlines()
    return _match(output_jsonl, error_jsonl, requests)


WRONG = {
    "check_build_batch_lines": [_wrong_build_indented, _wrong_build_no_checks, _wrong_build_fixed_url,
                                _wrong_build_adds_stream, _wrong_build_no_trailing_newline],
    "check_validate_jsonl": [_wrong_validate_zero_based, _wrong_validate_drops_blank_lines,
                             _wrong_validate_flags_first_duplicate, _wrong_validate_crashes_on_lists,
                             _wrong_validate_ignores_method, _wrong_validate_chat_only,
                             _wrong_validate_model_key_only],
    "check_match_results": [_wrong_match_by_position, _wrong_match_ignores_error_file,
                            _wrong_match_error_object_only, _wrong_match_drops_missing, _wrong_match_file_order,
                            _wrong_match_unknown_ignored, _wrong_match_crashes_on_none],
}
