"""The OpenAI Python client instrumented with openinference-instrumentation-openai, calling a
fake OpenAI-compatible server on loopback, exporting to Flightdeck with the official OTLP
exporter (HTTP or gRPC). One chat call in session `--session`; prints the trace id."""

import json

import fake_openai
import openai
import otlp_export
from openinference.instrumentation import using_session
from openinference.instrumentation.openai import OpenAIInstrumentor

args = otlp_export.arguments()
finish = otlp_export.setup(args)
OpenAIInstrumentor().instrument()

client = openai.OpenAI(base_url=fake_openai.start(), api_key="sk-fake", max_retries=0)
with using_session("heist-" + args.protocol):
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You plan heists."},
            {"role": "user", "content": "When does the vault open?"},
        ],
        temperature=0.2,
    )
print(json.dumps({"session": "heist-" + args.protocol}))
finish()
