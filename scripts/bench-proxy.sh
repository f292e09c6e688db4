#!/usr/bin/env bash
# Runs `flightdeck bench proxy` with LiteLLM's proxy measured in the same run. Installs
# litellm[proxy] into .venv-bench (idempotently) the first time. Prints figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-bench/bin/litellm ]; then
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install --quiet --disable-pip-version-check 'litellm[proxy]'
fi
cargo build --release --quiet -p flightdeck
exec ./target/release/flightdeck bench proxy --litellm .venv-bench/bin/litellm "$@"
