"""The OpenAI and Anthropic wrappers with the real `openai` and `anthropic` packages against
the scripted upstream (tests/upstream.py): plain, streaming, tools, async."""

import asyncio
import json

import anthropic
import openai
import pytest
import upstream as up
from helpers import flushed

TOOLS_OPENAI = [{"type": "function", "function": {"name": "scan_cameras", "description": "count cameras",
                                                  "parameters": {"type": "object", "properties": {"floor": {"type": "integer"}}}}}]
TOOLS_RESPONSES = [{"type": "function", "name": "scan_cameras", "parameters": {"type": "object", "properties": {}}}]
TOOLS_ANTHROPIC = [{"name": "scan_cameras", "description": "count cameras",
                    "input_schema": {"type": "object", "properties": {"floor": {"type": "integer"}}}}]
ASK = [{"role": "user", "content": "When does the vault open?"}]
CALL = {"id": "call_1", "type": "function", "function": {"name": "scan_cameras", "arguments": json.dumps(up.TOOL_ARGS)}}


@pytest.fixture(scope="module")
def llm():
    u = up.Upstream()
    yield u
    u.close()


def recorded(server, sid):
    """The session's LLM spans in full, in start order."""
    return [server.span(sid, sp["span_id"]) for sp in server.spans(sid) if sp["kind"] == "llm"]


def openai_clients(llm):
    options = dict(base_url=llm.url + "/v1", api_key="sk-test", max_retries=0)
    return openai.OpenAI(**options), openai.AsyncOpenAI(**options)


def test_openai_chat_completions_plain_streaming_tools_and_async(fd, server, llm):
    sync, asy = openai_clients(llm)
    fd.instrument_openai(sync)
    fd.instrument_openai(asy)
    fd.instrument_openai(sync)  # a second time changes nothing

    async def async_calls():
        answer = await asy.chat.completions.create(model="gpt-4o-mini", messages=ASK)
        stream = await asy.chat.completions.create(model="gpt-4o-mini", messages=ASK, stream=True,
                                                   stream_options={"include_usage": True})
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        return answer.choices[0].message.content, text

    with fd.session("openai chat") as s:
        with fd.agent("planner") as planner:
            plain = sync.chat.completions.create(model="gpt-4o-mini", messages=ASK, temperature=0.2)
            assert plain.choices[0].message.content == up.TEXT
            tools = sync.chat.completions.create(model="gpt-4o-mini", messages=ASK, tools=TOOLS_OPENAI)
            assert tools.choices[0].message.tool_calls[0].function.name == "scan_cameras"
            with sync.chat.completions.create(model="gpt-4o-mini", messages=ASK, stream=True,
                                              stream_options={"include_usage": True}) as stream:
                streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            assert streamed == up.TEXT
            tool_stream = sync.chat.completions.create(model="gpt-4o-mini", messages=ASK, tools=TOOLS_OPENAI,
                                                       stream=True)
            assert len(list(tool_stream)) == 5
            assert asyncio.run(async_calls()) == (up.TEXT, up.TEXT)
    flushed(fd)

    spans = recorded(server, s.id)
    assert [sp["name"] for sp in spans] == ["chat gpt-4o-mini"] * 6
    usage = {"input_tokens": 21, "output_tokens": 7}
    plain_span, tool_span, stream_span, tool_stream_span, async_plain, async_stream = spans
    for sp in spans:
        assert (sp["provider"], sp["model"], sp["status"]) == ("openai", "gpt-4o-mini", "ok")
        assert sp["input"] == ASK
        assert (sp["agent"], sp["parent_id"]) == ("planner", planner.span_id)
        assert sp["attributes"].get("response.model") == "gpt-4o-mini-2024-07-18", sp
    assert plain_span["params"] == {"temperature": 0.2}
    assert plain_span["output"] == {"role": "assistant", "content": up.TEXT}
    assert plain_span["usage"] == usage and plain_span["cost_usd"] > 0
    assert tool_span["params"]["tools"] == TOOLS_OPENAI
    assert tool_span["output"]["tool_calls"] == [CALL]
    assert tool_span["attributes"]["finish_reason"] == "tool_calls"
    assert stream_span["output"] == {"role": "assistant", "content": up.TEXT}
    assert stream_span["usage"] == usage
    assert stream_span["params"] == {"stream_options": {"include_usage": True}}
    assert tool_stream_span["output"] == {"role": "assistant", "content": None, "tool_calls": [CALL]}
    assert "usage" not in tool_stream_span or tool_stream_span["usage"] is None
    assert async_plain["output"]["content"] == up.TEXT and async_plain["usage"] == usage
    assert async_stream["output"]["content"] == up.TEXT and async_stream["usage"] == usage


