#!/usr/bin/env bash
# Sets up (first time) and runs every check: lint, format, unit, AppTest and browser tests.
# Extra arguments go to pytest, e.g. bash scripts/test.sh -k chat -x
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt

# The local image engine's extras (a CPU build of torch where pip finds one) on the machines
# torch ships wheels for; elsewhere its tests skip and say why.
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64 | Linux/aarch64)
    bash scripts/setup.sh requirements-local.txt \
      || echo "Could not install requirements-local.txt: the local engine's tests will be skipped." >&2 ;;
  *) echo "No torch wheels for $(uname -s)/$(uname -m) here: the local engine's tests will be skipped." >&2 ;;
esac

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null; then
  echo "Installing Debian's chromium for the browser tests..." >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null \
    || echo "Could not install chromium: the browser tests will be skipped locally (and fail in CI)." >&2
fi

# The voice browser test speaks into Chromium's fake microphone a WAV made by espeak-ng.
if ! command -v espeak-ng >/dev/null; then
  echo "Installing Debian's espeak-ng for the voice browser test..." >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null \
    || echo "Could not install espeak-ng: the voice browser test will be skipped locally (and fail in CI)." >&2
fi

# The storage tests also run on a throwaway PostgreSQL cluster made with Debian's server
# binaries (tests/pg.py), unless TEST_DATABASE_URL names a server.
if [ -z "${TEST_DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "Installing Debian's postgresql for the storage tests..." >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
    || echo "Could not install postgresql: the PostgreSQL tests will be skipped locally (and fail in CI)." >&2
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
