"""An OpenAI Agents SDK app with a handoff (triage hands the job to coder), on the scripted
fake OpenAI server (fake_openai.py: it calls the first tool offered, then answers), traced by
openinference-instrumentation-openai-agents and exported to Flightdeck over OTLP/HTTP.

The instrumentor replaces the SDK's own trace processors (exclusive_processor), so nothing is
sent to OpenAI's trace endpoint. The workflow is named `heist planning`; no session attribute
is sent, so the session is the trace, found by its name."""

import asyncio
import json

import fake_openai
import otlp_export
from agents import Agent, OpenAIChatCompletionsModel, RunConfig, Runner
from openai import AsyncOpenAI
from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

args = otlp_export.arguments()
finish = otlp_export.setup(args)
OpenAIAgentsInstrumentor().instrument(exclusive_processor=True)

client = AsyncOpenAI(base_url=fake_openai.start(), api_key="sk-fake", max_retries=0)
model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client)
coder = Agent(name="coder", instructions="You write code.", model=model)
triage = Agent(
    name="triage",
    instructions="Hand coding work to the coder.",
    model=model,
    handoffs=[coder],
)

result = asyncio.run(
    Runner.run(
        triage,
        "Write code that opens the vault.",
        run_config=RunConfig(workflow_name="heist planning"),
    )
)
print(json.dumps({"workflow": "heist planning", "answer": result.final_output,
                  "last_agent": result.last_agent.name}))
finish()
