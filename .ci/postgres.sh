#!/usr/bin/env bash
# Start a throwaway PostgreSQL server (Debian's postgresql package, installed when missing) for the
# store tests, and print its SQLAlchemy URL. Stop it with: .ci/postgres.sh stop
set -euo pipefail
DIR=${BIORELEX_PG_DIR:-/tmp/biorelex-pg}
PORT=${BIORELEX_PG_PORT:-55432}
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
if [ "${1:-start}" = stop ]; then
  as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >&2 || true
  exit 0
fi
if [ -f "$DIR/data/postmaster.pid" ]; then as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >&2 || true; fi
rm -rf "$DIR" && mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
as_postgres "$BIN/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >&2
as_postgres "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres biorelex_test
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/biorelex_test"
