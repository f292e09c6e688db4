"""OpenTelemetry metrics through the official OTLP metric exporters (HTTP or gRPC): a counter,
an up-down counter, a histogram and an observable gauge, some points filed in a session by
a `session.id` attribute. Exports once at the end (force_flush) and prints the session id.

Usage: otlp_metrics.py --endpoint URL --protocol http|grpc
"""

import json
import uuid

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.metrics import Observation

from otlp_export import arguments

args = arguments()
if args.protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

    exporter = OTLPMetricExporter(endpoint=args.endpoint, insecure=True)
else:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    exporter = OTLPMetricExporter(endpoint=f"{args.endpoint}/v1/metrics")

# A long interval: the one export is the flush at the end.
reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
provider = MeterProvider(resource=Resource.create({"service.name": "metrics-test"}), metric_readers=[reader])
meter = provider.get_meter("crew.jobs")
session = f"metrics-{uuid.uuid4().hex[:8]}"

completed = meter.create_counter("queue.jobs.completed", unit="{job}")
queued = meter.create_up_down_counter("queue.jobs.queued", unit="{job}")
wait = meter.create_histogram("queue.wait", unit="s")
meter.create_observable_gauge("agent.memory.usage", unit="By",
                              callbacks=[lambda _: [Observation(123_456_789, {"agent": "coder", "session.id": session})]])

for n in range(5):
    completed.add(1, {"queue": "jobs", "session.id": session})
queued.add(7, {"queue": "jobs"})
queued.add(-2, {"queue": "jobs"})
for s in (0.5, 1.5, 4.0):
    wait.record(s, {"queue": "jobs"})

ok = provider.force_flush()
provider.shutdown()
print(json.dumps({"session": session, "flushed": ok}))
