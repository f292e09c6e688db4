"""`instrument_anthropic(client)`: an LLM span for each `messages.create` call.

Works on `anthropic.Anthropic` and `anthropic.AsyncAnthropic`, plain and `stream=True`.
Recorded: the system prompt (as a system message) and messages, the parameters (tools
included), streamed text as it arrives, the assistant message with its `tool_use` blocks as
tool calls, usage, the response's model and stop reason.

With `FLIGHTDECK_REPLAY` set, the client is pointed at that replay's endpoint (`_replay.py`).
"""

import json

from .._replay import rebase
from ._llm import Accumulator, patch, params_of, tool_call, wrap_call


def instrument(client, *, name=None, agent=None):
    """Instruments `client` in place and returns it."""
    import anthropic

    MessagesAccumulator.stream_types = (anthropic.Stream, anthropic.AsyncStream)
    rebase(client, "anthropic")
    fields = {"agent": agent} if agent else {}

    def messages(kwargs):
        model = kwargs.get("model")
        system = kwargs.get("system")
        given = list(kwargs.get("messages") or ())
        return name or f"chat {model}", dict(fields, provider="anthropic", model=model,
                                             input=([{"role": "system", "content": system}] if system else []) + given,
                                             params=params_of(kwargs, ("messages", "model", "system")))

    patch(client.messages, "create", wrap_call(MessagesAccumulator, messages))
    return client


class MessagesAccumulator(Accumulator):
    def read(self, message):
        self.attributes["response.model"] = message.model
        self.attributes["stop_reason"] = message.stop_reason
        text, calls = [], []
        for block in message.content:
            if block.type == "text":
                text.append(block.text)
            elif block.type == "tool_use":
                calls.append(tool_call(block.id, block.name, json.dumps(block.input)))
        self.output = {"role": "assistant", "content": "".join(text) or None}
        if calls:
            self.output["tool_calls"] = calls
        self.usage = (message.usage.input_tokens or 0, message.usage.output_tokens or 0)

    def add(self, event):
        kind = event.type
        if kind == "message_start":
            self.attributes["response.model"] = event.message.model
            self.usage = (event.message.usage.input_tokens or 0, event.message.usage.output_tokens or 0)
        elif kind == "content_block_start" and event.content_block.type == "tool_use":
            block = event.content_block
            self.tool_calls[event.index] = {"id": block.id, "name": block.name, "arguments": ""}
        elif kind == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta":
                self.chunk(delta.text)
            elif delta.type == "input_json_delta" and event.index in self.tool_calls:
                self.tool_calls[event.index]["arguments"] += delta.partial_json
        elif kind == "message_delta":
            self.attributes["stop_reason"] = event.delta.stop_reason
            if event.usage is not None and self.usage is not None:
                self.usage = (self.usage[0], event.usage.output_tokens or 0)
