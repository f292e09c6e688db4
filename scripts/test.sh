#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the suites need, idempotently, then
# runs every suite and the lint gates. Keep it under 30 minutes on a clean 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup"
# Real Python clients (openai, anthropic, OpenTelemetry) for the protocol tests.
FLIGHTDECK_PYTHON=$(scripts/python-env.sh)
export FLIGHTDECK_PYTHON

echo "== formatting"
cargo fmt --all -- --check

echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests"
cargo test --workspace --locked
