"""`LiveSpanProcessor`: running OpenTelemetry spans show in Flightdeck before they end.

OTLP only carries finished spans. This `SpanProcessor` sends, when a span starts, a Logfire
"pending span" for it to Flightdeck's `POST /v1/traces` (OTLP/JSON): a zero-length span whose
parent is the real span, with `logfire.span_type = pending_span` and
`logfire.pending_parent_id` the real span's parent. Flightdeck turns it into a `span.start` of
the real span, through the same OTLP mapping (session, agent, kind, model) the finished span
takes, so the two merge. The finished span still travels through the app's own exporter:
point an OTLP exporter at Flightdeck too (a `BatchSpanProcessor` with the OTLP/HTTP or gRPC
exporter), or the span stays running.

```python
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
import flightdeck.otel
provider = TracerProvider()
provider.add_span_processor(flightdeck.otel.LiveSpanProcessor())     # starts, live
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # ends, as usual
trace.set_tracer_provider(provider)
```

It is added to a provider like any processor and never replaces the app's global tracer
provider. Starts are sent from a background thread in batches; while the server is away
they are kept in memory (at most `capacity`) and retried, never spooled: the finished spans
are what must not be lost. Requires `opentelemetry-sdk`.
"""

import os
import weakref

from opentelemetry.sdk.trace import SpanProcessor

from ._client import DEFAULT_URL
from ._delivery import Delivery
from ._spool import MemoryBacklog
from ._transport import HttpTransport

_NO_PARENT = "0" * 16


def _value(v):
    """An attribute value in the OTLP/JSON mapping."""
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, (list, tuple)):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    return {"stringValue": str(v)}


def _attributes(mapping):
    return [{"key": str(k), "value": _value(v)} for k, v in (mapping or {}).items()]


def _request(lines):
    """An `ExportTraceServiceRequest` of pending spans, one resourceSpans entry each."""
    return ('{"resourceSpans":[' + ",".join(lines) + "]}").encode()


class LiveSpanProcessor(SpanProcessor):
    """Tells Flightdeck when each span starts; see the module's documentation."""

    def __init__(self, url=None, token=None, *, capacity=10_000, max_batch=512, linger=0.05, timeout=10.0):
        self._options = dict(url=url or os.environ.get("FLIGHTDECK_URL") or DEFAULT_URL,
                             token=token if token is not None else os.environ.get("FLIGHTDECK_TOKEN"),
                             capacity=capacity, max_batch=max_batch, linger=linger, timeout=timeout)
        self._delivery = self._new_delivery()
        if hasattr(os, "register_at_fork"):
            me = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: me() is not None and me()._forked())

    def _new_delivery(self):
        o = self._options
        transport = HttpTransport(o["url"], o["token"], o["timeout"], path="/v1/traces",
                                  content_type="application/json")
        return Delivery(transport, MemoryBacklog(o["capacity"]), capacity=o["capacity"], max_batch=o["max_batch"],
                        linger=o["linger"], body=_request)

    def _forked(self):
        self._delivery = self._new_delivery()

    def on_start(self, span, parent_context=None):
        ctx = span.get_span_context()
        parent = span.parent
        scope = span.instrumentation_scope
        pending = {
            "traceId": format(ctx.trace_id, "032x"),
            "spanId": os.urandom(8).hex(),
            "parentSpanId": format(ctx.span_id, "016x"),
            "name": f"{span.name} (pending)",
            "kind": span.kind.value + 1,  # the OTLP enum counts UNSPECIFIED first
            "startTimeUnixNano": str(span.start_time),
            "endTimeUnixNano": str(span.start_time),
            "attributes": _attributes(span.attributes) + _attributes({
                "logfire.span_type": "pending_span",
                "logfire.pending_parent_id": format(parent.span_id, "016x") if parent else _NO_PARENT,
            }),
        }
        self._delivery.put({
            "resource": {"attributes": _attributes(span.resource.attributes if span.resource else None)},
            "scopeSpans": [{"scope": {"name": scope.name, "version": scope.version or ""} if scope else {},
                            "spans": [pending]}],
        })

    def on_end(self, span):
        pass

    def shutdown(self):
        self._delivery.shutdown(self._options["timeout"])

    def force_flush(self, timeout_millis=30000):
        return self._delivery.flush(timeout_millis / 1000.0)

    def stats(self):
        """Counters of the starts sent (as `flightdeck.stats()`)."""
        return self._delivery.snapshot()
