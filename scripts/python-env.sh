#!/usr/bin/env bash
# Creates or updates .venv with tests/python/requirements.txt, idempotently: pip runs only
# when the requirements changed since the last successful install. Prints the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
req=tests/python/requirements.txt
venv=.venv
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
echo "$PWD/$venv/bin/python"
