#!/usr/bin/env bash
# Prints the path of a Python >= 3.12 (3.13 preferred), or fails saying how to get one.
# Plain `python3` may be older (3.11 on some machines) while pyenv holds newer versions.
set -u

ok() {  # ok PATH -> true when PATH runs a Python >= 3.12
  [ -x "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null
}

candidates=()
[ -n "${ATENDE_PYTHON:-}" ] && candidates+=("$ATENDE_PYTHON")
pyenv_root=$( (command -v pyenv >/dev/null && pyenv root) 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for minor in 13 12 14; do
  for dir in "$pyenv_root"/versions/3."$minor".*; do
    [ -d "$dir" ] && candidates+=("$dir/bin/python3")
  done
  for dir in /usr/local/bin /usr/bin; do candidates+=("$dir/python3.$minor"); done
done
for name in python3.13 python3.12 python3; do
  found=$(command -v "$name" 2>/dev/null) && candidates+=("$found")
done

for candidate in "${candidates[@]}"; do
  if ok "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done

cat >&2 <<'MSG'
Atende needs Python 3.12 or newer, and none was found
(looked at $ATENDE_PYTHON, pyenv's versions, python3.13, python3.12 and python3).
Install one (e.g. `apt-get install python3.13` or `pyenv install 3.13`), or set
ATENDE_PYTHON=/path/to/python3.13 and run the command again.
MSG
exit 1
