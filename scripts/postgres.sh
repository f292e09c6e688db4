#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and trials.
#
#   scripts/postgres.sh start [DIR]   initdb into DIR (default: a new temporary folder), start
#                                     on a free port, print the URL (postgres://...) on stdout
#   scripts/postgres.sh stop DIR      stop the cluster in DIR and delete DIR
#   scripts/postgres.sh install       only make sure PostgreSQL is installed
#
# Installs Debian's `postgresql` with apt when no `initdb` is found (idempotent). PostgreSQL
# refuses to run as root, so as root the cluster runs as the `postgres` user (created if
# missing). Fsync is off: the cluster is for tests, and is deleted at the end.
set -euo pipefail

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$found" ] && echo "$found"
}

ensure_installed() {
  if [ -z "$(find_bin initdb)" ]; then
    echo "installing postgresql with apt" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
      || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
  fi
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $(( 20000 + RANDOM % 20000 ))
}

start() {
  ensure_installed
  local dir=${1:-$(mktemp -d /tmp/flightdeck-pg.XXXXXX)}
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
  fi
  local initdb pg_ctl port
  initdb=$(find_bin initdb)
  pg_ctl=$(find_bin pg_ctl)
  port=$(free_port)
  as_owner "$initdb" -D "$dir/data" -U flightdeck --auth=trust --no-sync -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "$dir" >"$dir/.flightdeck-pg"
  echo "postgres://flightdeck@127.0.0.1:$port/postgres"
  echo "cluster in $dir (stop: $0 stop $dir)" >&2
}

stop() {
  local dir=${1:?usage: $0 stop DIR}
  [ -f "$dir/.flightdeck-pg" ] || { echo "$dir is not a cluster this script started" >&2; exit 1; }
  as_owner "$(find_bin pg_ctl)" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  install) ensure_installed; echo "PostgreSQL: $(dirname "$(find_bin initdb)")" >&2 ;;
  *) echo "usage: $0 start [DIR] | stop DIR | install" >&2; exit 2 ;;
esac
