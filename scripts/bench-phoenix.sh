#!/usr/bin/env bash
# Flightdeck and Arize Phoenix side by side, in one run, on the same OTLP/HTTP protobuf
# payloads: `flightdeck bench otlp` measures Flightdeck (spans durable and queryable when the
# answer comes) and saves its request bodies; Phoenix (pinned, its default SQLite store, on
# loopback) is then sent the same bodies, timed until its database holds every span (it answers
# before it stores). Prints both figures and the ratio.
#
# Usage: scripts/bench-phoenix.sh [SPANS]   (default 5000; Phoenix stores ~100 spans/s here)
# Phoenix is installed into $PHOENIX_VENV (default .venv-phoenix) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
spans=${1:-5000}
venv=${PHOENIX_VENV:-.venv-phoenix}
port=${PHOENIX_BENCH_PORT:-16006}
target=${CARGO_TARGET_DIR:-target}

if [ ! -x "$venv/bin/phoenix" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check arize-phoenix==20.26.1 >&2
fi
cargo build --release --quiet -p flightdeck

tmp=$(mktemp -d)
phoenix=""
cleanup() {
  if [ -n "$phoenix" ]; then kill "$phoenix" 2>/dev/null || true; wait "$phoenix" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== Flightdeck"
"$target/release/flightdeck" bench otlp --spans "$spans" --save-payloads "$tmp/payloads" \
  --dir "$tmp/flightdeck" 2>/dev/null | tee "$tmp/flightdeck.txt"
flightdeck=$(sed -n 's|^OTLP / native: .*(\([0-9]*\) vs .*|\1|p' "$tmp/flightdeck.txt")

echo "== Arize Phoenix $("$venv/bin/python" -c 'import phoenix; print(phoenix.__version__)')"
PHOENIX_WORKING_DIR="$tmp/phoenix" PHOENIX_HOST=127.0.0.1 PHOENIX_PORT="$port" \
  PHOENIX_GRPC_PORT=$((port + 1)) "$venv/bin/phoenix" serve >"$tmp/phoenix.log" 2>&1 &
phoenix=$!
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
result=$("$venv/bin/python" scripts/bench_phoenix_send.py "http://127.0.0.1:$port" \
  "$tmp/payloads" "$spans" "$tmp/phoenix/phoenix.db")
echo "$result"

"$venv/bin/python" - "$flightdeck" "$result" <<'PY'
import json, sys
flightdeck, phoenix = float(sys.argv[1]), json.loads(sys.argv[2])
visible = phoenix["visible_spans_per_s"]
print(f"\nFlightdeck OTLP/HTTP: {flightdeck:.0f} spans/s (durable when acknowledged)")
print(f"Arize Phoenix:        {visible:.0f} spans/s visible "
      f"({phoenix['stored']} of {phoenix['spans']} stored; acknowledged at "
      f"{phoenix['acknowledged_spans_per_s']:.0f} spans/s)")
print(f"Flightdeck / Phoenix: {flightdeck / max(visible, 1e-9):.0f}x")
PY
