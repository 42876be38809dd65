#!/usr/bin/env bash
# Side-by-side benchmark, Atende against django-helpdesk: see README.md.
#   ./sbs.sh setup | ab [--passes 2] | bulk --system peer|atende | report
# Runs as root (the PostgreSQL clusters run as $PEERBENCH_PGUSER via runuser).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PEERBENCH_DIR="${PEERBENCH_DIR:-/tmp/peerbench}"
export SBS_DIR="${SBS_DIR:-/tmp/sbs}"
export ATENDE_DIR="${ATENDE_DIR:-$SBS_DIR/atende}"
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
PY="$PEERBENCH_DIR/venv/bin/python"
[ -x "$PY" ] || { echo "no peer venv at $PEERBENCH_DIR/venv: run ${PEER_HARNESS:-the peer harness}/setup.sh first" >&2; exit 1; }
exec "$PY" "$HERE/sbs.py" "$@"
