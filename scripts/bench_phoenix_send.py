"""Sends saved OTLP/HTTP protobuf request bodies (`flightdeck bench otlp --save-payloads DIR`)
to a receiver with a few concurrent clients, then waits until its SQLite database shows every
span, and prints spans/s acknowledged and spans/s visible as JSON.

Usage: bench_phoenix_send.py URL PAYLOAD_DIR SPANS DB [CLIENTS] [TIMEOUT_S]
(Arize Phoenix answers before it stores, so "visible" is the figure to compare.)"""

import json
import sqlite3
import sys
import threading
import time
import urllib.request
from pathlib import Path

url, payloads, spans, db = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
clients = int(sys.argv[5]) if len(sys.argv) > 5 else 4
timeout_s = float(sys.argv[6]) if len(sys.argv) > 6 else 600.0

bodies = [p.read_bytes() for p in sorted(payloads.glob("*.pb"))]
queue = list(reversed(bodies))
lock = threading.Lock()
failures = []


def send():
    while True:
        with lock:
            if not queue:
                return
            body = queue.pop()
        req = urllib.request.Request(
            f"{url}/v1/traces",
            data=body,
            headers={"content-type": "application/x-protobuf"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                r.read()
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(str(e))


def stored():
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return c.execute("SELECT count(*) FROM spans").fetchone()[0]
    except sqlite3.Error:
        return 0


start = time.monotonic()
threads = [threading.Thread(target=send) for _ in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
acked = time.monotonic() - start
seen = stored()
while seen < spans and time.monotonic() - start < timeout_s:
    time.sleep(0.25)
    seen = stored()
visible = time.monotonic() - start
print(
    json.dumps(
        {
            "spans": spans,
            "stored": seen,
            "failed_requests": len(failures),
            "acknowledged_s": round(acked, 2),
            "visible_s": round(visible, 2),
            "acknowledged_spans_per_s": round(spans / acked, 1),
            "visible_spans_per_s": round(seen / visible, 1),
        }
    )
)
