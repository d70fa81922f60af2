"""Provider shape translations: OpenAI -> Anthropic / Gemini / Cohere -> OpenAI."""

import copy
import json

import pytest

from llmlab import providers as pv

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def tool_flow_request(**extra):
    """A full tool-use conversation: two parallel calls, their results, a follow-up."""
    return {
        "model": "gpt-4.1-mini",
        "messages": [
            {"role": "system", "content": "You are a travel assistant. Use the tools."},
            {"role": "user", "content": "Weather and time in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_w", "type": "function",
                 "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris", "unit": "celsius"})}},
                {"id": "call_t", "type": "function",
                 "function": {"name": "get_time", "arguments": json.dumps({"city": "Paris"})}},
            ]},
            {"role": "tool", "tool_call_id": "call_w", "content": json.dumps({"temp_c": 18, "sky": "rain"})},
            {"role": "tool", "tool_call_id": "call_t", "content": "14:05"},
            {"role": "assistant", "content": "It is 18°C with rain, and 14:05."},
            {"role": "user", "content": "Thanks!"},
        ],
        "tools": [WEATHER, TIME],
        "tool_choice": "auto",
        "max_completion_tokens": 200,
        "temperature": 0.2,
        "stop": ["END"],
        **extra,
    }


def normalise(request):
    """What must survive a round trip: roles, text, tool calls, tool results, tools, knobs."""
    r = copy.deepcopy(request)
    r.pop("model", None)
    for m in r["messages"]:
        if m["role"] == "assistant" and not m.get("content"):
            m["content"] = None
        for call in m.get("tool_calls") or []:
            call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    if isinstance(r.get("stop"), str):
        r["stop"] = [r["stop"]]
    return r


def completion(message, finish_reason, usage=None):
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4.1-mini",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": usage or {"prompt_tokens": 240, "completion_tokens": 14, "total_tokens": 254}}


TOOL_TURN = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}


# ------------------------------------------------------------------ Anthropic

def test_anthropic_request_shape():
    body = pv.to_anthropic_request(tool_flow_request())
    assert body["system"] == "You are a travel assistant. Use the tools."
    assert all(m["role"] in ("user", "assistant") for m in body["messages"])
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]  # strictly alternating
    tool_use = body["messages"][1]["content"]
    assert [b["type"] for b in tool_use] == ["tool_use", "tool_use"]
    assert tool_use[0] == {"type": "tool_use", "id": "call_w", "name": "get_weather",
                           "input": {"city": "Paris", "unit": "celsius"}}
    results = body["messages"][2]["content"]
    assert [b["type"] for b in results] == ["tool_result", "tool_result"]  # both results in ONE user turn
    assert results[0]["tool_use_id"] == "call_w" and results[1] == {
        "type": "tool_result", "tool_use_id": "call_t", "content": "14:05"}
    assert body["messages"][4]["content"] == "Thanks!"
    assert body["tools"][0] == {"name": "get_weather", "description": "Current weather for a city",
                                "input_schema": WEATHER["function"]["parameters"]}
    assert body["tool_choice"] == {"type": "auto"}
    assert body["max_tokens"] == 200 and body["stop_sequences"] == ["END"]
    assert body["model"] == pv.EXAMPLE_MODELS["anthropic"]


def test_anthropic_follow_up_text_joins_the_tool_result_turn():
    req = tool_flow_request()
    req["messages"] = req["messages"][:5] + [{"role": "user", "content": "Also, is it windy?"}]
    body = pv.to_anthropic_request(req)
    last = body["messages"][-1]
    assert last["role"] == "user"
    assert [b["type"] for b in last["content"]] == ["tool_result", "tool_result", "text"]
    back = pv.from_anthropic_request(body)
    assert [m["role"] for m in back["messages"][-3:]] == ["tool", "tool", "user"]


@pytest.mark.parametrize("choice, expected", [
    ("auto", {"type": "auto"}),
    ("required", {"type": "any"}),
    ("none", {"type": "none"}),
    ({"type": "function", "function": {"name": "get_time"}}, {"type": "tool", "name": "get_time"}),
])
def test_anthropic_tool_choice(choice, expected):
    body = pv.to_anthropic_request(tool_flow_request(tool_choice=choice))
    assert body["tool_choice"] == expected
    assert pv.from_anthropic_request(body)["tool_choice"] == choice


