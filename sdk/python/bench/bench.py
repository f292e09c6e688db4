"""Benchmark of the Python SDK against the OpenTelemetry SDK, in the same run, to the same
Flightdeck server. Prints figures and ratios; asserts nothing.

For each SDK, one process records N spans (start and end, nothing inside) under one root:

- caller: wall and CPU time on the caller's thread per span (what the agent pays);
- end to end: spans per second from the first start until the SDK's flush returned (every
  span acknowledged by the server, so durable), and the process's CPU per span over that
  time (the caller plus the SDK's background thread);
- stored: the spans the server holds afterwards (nothing may be missing).

OpenTelemetry runs with its `BatchSpanProcessor` (queue raised to N so it drops nothing) and
the OTLP/HTTP protobuf exporter, to Flightdeck's `/v1/traces`.

    python sdk/python/bench/bench.py [--spans N] [--bin target/release/flightdeck]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from conftest import ROOT, Server  # noqa: E402 - the tests' server fixture, reused


def measure(record, flush, n):
    """(caller wall s, caller CPU s, end-to-end wall s, process CPU s) of recording `n` spans."""
    cpu0, proc0 = time.thread_time(), time.process_time()
    t0 = time.perf_counter()
    record(n)
    t1 = time.perf_counter()
    cpu1 = time.thread_time()
    flush()
    t2 = time.perf_counter()
    return t1 - t0, cpu1 - cpu0, t2 - t0, time.process_time() - proc0


def flightdeck_run(url, n, spool):
    import flightdeck as fd

    fd.init(url=url, spool=spool)
    with fd.session("bench flightdeck") as s:
        with fd.span("root"):
            def record(count):
                for _ in range(count):
                    with fd.span("s"):
                        pass

            record(1000)  # warm up
            assert fd.flush(60)
            figures = measure(record, lambda: fd.flush(120), n)
    assert fd.flush(60)
    dropped = fd.stats().dropped
    fd.shutdown()
    return figures, [s.id], dropped


def otel_run(url, n):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url + "/v1/traces"),
                                                   max_queue_size=n + 2000))
    tracer = provider.get_tracer("bench")
    with tracer.start_as_current_span("root", attributes={"session.id": "bench-otel"}) as root:
        # Children end (and are exported) before the root that names the session: they are
        # filed under the trace id.
        trace_session = format(root.get_span_context().trace_id, "032x")

        def record(count):
            for _ in range(count):
                with tracer.start_as_current_span("s"):
                    pass

        record(1000)
        provider.force_flush(60_000)
        figures = measure(record, lambda: provider.force_flush(120_000), n)
    provider.force_flush(60_000)
    provider.shutdown()
    return figures, ["bench-otel", trace_session], 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=20_000)
    release = os.path.join(ROOT, "target", "release", "flightdeck")
    parser.add_argument("--bin", default=release if os.path.exists(release) else None)
    args = parser.parse_args()
    if args.bin:
        os.environ["FLIGHTDECK_BIN"] = args.bin
    n = args.spans
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(tmp).start()
        try:
            results = {"flightdeck": flightdeck_run(server.url, n, os.path.join(tmp, "spool")),
                       "opentelemetry": otel_run(server.url, n)}
            stored = {name: sum(len(server.spans(sid)) for sid in sids) - 1 - 1000
                      for name, (_, sids, _) in results.items()}
        finally:
            server.stop()
    version = subprocess.run([os.environ.get("FLIGHTDECK_BIN", "target/debug/flightdeck"), "--version"],
                             capture_output=True, text=True).stdout.strip()
    print(f"{n} spans per SDK, one process, Python {sys.version.split()[0]}, server {version} ({args.bin or 'debug'})")
    print(f"{'':15} {'caller µs/span':>15} {'caller CPU µs':>14} {'e2e spans/s':>12} {'CPU µs/span':>12} {'stored':>8}")
    rows = {}
    for name, ((wall, cpu, e2e, proc), _, dropped) in results.items():
        rows[name] = (wall / n * 1e6, cpu / n * 1e6, n / e2e, proc / n * 1e6)
        print(f"{name:15} {rows[name][0]:15.2f} {rows[name][1]:14.2f} {rows[name][2]:12.0f} {rows[name][3]:12.2f} "
              f"{stored[name]:>8}" + (f" ({dropped} dropped)" if dropped else ""))
    fd, ot = rows["flightdeck"], rows["opentelemetry"]
    print(f"ratio (OpenTelemetry / Flightdeck): caller time {ot[0] / fd[0]:.2f}x, caller CPU {ot[1] / fd[1]:.2f}x, "
          f"end-to-end rate {fd[2] / ot[2]:.2f}x, process CPU {ot[3] / fd[3]:.2f}x (above 1: Flightdeck's SDK is ahead)")


if __name__ == "__main__":
    main()
