"""An agent with the OpenAI client and one tool: the model asks for the tool, the agent runs
it and sends the result back, and the final answer streams. Every call shows in Flightdeck
with its messages, tools, tool calls, usage and streamed text.

    OPENAI_API_KEY=... python sdk/python/examples/openai_agent.py
    # or against any OpenAI-compatible server: OPENAI_BASE_URL=http://127.0.0.1:8000/v1
"""

import json
import os

import openai

import flightdeck as fd

MODEL = os.environ.get("MODEL", "gpt-4o-mini")
TOOLS = [{"type": "function", "function": {
    "name": "scan_cameras", "description": "Counts the cameras on a floor of the bank.",
    "parameters": {"type": "object", "properties": {"floor": {"type": "integer"}}, "required": ["floor"]}}}]


@fd.tool
def scan_cameras(floor):
    return {"floor": floor, "cameras": 4}


def main():
    fd.init()
    client = fd.instrument_openai(openai.OpenAI(api_key=os.environ.get("OPENAI_API_KEY", "sk-none")))
    messages = [{"role": "system", "content": "You case banks."},
                {"role": "user", "content": "How many cameras are on floor 2, and when does the vault open?"}]
    with fd.session("casing the bank", tags=["example", "openai"]) as session:
        with fd.agent("scout", model=MODEL):
            answer = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
            message = answer.choices[0].message
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls or ():
                result = scan_cameras(**json.loads(call.function.arguments))
                messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
            stream = client.chat.completions.create(model=MODEL, messages=messages, stream=True,
                                                    stream_options={"include_usage": True})
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    print(chunk.choices[0].delta.content, end="", flush=True)
            print()
    fd.flush()
    print(f"session {session.id}")


if __name__ == "__main__":
    main()
