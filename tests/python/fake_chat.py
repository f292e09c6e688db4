"""Scripted LangChain chat models for the LangGraph tests: langchain-core's fake models, made
usable by agents (which bind tools), answering a fixed list of turns with usage."""

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

USAGE = {"input_tokens": 30, "output_tokens": 12, "total_tokens": 42}


class ToolCallingFakeModel(GenericFakeChatModel):
    """langchain-core's fake chat models do not implement bind_tools; agents need it."""

    def bind_tools(self, tools, **kwargs):
        return self


def scripted(*turns):
    """A fake model answering with `turns` in order: text, or (tool name, arguments)."""
    messages = []
    for n, turn in enumerate(turns):
        if isinstance(turn, tuple):
            name, arguments = turn
            call = {"name": name, "args": arguments, "id": f"call_{name}_{n}"}
            messages.append(AIMessage(content="", tool_calls=[call], usage_metadata=USAGE))
        else:
            messages.append(AIMessage(content=turn, usage_metadata=USAGE))
    return ToolCallingFakeModel(messages=iter(messages))
