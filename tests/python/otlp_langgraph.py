"""A small LangGraph multi-agent graph on fake chat models, instrumented with
openinference-instrumentation-langchain and exported to Flightdeck over OTLP/HTTP.

supervisor -> research_agent (a subgraph: call_model <-> tools, which calls scan_cameras)
           -> writer_agent (one model call). Runs in session `langgraph-heist`."""

import json

import otlp_export
from fake_chat import USAGE, ToolCallingFakeModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from openinference.instrumentation.langchain import LangChainInstrumentor

args = otlp_export.arguments()
finish = otlp_export.setup(args)
LangChainInstrumentor().instrument()

@tool
def scan_cameras(floor: int) -> str:
    """Counts the cameras on a floor of the bank."""
    return f"{floor * 2} cameras on floor {floor}"


researcher = ToolCallingFakeModel(
    messages=iter(
        [
            AIMessage(
                content="",
                tool_calls=[{"name": "scan_cameras", "args": {"floor": 2}, "id": "call_1"}],
                usage_metadata=USAGE,
            ),
            AIMessage(content="Floor 2 has 4 cameras.", usage_metadata=USAGE),
        ]
    )
)
writer = GenericFakeChatModel(
    messages=iter([AIMessage(content="Plan: loop the camera feed.", usage_metadata=USAGE)])
)


def call_model(state: MessagesState):
    return {"messages": [researcher.invoke(state["messages"])]}


def route(state: MessagesState):
    return "tools" if state["messages"][-1].tool_calls else END


research = StateGraph(MessagesState)
research.add_node("call_model", call_model)
research.add_node("tools", ToolNode([scan_cameras]))
research.add_edge(START, "call_model")
research.add_conditional_edges("call_model", route, ["tools", END])
research.add_edge("tools", "call_model")


def supervisor(state: MessagesState):
    return {"messages": [AIMessage(content="research first, then write")]}


def writer_agent(state: MessagesState):
    return {"messages": [writer.invoke(state["messages"])]}


graph = StateGraph(MessagesState)
graph.add_node("supervisor", supervisor)
graph.add_node("research_agent", research.compile())
graph.add_node("writer_agent", writer_agent)
graph.add_edge(START, "supervisor")
graph.add_edge("supervisor", "research_agent")
graph.add_edge("research_agent", "writer_agent")
graph.add_edge("writer_agent", END)

result = graph.compile().invoke(
    {"messages": [HumanMessage(content="How do we get past the cameras?")]},
    config={"metadata": {"session_id": "langgraph-heist"}},
)
print(json.dumps({"session": "langgraph-heist", "answer": result["messages"][-1].content}))
finish()
