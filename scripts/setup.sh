#!/usr/bin/env bash
# Creates .venv (once) and installs the pinned requirements when they changed.
# Usage: bash scripts/setup.sh [requirements file]   (sourced by run.sh and test.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REQUIREMENTS="${1:-requirements.txt}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "ChatCanvas needs Python 3.11 or newer (found: $("$PYTHON" --version 2>&1))." >&2
  echo "On Debian/Ubuntu: sudo apt-get install python3 python3-venv  (or use pyenv)." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    # Debian and Ubuntu ship venv separately.
    rm -rf .venv
    echo "Installing python3-venv (Debian/Ubuntu package)..." >&2
    as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv >/dev/null \
      || { echo "Could not create a virtual environment: install python3-venv." >&2; exit 1; }
    "$PYTHON" -m venv .venv
  fi
fi

# pip itself is pinned too: a new pip release must not change what an install does.
PIP_VERSION="26.3"
# Reinstall only when the requirement files, pyproject.toml (or the pinned pip) changed.
stamp=".venv/.installed-$(basename "$REQUIREMENTS")"
digest="$( { echo "pip==$PIP_VERSION"; cat requirements*.txt; cat pyproject.toml 2>/dev/null || true; } | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  .venv/bin/python -m pip install --quiet "pip==$PIP_VERSION"
  .venv/bin/python -m pip install --quiet -r "$REQUIREMENTS"
  # the project itself, for the `chatcanvas` command in .venv/bin (its dependencies are above);
  # setuptools warns about every editable install: nothing to act on here
  PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet --no-deps -e .
  echo "$digest" > "$stamp"
fi
