"""Shared by the OTLP test scripts: an OpenTelemetry SDK set up to export to Flightdeck with
the official OTLP exporters (HTTP or gRPC), one export per span or record (Simple*Processor),
so a script's data is on the server when the script ends."""

import argparse

from opentelemetry import _logs, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def arguments():
    """--endpoint (http://host:port of Flightdeck, or host:port of its gRPC listener),
    --protocol (http or grpc), --service (the resource's service.name)."""
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--protocol", choices=["http", "grpc"], default="http")
    p.add_argument("--service", default="otlp-test")
    return p.parse_args()


def setup(args, logs=False):
    """Installs global tracer (and logger) providers; returns a function that flushes and
    shuts them down."""
    resource = Resource.create({"service.name": args.service})
    tracer = TracerProvider(resource=resource)
    if args.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=args.endpoint, insecure=True)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=f"{args.endpoint}/v1/traces")
    tracer.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer)
    providers = [tracer]
    if logs:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        logger = LoggerProvider(resource=resource)
        logger.add_log_record_processor(
            SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{args.endpoint}/v1/logs"))
        )
        _logs.set_logger_provider(logger)
        providers.append(logger)

    def finish():
        for p in providers:
            p.force_flush()
            p.shutdown()

    return finish
