"""An app traced by OpenTelemetry whose OpenAI client also goes through Flightdeck's proxy
($PROXY_URL): the OTel GenAI instrumentation (opentelemetry-instrumentation-openai-v2) reports
each call as a span with gen_ai.response.id, the proxy records the same call. Three calls in
one turn whose root names the session: one without trace context (joined by the response id
alone), one that sends its W3C traceparent (the SDK's own propagator), and a streamed one that
sends it too. Spans are exported as they end (SimpleSpanProcessor). Prints the session id and
the root's span id."""

import json
import os

import openai
import otlp_export
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

args = otlp_export.arguments()
finish = otlp_export.setup(args)
OpenAIInstrumentor().instrument()

client = openai.OpenAI(base_url=os.environ["PROXY_URL"], api_key="sk-fake", max_retries=0)
question = [{"role": "user", "content": "When does the vault open?"}]
with trace.get_tracer("crew").start_as_current_span(
    "crew", attributes={"session.id": "proxied-1"}
) as root:
    client.chat.completions.create(model="gpt-4o", messages=question)
    context = {}
    propagate.inject(context)
    client.chat.completions.create(model="gpt-4o", messages=question, extra_headers=context)
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=question,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers=context,
    )
    for _ in stream:
        pass
    span_id = format(root.get_span_context().span_id, "016x")
print(json.dumps({"session": "proxied-1", "root": span_id, "traceparent": context["traceparent"]}))
finish()
