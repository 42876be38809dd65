#!/usr/bin/env bash
# Creates .venv/ with a Python >= 3.12 and installs Atende into it (editable).
# `scripts/install.sh test` also installs what the test suite needs.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "test" ] && extras="[test]"
stamp=".venv/.installed${extras:+-test}"

if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
  echo "Replacing .venv: its Python is older than 3.12."
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  python=$(scripts/find-python.sh)
  echo "Creating .venv with $python ($("$python" --version))"
  "$python" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
  touch "$stamp"
fi
