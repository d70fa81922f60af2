"""Doubles for lab02_streaming_printer: assemble_stream, time_to_first_token, print_stream."""


def assemble(chunks):
    text, finish, calls = [], None, {}
    for chunk in chunks:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text.append(delta.content or "")
        for tc in delta.tool_calls or []:
            call = calls.setdefault(tc.index, {"id": None, "type": "function",
                                               "function": {"name": None, "arguments": ""}})
            call["id"] = call["id"] or tc.id
            if tc.function:
                call["function"]["name"] = call["function"]["name"] or tc.function.name
                call["function"]["arguments"] += tc.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    message = {"role": "assistant", "content": "".join(text)}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message, finish


def _output(chunk) -> bool:
    return bool(chunk.choices) and bool(chunk.choices[0].delta.content or chunk.choices[0].delta.tool_calls)


def ttft(events, start=None):
    if not events:
        return None
    origin = events[0][0] if start is None else start
    return next((t - origin for t, chunk in events if _output(chunk)), None)


def print_stream(chunks, out):
    kept = []
    for chunk in chunks:
        kept.append(chunk)
        if chunk.choices and chunk.choices[0].delta.content:
            out.write(chunk.choices[0].delta.content)
            out.flush()
    return assemble(kept)


REFERENCE = {
    "check_assemble_stream": assemble,
    "check_time_to_first_token": ttft,
    "check_stretch_print_stream": print_stream,
}


# -- assemble_stream ----------------------------------------------------------------------

def _wrong_text_only(chunks):
    text, finish = [], None
    for chunk in chunks:
        if not chunk.choices:
            continue
        text.append(chunk.choices[0].delta.content or "")
        finish = chunk.choices[0].finish_reason or finish
    return {"role": "assistant", "content": "".join(text)}, finish


def _wrong_ignores_index(chunks):
    text, finish, call = [], None, None
    for chunk in chunks:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text.append(delta.content or "")
        for tc in delta.tool_calls or []:
            if call is None:
                call = {"id": tc.id, "type": "function", "function": {"name": tc.function.name, "arguments": ""}}
            call["function"]["arguments"] += tc.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    message = {"role": "assistant", "content": "".join(text)}
    if call:
        message["tool_calls"] = [call]
    return message, finish


def _wrong_appends_names(chunks):
    text, finish, calls = [], None, {}
    for chunk in chunks:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text.append(delta.content or "")
        for tc in delta.tool_calls or []:
            call = calls.setdefault(tc.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
            call["id"] += tc.id or ""
            call["function"]["name"] += (tc.function.name or "") if tc.function else ""
            call["function"]["arguments"] += (tc.function.arguments or "") if tc.function else ""
        finish = chunk.choices[0].finish_reason or finish
    message = {"role": "assistant", "content": "".join(text)}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message, finish


def _wrong_first_finish(chunks):
    message, _ = assemble(chunks)
    return message, chunks[0].choices[0].finish_reason


def _wrong_no_empty_choices(chunks):
    for chunk in chunks:
        chunk.choices[0]  # IndexError on the usage chunk
    return assemble(chunks)


# -- time_to_first_token ------------------------------------------------------------------

def _wrong_ttft_first_chunk(events, start=None):
    origin = events[0][0] if start is None else start
    return events[0][0] - origin if events else None


def _wrong_ttft_empty_counts(events, start=None):
    origin = events[0][0] if start is None else start
    for t, chunk in events:
        if chunk.choices and (chunk.choices[0].delta.content is not None or chunk.choices[0].delta.tool_calls):
            return t - origin
    return None


def _wrong_ttft_ignores_start(events, start=None):
    for t, chunk in events:
        if _output(chunk):
            return t - events[0][0]
    return None


def _wrong_ttft_text_only(events, start=None):
    origin = events[0][0] if start is None else start
    for t, chunk in events:
        if chunk.choices and chunk.choices[0].delta.content:
            return t - origin
    return None


def _wrong_ttft_milliseconds(events, start=None):
    origin = events[0][0] if start is None else start
    for t, chunk in events:
        if _output(chunk):
            return (t - origin) * 1000
    return None


# -- print_stream ----------------------------------------------------------------------------

def _wrong_print_at_the_end(chunks, out):
    kept = list(chunks)
    message, finish = assemble(kept)
    out.write(message["content"])
    out.flush()
    return message, finish


def _wrong_print_no_flush(chunks, out):
    kept = []
    for chunk in chunks:
        kept.append(chunk)
        if chunk.choices and chunk.choices[0].delta.content:
            out.write(chunk.choices[0].delta.content)
    return assemble(kept)


def _wrong_print_none(chunks, out):
    kept = []
    for chunk in chunks:
        kept.append(chunk)
        if chunk.choices:
            out.write(str(chunk.choices[0].delta.content))
            out.flush()
    return assemble(kept)


def _wrong_print_reads_twice(chunks, out):
    for chunk in chunks:
        if chunk.choices and chunk.choices[0].delta.content:
            out.write(chunk.choices[0].delta.content)
            out.flush()
    return assemble(chunks)  # the stream is spent: nothing left to assemble


def _wrong_print_usage_crash(chunks, out):
    kept = []
    for chunk in chunks:
        kept.append(chunk)
        text = chunk.choices[0].delta.content  # IndexError on the usage chunk
        if text:
            out.write(text)
            out.flush()
    return assemble(kept)


WRONG = {
    "check_assemble_stream": [_wrong_text_only, _wrong_ignores_index, _wrong_appends_names, _wrong_first_finish,
                              _wrong_no_empty_choices],
    "check_time_to_first_token": [_wrong_ttft_first_chunk, _wrong_ttft_empty_counts, _wrong_ttft_ignores_start,
                                  _wrong_ttft_text_only, _wrong_ttft_milliseconds],
    "check_stretch_print_stream": [_wrong_print_at_the_end, _wrong_print_no_flush, _wrong_print_none,
                                   _wrong_print_reads_twice, _wrong_print_usage_crash],
}
