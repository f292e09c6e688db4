#!/usr/bin/env bash
# Installs what the browser tests need, idempotently: Debian's Chromium (/usr/bin/chromium)
# and playwright-core from ui/tests/package-lock.json into ui/tests/node_modules (`npm ci`
# again only when the lock file changed).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/chromium ]]; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

stamp=ui/tests/node_modules/.lock-sha256
want=$(sha256sum ui/tests/package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  (cd ui/tests && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi
