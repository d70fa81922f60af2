"""Doubles for lab11_batch_jsonl: build_batch_lines, validate_jsonl, match_results, retry_batch."""

import json

from llmlab.checks.lab11 import BATCH_ENDPOINTS, CHAT


def build(requests, endpoint=CHAT):
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


def validate(text, endpoint=CHAT):
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


def _outcome(record):
    response, error = record.get("response"), record.get("error")
    if error:
        return {"status": "error", "status_code": None, "body": None,
                "error": {"code": error.get("code"), "message": error.get("message")}}
    if response and response.get("status_code") == 200:
        return {"status": "ok", "status_code": 200, "body": response.get("body"), "error": None}
    body_error = ((response or {}).get("body") or {}).get("error") or {}
    return {"status": "error", "status_code": (response or {}).get("status_code"), "body": None,
            "error": {"code": body_error.get("code"), "message": body_error.get("message")}}


def match(output_jsonl, error_jsonl, requests):
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


def _worth_resending(result, all_errors=False, never_ran=True, missing=True, all_4xx=False):
    if result["status"] == "missing":
        return missing
    if result["status"] != "error":
        return False
    code = result["status_code"]
    if code is None:
        return never_ran
    return all_errors or code == 429 or code >= 500 or (all_4xx and code != 400)


def _retry(results, requests, ids_only=False, **rules):
    pairs = [(cid, body) for cid, body in requests if _worth_resending(results[cid], **rules)]
    return [cid for cid, _ in pairs] if ids_only else pairs


def retry_batch(results, requests):
    return _retry(results, requests)


def retry_batch_last_first(results, requests):
    """Correct too: a resubmission's order does not matter."""
    return _retry(results, requests)[::-1]


REFERENCE = {
    "check_build_batch_lines": build,
    "check_validate_jsonl": validate,
    "check_match_results": match,
    "check_stretch_retry_batch": retry_batch,
}
ALSO_CORRECT = {"check_stretch_retry_batch": [retry_batch_last_first]}


# -- build_batch_lines ---------------------------------------------------------------------

def _wrong_build_indented(requests, endpoint=CHAT):
    build(requests, endpoint)
    return "\n".join(json.dumps({"custom_id": c, "method": "POST", "url": endpoint, "body": b}, indent=2)
                     for c, b in requests) + "\n"


def _wrong_build_no_checks(requests, endpoint=CHAT):
    return "\n".join(json.dumps({"custom_id": c, "method": "POST", "url": endpoint, "body": b})
                     for c, b in requests) + "\n"


def _wrong_build_fixed_url(requests, endpoint=CHAT):
    return build(requests, endpoint).replace(f'"url": "{endpoint}"', f'"url": "{CHAT}"')


def _wrong_build_adds_stream(requests, endpoint=CHAT):
    return build([(c, dict(b, stream=False)) for c, b in requests], endpoint)


def _wrong_build_no_trailing_newline(requests, endpoint=CHAT):
    return build(requests, endpoint).rstrip("\n")


# -- validate_jsonl ---------------------------------------------------------------------------

def _wrong_validate_zero_based(text, endpoint=CHAT):
    return [(n - 1, c) for n, c in validate(text, endpoint)]


def _wrong_validate_drops_blank_lines(text, endpoint=CHAT):
    return validate("\n".join(line for line in text.splitlines() if line.strip()), endpoint)


def _wrong_validate_flags_first_duplicate(text, endpoint=CHAT):
    problems = validate(text, endpoint)
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
    for raw in text.splitlines():
        if raw.strip():
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                continue
            record.get("custom_id")  # AttributeError on a list
    return validate(text, endpoint)


def _wrong_validate_ignores_method(text, endpoint=CHAT):
    return [p for p in validate(text, endpoint) if p[1] != "wrong_method"]


def _wrong_validate_chat_only(text, endpoint=CHAT):
    return validate(text, CHAT)


def _wrong_validate_model_key_only(text, endpoint=CHAT):
    problems = [p for p in validate(text, endpoint) if p[1] != "missing_model"]
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("body"), dict) and "model" not in record["body"]:
            problems.append((number, "missing_model"))
    return sorted(problems)


# -- match_results --------------------------------------------------------------------------------

def _wrong_match_by_position(output_jsonl, error_jsonl, requests):
    lines = [json.loads(raw) for raw in (output_jsonl or "").splitlines() if raw.strip()]
    result = {cid: {"status": "missing", "status_code": None, "body": None, "error": None} for cid, _ in requests}
    for (cid, _), record in zip(requests, lines, strict=False):
        result[cid] = _outcome(record)
    return result


def _wrong_match_ignores_error_file(output_jsonl, error_jsonl, requests):
    return match(output_jsonl, None, requests)


def _wrong_match_error_object_only(output_jsonl, error_jsonl, requests):
    result = match(output_jsonl, error_jsonl, requests)
    for value in result.values():
        if value["status"] == "error" and value["status_code"] is not None:
            value["error"] = None
    return result


def _wrong_match_drops_missing(output_jsonl, error_jsonl, requests):
    return {k: v for k, v in match(output_jsonl, error_jsonl, requests).items() if v["status"] != "missing"}


def _wrong_match_file_order(output_jsonl, error_jsonl, requests):
    result = match(output_jsonl, error_jsonl, requests)
    return dict(sorted(result.items(), key=lambda kv: kv[1]["status"]))


def _wrong_match_unknown_ignored(output_jsonl, error_jsonl, requests):
    wanted = {cid for cid, _ in requests}

    def keep(text):
        lines = (text or "").splitlines()
        return "\n".join(raw for raw in lines if raw.strip() and json.loads(raw)["custom_id"] in wanted)
    return match(keep(output_jsonl), keep(error_jsonl), requests)


def _wrong_match_crashes_on_none(output_jsonl, error_jsonl, requests):
    error_jsonl.splitlines()
    return match(output_jsonl, error_jsonl, requests)


# -- retry_batch ----------------------------------------------------------------------------------

def _wrong_retry_every_error(results, requests):
    return _retry(results, requests, all_errors=True)


def _wrong_retry_forgets_never_ran(results, requests):
    return _retry(results, requests, never_ran=False)


def _wrong_retry_forgets_missing(results, requests):
    return _retry(results, requests, missing=False)


def _wrong_retry_all_but_400(results, requests):
    return _retry(results, requests, all_4xx=True)


def _wrong_retry_ids_only(results, requests):
    return _retry(results, requests, ids_only=True)


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
    "check_stretch_retry_batch": [_wrong_retry_every_error, _wrong_retry_forgets_never_ran,
                                  _wrong_retry_forgets_missing, _wrong_retry_all_but_400, _wrong_retry_ids_only],
}