def test_anthropic_parallel_off_and_defaults():
    req = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [WEATHER],
           "parallel_tool_calls": False, "temperature": 1.6}
    body = pv.to_anthropic_request(req, default_max_tokens=512)
    assert body["max_tokens"] == 512  # required by Anthropic
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert body["temperature"] == 1.0  # Anthropic's range is 0..1
    assert "system" not in body


def test_anthropic_cache_system_block():
    body = pv.to_anthropic_request(tool_flow_request(), cache_system=True)
    assert body["system"] == [{"type": "text", "text": "You are a travel assistant. Use the tools.",
                               "cache_control": {"type": "ephemeral"}}]
    assert pv.from_anthropic_request(body)["messages"][0]["content"] == "You are a travel assistant. Use the tools."


def test_anthropic_request_round_trip():
    req = tool_flow_request()
    assert normalise(pv.from_anthropic_request(pv.to_anthropic_request(req))) == normalise(req)


def test_anthropic_response_round_trip_with_tool_use():
    original = completion(TOOL_TURN, "tool_calls")
    msg = pv.to_anthropic_response(original)
    assert msg["type"] == "message" and msg["stop_reason"] == "tool_use"
    assert msg["content"] == [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]
    assert msg["usage"]["input_tokens"] == 240 and msg["usage"]["output_tokens"] == 14
    back = pv.from_anthropic_response(msg)
    assert back["choices"][0] == original["choices"][0]
    assert back["usage"] == original["usage"]


