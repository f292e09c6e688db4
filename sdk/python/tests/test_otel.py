"""`flightdeck.otel.LiveSpanProcessor` with the real opentelemetry-sdk: a running span shows
in Flightdeck before it ends, and merges with the finished span the OTLP exporter sends."""

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from flightdeck.otel import LiveSpanProcessor


def test_running_spans_show_before_they_end_and_merge_with_the_exported_ones(server):
    global_provider = trace.get_tracer_provider()
    provider = TracerProvider(resource=Resource.create({"service.name": "crew"}))
    live = LiveSpanProcessor(url=server.url)
    provider.add_span_processor(live)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=server.url + "/v1/traces")))
    tracer = provider.get_tracer("heist", "1.0")

    with tracer.start_as_current_span("plan", attributes={"session.id": "otel-live-1",
                                                          "gen_ai.agent.name": "planner"}) as plan:
        with tracer.start_as_current_span("chat gpt-4o", attributes={"gen_ai.operation.name": "chat",
                                                                     "gen_ai.request.model": "gpt-4o"}) as chat:
            assert live.force_flush(10_000)
            running = server.by_name("otel-live-1")
            assert set(running) == {"plan", "chat gpt-4o"}
            assert {sp["status"] for sp in running.values()} == {"running"}
            llm = running["chat gpt-4o"]
            assert (llm["kind"], llm["model"], llm["agent"]) == ("llm", "gpt-4o", "planner")
            assert llm["span_id"] == format(chat.get_span_context().span_id, "016x")
            assert llm["parent_id"] == format(plan.get_span_context().span_id, "016x")
    with tracer.start_as_current_span("no session") as lone:
        assert live.force_flush(10_000)
        trace_id = format(lone.get_span_context().trace_id, "032x")
        assert [sp["status"] for sp in server.spans(trace_id)] == ["running"], "a trace is its own session"
    assert provider.force_flush(10_000)

    done = server.by_name("otel-live-1")
    assert set(done) == {"plan", "chat gpt-4o"}, "the finished spans merged with the running ones"
    assert {sp["status"] for sp in done.values()} == {"ok"}
    assert done["chat gpt-4o"]["kind"] == "llm"
    assert [sp["status"] for sp in server.spans(trace_id)] == ["ok"]
    assert live.stats().sent == 3 and live.stats().dropped == 0
    assert trace.get_tracer_provider() is global_provider, "the app's global provider is left alone"
    provider.shutdown()
