#!/usr/bin/env bash
# The whole suite: lint, then every test on SQLite and again on a throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install.sh test
scripts/system-deps.sh

export DJANGO_SETTINGS_MODULE=atende.settings_test
export ATENDE_CHROMIUM="${ATENDE_CHROMIUM:-$(command -v chromium)}"
export PYTHONDONTWRITEBYTECODE=1
mkdir -p test-artifacts

echo "== ruff"
.venv/bin/ruff check src bench scripts
.venv/bin/ruff format --check src bench scripts

echo "== tests on SQLite"
ATENDE_DATA_DIR=$(mktemp -d /tmp/atende-test-sqlite.XXXXXX) .venv/bin/pytest "$@"

echo "== tests on PostgreSQL"
ATENDE_DATA_DIR=$(mktemp -d /tmp/atende-test-pg.XXXXXX) scripts/with-postgres.sh .venv/bin/pytest "$@"
