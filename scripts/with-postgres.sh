#!/usr/bin/env bash
# with-postgres.sh COMMAND...: runs COMMAND against a throwaway PostgreSQL cluster on a free
# loopback port, run by a non-root user, removed afterwards. As in production, two roles:
# ATENDE_DATABASE_OWNER_URL owns the tables (migrations, synth), ATENDE_DATABASE_URL is the
# application's runtime role, which owns nothing (README, "PostgreSQL roles").
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "PostgreSQL server binaries not found (scripts/system-deps.sh)." >&2; exit 1; }

run_as=()
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root.
  id atende-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin atende-pg
  owner=atende-pg
  run_as=(runuser -u atende-pg --)
fi

cluster=$(mktemp -d /tmp/atende-pg.XXXXXX)
chown "$owner" "$cluster"
chmod 700 "$cluster"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$cluster"
}
trap cleanup EXIT

"${run_as[@]}" "$bindir/initdb" -D "$cluster/data" -U atende -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
# Durability settings off: the cluster lives for one test run only. Benchmarks set
# ATENDE_PG_DURABLE=1 to measure with PostgreSQL's defaults (fsync on).
options="-p $port -k $cluster -c listen_addresses=127.0.0.1 -c max_connections=200"
if [ "${ATENDE_PG_DURABLE:-0}" != "1" ]; then
  options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
options="$options ${ATENDE_PG_OPTIONS:-}"
"${run_as[@]}" "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w start -o "$options" >/dev/null
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U atende atende
# The runtime role: it owns nothing; each migrate grants it what the application needs.
"$bindir/psql" -q -h 127.0.0.1 -p "$port" -U atende -d atende \
  -c "CREATE ROLE atende_app LOGIN" >/dev/null

echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
ATENDE_DATABASE_OWNER_URL="postgres://atende@127.0.0.1:$port/atende" \
  ATENDE_DATABASE_URL="postgres://atende_app@127.0.0.1:$port/atende" "$@"