def test_openai_responses_plain_streaming_tools_and_async(fd, server, llm):
    sync, asy = openai_clients(llm)
    fd.instrument_openai(sync)
    fd.instrument_openai(asy)

    async def async_stream():
        stream = await asy.responses.create(model="gpt-4o", input="When?", stream=True)
        return "".join([e.delta async for e in stream if e.type == "response.output_text.delta"])

    with fd.session("openai responses") as s:
        plain = sync.responses.create(model="gpt-4o", instructions="You plan heists.", input="When?")
        assert plain.output_text == up.TEXT
        called = sync.responses.create(model="gpt-4o", input=ASK, tools=TOOLS_RESPONSES)
        assert called.output[0].name == "scan_cameras"
        events = list(sync.responses.create(model="gpt-4o", input="When?", stream=True))
        assert events[-1].type == "response.completed"
        assert asyncio.run(async_stream()) == up.TEXT
    flushed(fd)

    plain_span, tool_span, stream_span, async_span = recorded(server, s.id)
    usage = {"input_tokens": 19, "output_tokens": 6}
    assert plain_span["name"] == "response gpt-4o"
    assert plain_span["input"] == [{"role": "system", "content": "You plan heists."}, {"role": "user", "content": "When?"}]
    assert plain_span["output"] == {"role": "assistant", "content": up.TEXT}
    assert plain_span["usage"] == usage
    assert tool_span["input"] == ASK and tool_span["params"]["tools"] == TOOLS_RESPONSES
    assert tool_span["output"] == {"role": "assistant", "content": None, "tool_calls": [CALL]}
    for sp in (stream_span, async_span):
        assert sp["output"] == {"role": "assistant", "content": up.TEXT}
        assert sp["usage"] == usage and sp["status"] == "ok"


def test_anthropic_messages_plain_streaming_tools_and_async(fd, server, llm):
    options = dict(base_url=llm.url, api_key="sk-ant-test", max_retries=0)
    sync, asy = anthropic.Anthropic(**options), anthropic.AsyncAnthropic(**options)
    fd.instrument_anthropic(sync)
    fd.instrument_anthropic(asy)

    async def async_calls():
        answer = await asy.messages.create(model="claude-sonnet-4", max_tokens=100, messages=ASK)
        stream = await asy.messages.create(model="claude-sonnet-4", max_tokens=100, messages=ASK, stream=True)
        n = len([e async for e in stream])
        return answer.content[0].text, n

    with fd.session("anthropic") as s:
        plain = sync.messages.create(model="claude-sonnet-4", max_tokens=100, system="You plan heists.", messages=ASK)
        assert plain.content[0].text == up.TEXT
        tool = sync.messages.create(model="claude-sonnet-4", max_tokens=100, messages=ASK, tools=TOOLS_ANTHROPIC)
        assert tool.content[0].type == "tool_use"
        events = list(sync.messages.create(model="claude-sonnet-4", max_tokens=100, messages=ASK, stream=True))
        assert events[-1].type == "message_stop"
        tool_events = list(sync.messages.create(model="claude-sonnet-4", max_tokens=100, messages=ASK,
                                                tools=TOOLS_ANTHROPIC, stream=True))
        assert len(tool_events) == 7
        assert asyncio.run(async_calls()) == (up.TEXT, 8)
    flushed(fd)

    spans = recorded(server, s.id)
    assert len(spans) == 6
    usage = {"input_tokens": 17, "output_tokens": 5}
    for sp in spans:
        assert (sp["name"], sp["provider"], sp["model"], sp["status"]) == (
            "chat claude-sonnet-4", "anthropic", "claude-sonnet-4", "ok")
        assert sp["usage"] == usage
        assert sp["params"]["max_tokens"] == 100
    plain_span, tool_span, stream_span, tool_stream_span, async_plain, async_stream = spans
    assert plain_span["input"] == [{"role": "system", "content": "You plan heists."}] + ASK
    assert plain_span["output"] == {"role": "assistant", "content": up.TEXT}
    assert plain_span["attributes"]["stop_reason"] == "end_turn"
    call = {"id": "toolu_1", "type": "function", "function": {"name": "scan_cameras", "arguments": json.dumps(up.TOOL_ARGS)}}
    assert tool_span["output"] == {"role": "assistant", "content": None, "tool_calls": [call]}
    assert tool_span["params"]["tools"] == TOOLS_ANTHROPIC
    assert stream_span["output"] == {"role": "assistant", "content": up.TEXT}
    assert tool_stream_span["output"]["tool_calls"] == [call]
    assert tool_stream_span["attributes"]["stop_reason"] == "tool_use"
    assert async_plain["output"]["content"] == up.TEXT
    assert async_stream["output"]["content"] == up.TEXT


def test_a_failed_call_fails_its_span(fd, server):
    client = fd.instrument_openai(openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="k", max_retries=0))
    with fd.session("unreachable") as s:
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.create(model="gpt-4o", messages=ASK)
    flushed(fd)
    [span] = recorded(server, s.id)
    assert span["status"] == "error" and span["error"].startswith("APIConnectionError")
