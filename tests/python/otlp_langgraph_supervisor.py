"""A LangGraph supervisor crew built with langgraph-supervisor (a supervisor agent that hands
work to a researcher and a coder through `transfer_to_*` tools, which raise LangGraph's
`ParentCommand` to move between agents), on scripted fake chat models, instrumented with
openinference-instrumentation-langchain and exported to Flightdeck over OTLP/HTTP.

supervisor -> researcher (calls search_docs) -> supervisor -> coder -> supervisor ->
researcher -> supervisor. Runs in session `langgraph-crew`; prints how many handoffs ran."""

import json

import otlp_export
from fake_chat import scripted
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from langgraph.prebuilt import create_react_agent  # what langgraph-supervisor documents
from langgraph_supervisor import create_supervisor
from openinference.instrumentation.langchain import LangChainInstrumentor

args = otlp_export.arguments()
finish = otlp_export.setup(args)
LangChainInstrumentor().instrument()


@tool
def search_docs(query: str) -> str:
    """Searches the bank's documentation."""
    return f"3 results for {query}"


researcher = create_react_agent(
    model=scripted(
        ("search_docs", {"query": "vault"}), "The vault opens at midnight.", "No alarms."
    ),
    tools=[search_docs],
    name="researcher",
    prompt="You research.",
)
coder = create_react_agent(
    model=scripted("def open_vault(): return 'midnight'"),
    tools=[],
    name="coder",
    prompt="You write code.",
)
supervisor = create_supervisor(
    [researcher, coder],
    model=scripted(
        ("transfer_to_researcher", {}),
        ("transfer_to_coder", {}),
        ("transfer_to_researcher", {}),
        "Done: the vault opens at midnight and the code is written.",
    ),
    prompt="You manage a researcher and a coder.",
).compile()

result = supervisor.invoke(
    {"messages": [HumanMessage(content="When does the vault open? Write code for it.")]},
    config={"metadata": {"session_id": "langgraph-crew"}},
)
handoffs = sum(
    1
    for m in result["messages"]
    if m.type == "tool" and m.name.startswith("transfer_to_")
)
answer = result["messages"][-1].content
print(json.dumps({"session": "langgraph-crew", "answer": answer, "handoffs": handoffs}))
finish()
