"""Writes an OTLP protobuf trace file with the real OpenTelemetry Python SDK.

The Python SDK has no file exporter, so this is a small SpanExporter that encodes each batch
with the SDK's own OTLP encoder (`encode_spans`, what its OTLP/HTTP exporter sends) and
appends it as the OpenTelemetry Collector's file exporter writes `proto` files: each export
request after its length (4 bytes, big-endian). The spans are a small agent run named by
OpenInference and GenAI attributes: an agent span, an LLM call under it, a failed tool call.

Usage: otlp_file.py OUT.pb
"""

import struct
import sys

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode


class FileExporter(SpanExporter):
    def __init__(self, path):
        self.out = open(path, "ab")

    def export(self, spans):
        body = encode_spans(spans).SerializeToString()
        self.out.write(struct.pack(">I", len(body)) + body)
        self.out.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self):
        self.out.close()


provider = TracerProvider(resource=Resource.create({"service.name": "file-crew"}))
provider.add_span_processor(SimpleSpanProcessor(FileExporter(sys.argv[1])))
tracer = provider.get_tracer("otlp_file")

with tracer.start_as_current_span("planner", attributes={
    "openinference.span.kind": "AGENT", "agent.name": "planner", "session.id": "py-file-1",
}):
    with tracer.start_as_current_span("chat gpt-4o", attributes={
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 21, "gen_ai.usage.output_tokens": 7,
    }):
        pass
    with tracer.start_as_current_span("grep", attributes={"openinference.span.kind": "TOOL"}) as span:
        span.set_status(Status(StatusCode.ERROR, "no match"))
provider.shutdown()