def test_anthropic_response_text_thinking_and_cache_usage():
    msg = {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
           "content": [{"type": "thinking", "thinking": "The user wants...", "signature": "sig"},
                       {"type": "text", "text": "Let me check."},
                       {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Oslo"}}],
           "stop_reason": "tool_use", "stop_sequence": None,
           "usage": {"input_tokens": 50, "output_tokens": 30, "cache_creation_input_tokens": 0,
                     "cache_read_input_tokens": 2000}}
    out = pv.from_anthropic_response(msg)
    m = out["choices"][0]["message"]
    assert m["content"] == "Let me check."  # thinking is dropped
    assert m["tool_calls"][0]["id"] == "toolu_01"
    assert json.loads(m["tool_calls"][0]["function"]["arguments"]) == {"city": "Oslo"}
    assert out["choices"][0]["finish_reason"] == "tool_calls"
    assert out["usage"]["prompt_tokens"] == 2050
    assert out["usage"]["prompt_tokens_details"] == {"cached_tokens": 2000}


@pytest.mark.parametrize("stop, finish", [("end_turn", "stop"), ("max_tokens", "length"),
                                          ("stop_sequence", "stop"), ("refusal", "content_filter")])
def test_anthropic_stop_reasons(stop, finish):
    msg = {"id": "msg_1", "model": "claude", "content": [{"type": "text", "text": "x"}], "stop_reason": stop}
    assert pv.from_anthropic_response(msg)["choices"][0]["finish_reason"] == finish


def test_anthropic_tool_loop_ids_line_up():
    """OpenAI history -> Anthropic response with tool_use -> back into the OpenAI history -> Anthropic again."""
    history = [{"role": "user", "content": "Weather in Oslo?"}]
    claude_reply = {"id": "msg_9", "model": "claude", "stop_reason": "tool_use",
                    "content": [{"type": "tool_use", "id": "toolu_9", "name": "get_weather",
                                 "input": {"city": "Oslo"}}],
                    "usage": {"input_tokens": 10, "output_tokens": 5}}
    history.append(pv.from_anthropic_response(claude_reply)["choices"][0]["message"])
    history.append({"role": "tool", "tool_call_id": "toolu_9", "content": '{"temp_c": 3}'})
    body = pv.to_anthropic_request({"model": "m", "messages": history, "tools": [WEATHER]})
    assert body["messages"][1]["content"][0]["id"] == body["messages"][2]["content"][0]["tool_use_id"] == "toolu_9"
    assert body["messages"][2]["role"] == "user"


def test_unsupported_parameters_raise_unless_not_strict():
    req = tool_flow_request(n=2, logprobs=True)
    with pytest.raises(pv.UnsupportedParameterError, match="logprobs, n"):
        pv.to_anthropic_request(req)
    assert "n" not in pv.to_anthropic_request(req, strict=False)


def test_bad_tool_arguments_are_reported():
    req = {"model": "m", "messages": [{"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]}]}
    with pytest.raises(ValueError, match="not JSON"):
        pv.to_anthropic_request(req)


def test_images_map_to_provider_blocks():
    req = {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]}
    a = pv.to_anthropic_request(req)["messages"][0]["content"][1]
    assert a == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    g = pv.to_gemini_request(req)["contents"][0]["parts"][1]
    assert g == {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    assert normalise(pv.from_anthropic_request(pv.to_anthropic_request(req)))["messages"] == req["messages"]
    assert pv.from_gemini_request(pv.to_gemini_request(req))["messages"] == req["messages"]


# ------------------------------------------------------------------ Gemini

def test_gemini_request_shape():
    body = pv.to_gemini_request(tool_flow_request())
    assert body["systemInstruction"] == {"parts": [{"text": "You are a travel assistant. Use the tools."}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user", "model", "user"]
    calls = body["contents"][1]["parts"]
    assert calls[0] == {"functionCall": {"id": "call_w", "name": "get_weather",
                                         "args": {"city": "Paris", "unit": "celsius"}}}
    responses = body["contents"][2]["parts"]
    assert responses[0] == {"functionResponse": {"id": "call_w", "name": "get_weather",
                                                 "response": {"temp_c": 18, "sky": "rain"}}}
    assert responses[1]["functionResponse"]["name"] == "get_time"  # looked up from the call id
    assert responses[1]["functionResponse"]["response"] == {"result": "14:05"}  # text wrapped in an object
    decls = body["tools"][0]["functionDeclarations"]
    assert [d["name"] for d in decls] == ["get_weather", "get_time"]
    assert decls[0]["parameters"] == WEATHER["function"]["parameters"]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    assert body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 200, "stopSequences": ["END"]}
    assert "model" not in body
    assert pv.gemini_url("gemini-2.5-flash").endswith("/v1beta/models/gemini-2.5-flash:generateContent")


@pytest.mark.parametrize("choice, config", [
    ("auto", {"mode": "AUTO"}),
    ("required", {"mode": "ANY"}),
    ("none", {"mode": "NONE"}),
    ({"type": "function", "function": {"name": "get_time"}}, {"mode": "ANY", "allowedFunctionNames": ["get_time"]}),
])
def test_gemini_tool_choice(choice, config):
    body = pv.to_gemini_request(tool_flow_request(tool_choice=choice))
    assert body["toolConfig"]["functionCallingConfig"] == config
    assert pv.from_gemini_request(body)["tool_choice"] == choice


def test_gemini_schema_drops_keywords_it_rejects():
    strict_tool = copy.deepcopy(WEATHER)
    strict_tool["function"]["parameters"]["additionalProperties"] = False
    body = pv.to_gemini_request({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [strict_tool]})
    assert "additionalProperties" not in body["tools"][0]["functionDeclarations"][0]["parameters"]


def test_gemini_json_mode_and_safety_settings():
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    req = {"model": "m", "messages": [{"role": "user", "content": "hi"}],
           "response_format": {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}}
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]
    body = pv.to_gemini_request(req, safety_settings=safety)
    assert body["generationConfig"] == {"responseMimeType": "application/json", "responseSchema": schema}
    assert body["safetySettings"] == safety
    assert pv.from_gemini_request(body)["response_format"] == req["response_format"]


def test_gemini_request_round_trip():
    req = tool_flow_request()
    assert normalise(pv.from_gemini_request(pv.to_gemini_request(req))) == normalise(req)


def test_gemini_tool_result_needs_its_call():
    req = {"model": "m", "messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}
    with pytest.raises(ValueError, match="no earlier assistant message"):
        pv.to_gemini_request(req)


def test_gemini_response_round_trip_with_function_call():
    original = completion(TOOL_TURN, "tool_calls")
    resp = pv.to_gemini_response(original)
    cand = resp["candidates"][0]
    assert cand["content"]["role"] == "model"
    assert cand["finishReason"] == "STOP"  # Gemini does not say "tool call" in finishReason
    assert cand["content"]["parts"][0]["functionCall"] == {"id": "call_1", "name": "get_weather",
                                                          "args": {"city": "Paris"}}
    back = pv.from_gemini_response(resp)
    assert back["choices"][0] == original["choices"][0]
    assert back["usage"] == original["usage"]


def test_gemini_response_without_ids_thoughts_and_blocking():
    resp = {"candidates": [{"content": {"role": "model", "parts": [
        {"text": "planning...", "thought": True},
        {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 8, "thoughtsTokenCount": 12,
                          "totalTokenCount": 50}}
    out = pv.from_gemini_response(resp)
    m = out["choices"][0]["message"]
    assert m["content"] is None and m["tool_calls"][0]["id"] == "call_0_get_weather"
    assert out["choices"][0]["finish_reason"] == "tool_calls"
    assert out["usage"]["completion_tokens"] == 20  # thinking tokens are billed as output
    blocked = pv.from_gemini_response({"promptFeedback": {"blockReason": "SAFETY"}})
    assert blocked["choices"][0]["finish_reason"] == "content_filter"
    assert blocked["choices"][0]["message"]["content"] is None


def test_gemini_id_less_history_pairs_calls_and_results():
    body = {"contents": [
        {"role": "user", "parts": [{"text": "Weather in Rome?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp_c": 25}}}]},
    ]}
    msgs = pv.from_gemini_request(body)["messages"]
    assert msgs[1]["tool_calls"][0]["id"] == msgs[2]["tool_call_id"] == "call_0_get_weather"
    assert json.loads(msgs[2]["content"]) == {"temp_c": 25}


# ------------------------------------------------------------------ Cohere

def test_cohere_request_shape():
    body = pv.to_cohere_request(tool_flow_request())
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "tool", "assistant", "user"]
    assert body["messages"][2]["tool_calls"][0]["function"]["name"] == "get_weather"
    tool = body["messages"][3]
    assert tool["tool_call_id"] == "call_w"
    assert tool["content"] == [{"type": "document", "document": {"data": json.dumps({"temp_c": 18, "sky": "rain"})}}]
    assert body["tools"] == [WEATHER, TIME]  # OpenAI's function shape
    assert "tool_choice" not in body  # auto is Cohere's default
    assert body["stop_sequences"] == ["END"] and body["max_tokens"] == 200
    assert body["model"] == pv.EXAMPLE_MODELS["cohere"]


def test_cohere_tool_choice_and_plan():
    named = pv.to_cohere_request(tool_flow_request(tool_choice={"type": "function", "function": {"name": "get_time"}}))
    assert named["tool_choice"] == "REQUIRED"
    assert [t["function"]["name"] for t in named["tools"]] == ["get_time"]  # Cohere cannot name a tool
    assert pv.to_cohere_request(tool_flow_request(tool_choice="none"))["tool_choice"] == "NONE"
    req = {"model": "m", "messages": [{"role": "user", "content": "hi"},
                                      {**TOOL_TURN, "content": "I will look up the weather."}]}
    body = pv.to_cohere_request(req)
    assert body["messages"][1]["tool_plan"] == "I will look up the weather."
    assert "content" not in body["messages"][1]


def test_cohere_documents_for_rag():
    docs = ["Refunds take 5 days.", {"id": "faq-2", "title": "Shipping", "snippet": "Ships in 24h."}]
    body = pv.to_cohere_request({"model": "m", "messages": [{"role": "user", "content": "How long for refunds?"}]},
                                documents=docs)
    assert body["documents"] == [{"id": "doc_0", "data": {"text": "Refunds take 5 days."}},
                                 {"id": "faq-2", "data": {"title": "Shipping", "snippet": "Ships in 24h."}}]


def test_cohere_request_round_trip():
    req = tool_flow_request()
    expected = normalise(req)
    del expected["tool_choice"]  # "auto" is the default on both sides, so Cohere's body leaves it out
    assert normalise(pv.from_cohere_request(pv.to_cohere_request(req))) == expected
    req = tool_flow_request(tool_choice="required")
    assert pv.from_cohere_request(pv.to_cohere_request(req))["tool_choice"] == "required"


def test_cohere_response_round_trip_and_citations():
    original = completion(TOOL_TURN, "tool_calls")
    resp = pv.to_cohere_response(original)
    assert resp["finish_reason"] == "TOOL_CALL"
    assert resp["message"]["tool_calls"] == TOOL_TURN["tool_calls"]
    back = pv.from_cohere_response(resp)
    assert back["choices"][0] == original["choices"][0]
    assert back["usage"] == original["usage"]
    cited = {"id": "c1", "finish_reason": "COMPLETE", "message": {
        "role": "assistant", "content": [{"type": "text", "text": "Refunds take 5 days."}],
        "citations": [{"start": 0, "end": 20, "text": "Refunds take 5 days.",
                       "sources": [{"type": "document", "id": "doc_0"}]}]},
        "usage": {"billed_units": {"input_tokens": 40, "output_tokens": 6},
                  "tokens": {"input_tokens": 250, "output_tokens": 6}}}
    out = pv.from_cohere_response(cited)
    assert out["choices"][0]["message"]["citations"][0]["sources"][0]["id"] == "doc_0"
    assert out["choices"][0]["finish_reason"] == "stop"
    assert out["usage"]["prompt_tokens"] == 250


def test_translations_do_not_mutate_the_input():
    req = tool_flow_request()
    before = copy.deepcopy(req)
    pv.to_anthropic_request(req)
    pv.to_gemini_request(req)
    pv.to_cohere_request(req)
    assert req == before


def test_side_by_side_and_urls():
    text = pv.side_by_side({"system": "x" * 80}, {"a": 1}, titles=("left", "right"), width=30)
    lines = text.splitlines()
    assert lines[0].startswith("left") and "| right" in lines[0]
    assert all(line[30:32] == " |" for line in lines[2:])  # long lines are wrapped to the column width
    assert pv.gemini_url("gemini-2.5-pro", stream=True).endswith("models/gemini-2.5-pro:streamGenerateContent?alt=sse")


def test_empty_assistant_turns_are_skipped():
    req = {"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": ""},
                                      {"role": "user", "content": "b"}]}
    assert pv.to_anthropic_request(req)["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]
    assert [c["role"] for c in pv.to_gemini_request(req)["contents"]] == ["user"]


def test_example_models_are_current():
    """The translated requests name models a learner could call today."""
    from llmlab import catalogue

    for role, name in pv.EXAMPLE_MODELS.items():
        if role == "cohere_rerank":
            continue  # rerank models are not in the catalogue's chat roles
        assert catalogue.status(name).state == "current", f"{role}: {name} is {catalogue.status(name).state}"


def test_anthropic_reasoning_effort_and_forced_tool_calls():
    """reasoning_effort becomes Claude's output_config.effort (Claude has no "off": none -> low) and
    back; a tool call forced by a named tool_choice (finish_reason "stop" on OpenAI) is tool_use on Claude."""
    req = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "none",
           "max_completion_tokens": 50}
    body = pv.to_anthropic_request(req)
    assert body["output_config"] == {"effort": "low"} and body["max_tokens"] == 50
    back = pv.from_anthropic_request({**body, "output_config": {"effort": "max"}})
    assert back["reasoning_effort"] == "max" and back["max_completion_tokens"] == 50 and "max_tokens" not in back
    forced = {"id": "chatcmpl-1", "model": "m", "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}]}
    assert pv.to_anthropic_response(forced)["stop_reason"] == "tool_use"
    cut = {"id": "msg_1", "model": "claude", "content": [{"type": "text", "text": "..."}],
           "stop_reason": "model_context_window_exceeded"}
    assert pv.from_anthropic_response(cut)["choices"][0]["finish_reason"] == "length"
