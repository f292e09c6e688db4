"""The OpenAI Python client instrumented with opentelemetry-instrumentation-openai-v2 (the
OTel GenAI instrumentation), message content capture on: with SPAN_ONLY the messages are
JSON on the span, with EVENT_ONLY they come as a gen_ai.client.inference.operation.details
log record on /v1/logs. Set OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT before
running. Prints the trace id, which is the session id (no session attribute is sent)."""

import json

import fake_openai
import openai
import otlp_export
from opentelemetry import trace
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

args = otlp_export.arguments()
finish = otlp_export.setup(args, logs=True)
OpenAIInstrumentor().instrument()

client = openai.OpenAI(base_url=fake_openai.start(), api_key="sk-fake", max_retries=0)
with trace.get_tracer("heist").start_as_current_span("plan the heist") as root:
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You plan heists."},
            {"role": "user", "content": "When does the vault open?"},
        ],
    )
    trace_id = format(root.get_span_context().trace_id, "032x")
print(json.dumps({"session": trace_id}))
finish()
