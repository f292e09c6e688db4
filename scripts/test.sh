#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the suites need, idempotently, then
# runs every suite and the lint gates. Keep it under 30 minutes on a clean 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup"
# Real Python clients (openai, anthropic, OpenTelemetry) for the protocol tests, and pytest for
# the Python SDK's suite.
FLIGHTDECK_PYTHON=$(scripts/python-env.sh)
export FLIGHTDECK_PYTHON
# Debian's Chromium and playwright-core for the browser tests.
scripts/ui-test-env.sh
# PostgreSQL for the PostgreSQL store's tests: each test process starts a throwaway cluster of
# its own with scripts/postgres.sh (or uses the server FLIGHTDECK_TEST_POSTGRES names).
scripts/postgres.sh install

echo "== formatting"
cargo fmt --all -- --check

echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests"
cargo test --workspace --locked

echo "== Python SDK tests"
# The SDK installed as a user installs it (not editable), then its suite against the binary.
cargo build --locked -p flightdeck
"$FLIGHTDECK_PYTHON" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps \
  --force-reinstall ./sdk/python
status=0
FLIGHTDECK_BIN=target/debug/flightdeck "$FLIGHTDECK_PYTHON" -m pytest sdk/python/tests -q -p no:cacheprovider \
  || status=$?
if [ "$status" -ne 0 ]; then
  echo "Python SDK tests FAILED (pytest exit $status; 5 means no test ran)" >&2
  exit 1
fi

echo "== browser tests"
# The debug binary (built by the tests above) serves ui/ from disk; the fake LLM is the
# upstream of the proxy's review gates.
cargo build --locked -p flightdeck -p flightdeck-fake-llm
FLIGHTDECK_BIN=target/debug/flightdeck FAKE_LLM_BIN=target/debug/fake-llm \
  node --test ui/tests/ui.test.mjs ui/tests/reviews.test.mjs ui/tests/proxy-gates.test.mjs \
  ui/tests/ops.test.mjs ui/tests/tree.test.mjs ui/tests/session-page.test.mjs ui/tests/graph.test.mjs \
  ui/tests/replay.test.mjs \
  ui/tests/playground.test.mjs \
  ui/tests/share.test.mjs
