"""Agents that know nothing of review gates: the official openai and anthropic clients call
a fake upstream (whose model `narrator` says a sentence before each tool call) through Flightdeck's proxy, whose gates hold answers that call a gated tool
until a person (the Rust test) decides. Prints one JSON line per step, flushed, so the test
can act while a call is held:
  {"case": C, "event": "call"}                  the call is about to be made
  {"case": C, "event": "text", "text": T}      streamed text reached the client
  {"case": C, "result": {...}}                  what the client finally got (or raised)

Usage: proxy_gates.py PROXY_URL [CASE]   (every case, or only CASE)
"""

import json
import sys

import anthropic
import openai

proxy = sys.argv[1]
KEY = "sk-test-gates"
MESSAGES = [{"role": "user", "content": "Clean up the vault directory."}]
DELETE = {"type": "function", "function": {"name": "delete_file", "description": "Delete a file",
          "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "force": {"type": "boolean"}}}}}
READ = {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object", "properties": {}}}}
ANTHROPIC_DELETE = {"name": "delete_file", "description": "Delete a file",
                    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}


def say(case, **what):
    print(json.dumps({"case": case, **what}), flush=True)


def openai_client(case, headers=None):
    h = {"x-flightdeck-session": case, "x-flightdeck-agent": "janitor", **(headers or {})}
    return openai.OpenAI(base_url=f"{proxy}/openai/v1", api_key=KEY, max_retries=0, default_headers=h)


def anthropic_client(case, headers):
    h = {"x-flightdeck-session": case, "x-flightdeck-agent": "janitor", **headers}
    return anthropic.Anthropic(base_url=f"{proxy}/anthropic", api_key=KEY, max_retries=0, default_headers=h)


def chat(case, tools=(DELETE,)):
    r = openai_client(case).chat.completions.create(model="narrator", messages=MESSAGES, tools=list(tools))
    m = r.choices[0].message
    return {"text": m.content, "calls": [{"name": c.function.name, "arguments": json.loads(c.function.arguments)} for c in m.tool_calls or []]}


def chat_stream(case):
    stream = openai_client(case).chat.completions.create(model="narrator", messages=MESSAGES, tools=[DELETE], stream=True)
    text, calls = "", {}
    for chunk in stream:
        delta = chunk.choices[0].delta if chunk.choices else None
        if delta is None:
            continue
        if delta.content:
            if not text:
                say(case, event="text", text=delta.content)
            text += delta.content
        for c in delta.tool_calls or []:
            slot = calls.setdefault(c.index, {"name": "", "arguments": ""})
            if c.function and c.function.name:
                slot["name"] += c.function.name
            if c.function and c.function.arguments:
                slot["arguments"] += c.function.arguments
    return {"text": text, "calls": [{"name": c["name"], "arguments": json.loads(c["arguments"])} for c in calls.values()]}


RESPONSES_DELETE = {"type": "function", "name": "delete_file", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}


def responses_stream(case):
    stream = openai_client(case).responses.create(model="gpt-4o", input=MESSAGES[0]["content"], tools=[RESPONSES_DELETE], stream=True)
    pieces, final = "", None
    for event in stream:
        if event.type == "response.function_call_arguments.delta":
            pieces += event.delta
        elif event.type == "response.completed":
            final = [{"name": o.name, "arguments": json.loads(o.arguments)} for o in event.response.output if o.type == "function_call"]
    return {"calls": final, "streamed_arguments": json.loads(pieces)}


def anthropic_stream(case, headers):
    with anthropic_client(case, headers).messages.stream(model="claude-sonnet-4", max_tokens=64, messages=MESSAGES, tools=[ANTHROPIC_DELETE]) as s:
        for text in s.text_stream:
            say(case, event="text", text=text)
        final = s.get_final_message()
    return {"calls": [{"name": b.name, "arguments": b.input} for b in final.content if b.type == "tool_use"]}


def anthropic_plain(case, headers):
    m = anthropic_client(case, headers).messages.create(model="claude-sonnet-4", max_tokens=64, messages=MESSAGES, tools=[ANTHROPIC_DELETE])
    return {"calls": [{"name": b.name, "arguments": b.input} for b in m.content if b.type == "tool_use"]}


GATE = {"x-flightdeck-review": "delete_*"}
CASES = {
    "chat-approve": lambda c: chat(c),
    "chat-edit": lambda c: chat(c),
    "chat-exit": lambda c: chat(c),
    "chat-not-gated": lambda c: chat(c, tools=(READ,)),
    "chat-stream-edit": chat_stream,
    "chat-stream-exit": chat_stream,
    "responses-stream-edit": responses_stream,
    "anthropic-stream-edit": lambda c: anthropic_stream(c, GATE),
    "anthropic-timeout": lambda c: anthropic_plain(c, {**GATE, "x-flightdeck-review-timeout": "1", "x-flightdeck-review-on-timeout": "exit_early"}),
}

for case, run in CASES.items():
    if len(sys.argv) > 2 and case != sys.argv[2]:
        continue
    say(case, event="call")
    try:
        result = run(case)
    except Exception as e:  # noqa: BLE001 - what the client raises is the result
        result = {"error": type(e).__name__, "status": getattr(e, "status_code", None), "message": str(e)}
    say(case, result=result)
