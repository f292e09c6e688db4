"""A chat app as most users write it: the OpenAI client instrumented with the OTel GenAI
instrumentation (opentelemetry-instrumentation-openai-v2), spans exported one by one as they
end (SimpleSpanProcessor, so every call reaches Flightdeck before its turn's root), and the
session named on each turn's root span alone, with the attribute in $SESSION_ATTRIBUTE
(`session.id` or `gen_ai.conversation.id`). Two turns (two traces) of two calls each. Prints
the session id."""

import json
import os

import fake_openai
import openai
import otlp_export
from opentelemetry import trace
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

args = otlp_export.arguments()
finish = otlp_export.setup(args)
OpenAIInstrumentor().instrument()

attribute = os.environ["SESSION_ATTRIBUTE"]
session = f"chat-{attribute}"
client = openai.OpenAI(base_url=fake_openai.start(), api_key="sk-fake", max_retries=0)
tracer = trace.get_tracer("chat-app")
for turn, question in enumerate(["When does the vault open?", "And when does it close?"]):
    with tracer.start_as_current_span(f"turn {turn + 1}", attributes={attribute: session}):
        for _ in range(2):
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": question}],
            )
print(json.dumps({"session": session}))
finish()
