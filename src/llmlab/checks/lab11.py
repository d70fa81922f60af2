"""Checks for lab11_batch_jsonl: build a Batch API input file, validate one
line by line, and match the output and error files back to the requests.

    from llmlab.checks import lab11
    lab11.check_build_batch_lines(build_batch_lines)
    lab11.check_validate_jsonl(validate_jsonl)
    lab11.check_match_results(match_results)
    lab11.check_stretch_retry_batch(retry_batch)   # optional

The output and error lines below follow OpenAI's batch request-output object:
{"id": "batch_req_...", "custom_id": ..., "response": {"status_code", "request_id", "body"} or null,
"error": {"code", "message"} or null}; success bodies are chat.completion objects and
HTTP failures carry the API's usual {"error": {...}} body.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .. import catalogue
from . import Case, Report, expect, run_cases

# The endpoints a batch may target (OpenAI API reference, CreateBatchRequest.endpoint).
BATCH_ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
                   "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos")
CHAT = "/v1/chat/completions"
# The openai backend's chat model, from the dated catalogue (a batch file names a real model).
MODEL = catalogue.default_model("openai", "chat") or "gpt-6-luna"
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
            "temperature": 0, "reasoning_effort": "none", "max_completion_tokens": 5}


REQUESTS = [(cid, chat_body(text)) for cid, text in TICKETS.items()]

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
    for (custom_id, body), record in zip(REQUESTS, records, strict=False):
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
    record: dict[str, Any] = {"custom_id": cid, "method": "POST", "url": CHAT, "body": chat_body(TICKETS["ticket-001"])}
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


# Every problem in BAD, in line order: the answer to the table in Task 2.
BAD_PROBLEMS = [(2, "wrong_url"), (3, "duplicate_custom_id"), (4, "bad_json"), (6, "missing_model"),
                (7, "wrong_method"), (7, "wrong_url"), (8, "bad_json"), (9, "missing_custom_id"),
                (10, "missing_model"), (11, "duplicate_custom_id"), (11, "missing_model")]
TICKET_LINES = "\n".join(_line(cid, body=chat_body(text)) for cid, text in TICKETS.items()) + "\n"


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
    got = _problems(fn, TICKET_LINES)
    expect(got == [], f"the six ticket requests, one per line, have no problems (you reported {got})")


def _compare(fn, text, expected, endpoint=CHAT):
    got = _problems(fn, text, endpoint)
    missing = [p for p in expected if p not in got]
    extra = [p for p in got if p not in expected]
    return got, missing, extra


def _each_kind(fn):
    expected = BAD_PROBLEMS
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
        "model": MODEL,
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
TOO_LONG = {"message": f"This model's maximum context length is {catalogue.model(MODEL).context_window} tokens. "
                       "However, your messages resulted in 1052117 tokens. Please reduce the length of the messages.",
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
        result: Any = got.get(custom_id)
        expect(result is not None, f"{custom_id} has a line in the output file but no result")
        expect(result["status"] == "ok" and result["status_code"] == 200,
               f"{custom_id} answered with status_code 200: its status is 'ok'")
        content = (result["body"] or {}).get("choices", [{}])[0].get("message", {}).get("content")
        expect(content == label,
               f"{custom_id} got the body of another request: the output file is in completion order, not input "
               "order. Match each line by its custom_id")
        expect(result["error"] is None, "a success has error None")


def _http_error(fn):
    result: Any = _matched(fn).get("ticket-002")
    expect(result is not None and result["status"] == "error",
           "ticket-002 is in the error file with status_code 400: its status is 'error' (read the error file too)")
    expect(result["status_code"] == 400, "keep the HTTP status from response.status_code")
    expect(result["error"] == {"code": TOO_LONG["code"], "message": TOO_LONG["message"]},
           "for an HTTP error the code and message are in response.body.error; error is {'code': ..., 'message': ...}")
    expect(result["body"] is None, "a failed request has body None")


def _batch_error(fn):
    result: Any = _matched(fn).get("ticket-005")
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


# -- optional stretch: what is worth another batch ---------------------------------------------------

def _result(status: str, status_code: int | None = None, code: str | None = None) -> dict:
    """One entry of what match_results returns."""
    body = {"id": "chatcmpl-ok", "object": "chat.completion"} if status == "ok" else None
    error = {"code": code, "message": f"{code} happened"} if status == "error" else None
    return {"status": status, "status_code": status_code, "body": body, "error": error}


RESULTS = {
    "ticket-001": _result("ok", 200),
    "ticket-002": _result("error", 400, "context_length_exceeded"),  # the request is wrong: fix it, do not resend
    "ticket-003": _result("error", 429, "rate_limit_exceeded"),
    "ticket-004": _result("error", 500, "server_error"),
    "ticket-005": _result("error", None, "batch_expired"),           # never ran
    "ticket-006": _result("missing"),
}
MORE_RESULTS = {
    "ticket-001": _result("error", 401, "invalid_api_key"),          # a key problem: resending cannot help
    "ticket-002": _result("error", 503, "overloaded"),
    "ticket-003": _result("error", None, "batch_cancelled"),
    "ticket-004": _result("error", 404, "model_not_found"),
    "ticket-005": _result("ok", 200),
    "ticket-006": _result("error", 422, "unprocessable_entity"),
}


def _to_retry(fn, results: dict, requests=REQUESTS) -> list[str]:
    before = copy.deepcopy((results, requests))
    got = fn(results, requests)
    expect((results, requests) == before, "do not change the results or the requests")
    expect(isinstance(got, list) and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in got),
           f"return a list of (custom_id, body) pairs, ready for build_batch_lines (got {got!r:.100})")
    bodies = dict(requests)
    for custom_id, body in got:
        expect(body == bodies.get(custom_id), f"{custom_id}: resend the request's own body, unchanged")
    ids = [custom_id for custom_id, _ in got]
    expect(len(set(ids)) == len(ids), f"each request at most once (you listed {ids})")
    return sorted(ids)  # the order of a resubmission does not matter: results are matched by custom_id


def _rb_transient(fn):
    got = _to_retry(fn, RESULTS)
    for custom_id, why in (("ticket-003", "a 429"), ("ticket-004", "a 5xx"), ("ticket-005", "a request that never ran "
                           "(status_code None)"), ("ticket-006", "a missing result")):
        expect(custom_id in got, f"{why} is worth another batch: {custom_id} is missing from {got}")


def _rb_not_worth_it(fn):
    got = _to_retry(fn, RESULTS)
    expect("ticket-001" not in got, "an answered request is done: do not pay for it twice")
    expect("ticket-002" not in got, "a 400 means the request itself is wrong: resending it fails the same way")


def _rb_other_statuses(fn):
    got = _to_retry(fn, MORE_RESULTS)
    expect(got == ["ticket-002", "ticket-003"],
           f"of these, only the 503 and the cancelled request are worth resending (got {got}): a 401, 404 or 422 "
           "fails again, and an answer is done")


def _rb_nothing(fn):
    done = {custom_id: _result("ok", 200) for custom_id, _ in REQUESTS}
    expect(_to_retry(fn, done) == [], "when everything was answered, there is nothing to resend: []")


def check_stretch_retry_batch(fn, quiet: bool = False) -> Report:
    """Optional: retry_batch(results, requests) lists the (custom_id, body) pairs worth another batch."""
    return run_cases("retry_batch (optional)", fn, [
        Case("429, 5xx, never ran, missing: resend", _rb_transient),
        Case("answered or a bad request: do not", _rb_not_worth_it),
        Case("other 4xx are not worth it", _rb_other_statuses),
        Case("nothing to resend", _rb_nothing),
    ], quiet)
