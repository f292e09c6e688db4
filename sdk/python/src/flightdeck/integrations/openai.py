"""`instrument_openai(client)`: an LLM span for each chat completion and Responses API call.

Works on `openai.OpenAI` and `openai.AsyncOpenAI` (and Azure's), plain and `stream=True`.
Recorded: the messages (with the Responses API's `instructions` as a system message), the
parameters (tools included), streamed text as it arrives, the assistant message with its
tool calls, usage, the response's model and finish reason. Stream usage needs
`stream_options={"include_usage": True}`, as with the API itself.

With `FLIGHTDECK_REPLAY` set, the client is pointed at that replay's endpoint (`_replay.py`).
"""

from .._replay import rebase
from ._llm import Accumulator, patch, params_of, tool_call, wrap_call


def instrument(client, *, name=None, agent=None):
    """Instruments `client` in place and returns it."""
    import openai

    ChatAccumulator.stream_types = ResponsesAccumulator.stream_types = (openai.Stream, openai.AsyncStream)
    rebase(client, "openai")
    base = _base_url(client)
    fields = {"agent": agent} if agent else {}

    def chat(kwargs):
        model = kwargs.get("model")
        return name or f"chat {model}", dict(fields, provider="openai", model=model, input=kwargs.get("messages"),
                                             params=params_of(kwargs, ("messages", "model")), attributes=base)

    def responses(kwargs):
        model = kwargs.get("model")
        return name or f"response {model}", dict(fields, provider="openai", model=model, input=_responses_input(kwargs),
                                                 params=params_of(kwargs, ("input", "instructions", "model")),
                                                 attributes=base)

    patch(client.chat.completions, "create", wrap_call(ChatAccumulator, chat))
    responses_resource = getattr(client, "responses", None)
    if responses_resource is not None:
        patch(responses_resource, "create", wrap_call(ResponsesAccumulator, responses))
    return client


def _base_url(client):
    url = getattr(client, "base_url", None)
    return {"server.url": str(url)} if url else None


def _responses_input(kwargs):
    messages = []
    if kwargs.get("instructions"):
        messages.append({"role": "system", "content": kwargs["instructions"]})
    given = kwargs.get("input")
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
    elif given is not None:
        messages.extend(given)
    return messages


def _usage(usage, input_key, output_key):
    if usage is None:
        return None
    return getattr(usage, input_key, 0) or 0, getattr(usage, output_key, 0) or 0


class ChatAccumulator(Accumulator):
    def read(self, completion):
        self._meta(completion)
        choice = completion.choices[0] if completion.choices else None
        if choice is not None:
            self.output = choice.message.model_dump(exclude_none=True)
            self.attributes["finish_reason"] = choice.finish_reason

    def add(self, chunk):
        self._meta(chunk)
        for choice in chunk.choices or ():
            if choice.index:
                continue  # n > 1: the first choice is recorded
            delta = choice.delta
            self.chunk(getattr(delta, "content", None))
            for call in getattr(delta, "tool_calls", None) or ():
                slot = self.tool_calls.setdefault(call.index, {"id": None, "name": "", "arguments": ""})
                slot["id"] = call.id or slot["id"]
                if call.function is not None:
                    slot["name"] += call.function.name or ""
                    slot["arguments"] += call.function.arguments or ""
            if choice.finish_reason:
                self.attributes["finish_reason"] = choice.finish_reason

    def _meta(self, answer):
        if getattr(answer, "model", None):
            self.attributes["response.model"] = answer.model
        usage = _usage(getattr(answer, "usage", None), "prompt_tokens", "completion_tokens")
        if usage is not None:
            self.usage = usage


class ResponsesAccumulator(Accumulator):
    def read(self, response):
        self.attributes["response.model"] = response.model
        self.attributes["status"] = response.status
        text, calls = [], []
        for item in response.output or ():
            if item.type == "message":
                text.extend(part.text for part in item.content if getattr(part, "type", "") == "output_text")
            elif item.type == "function_call":
                calls.append(tool_call(item.call_id, item.name, item.arguments))
        self.output = {"role": "assistant", "content": "".join(text) or None}
        if calls:
            self.output["tool_calls"] = calls
        self.usage = _usage(response.usage, "input_tokens", "output_tokens")

    def add(self, event):
        kind = getattr(event, "type", "")
        if kind == "response.output_text.delta":
            self.chunk(event.delta)
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self.read(event.response)
