#!/usr/bin/env bash
# Sets up (first time) and runs ChatCanvas at http://127.0.0.1:8501
# Extra arguments go to `streamlit run`, e.g. bash scripts/run.sh --server.port 8600
# --demo: every page against the built-in fake providers (made-up answers and images, no key
# needed, its own database data/demo.db); refused by a shared deployment ([auth] in secrets).
# Serves on 127.0.0.1 only (others on the same network must not reach the keys in .env)
# unless you pass your own --server.address. Community Cloud starts Streamlit itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
address=(--server.address 127.0.0.1)
args=()
for arg in "$@"; do
  case "$arg" in
    --demo) export CHATCANVAS_DEMO=1; continue ;;
    --server.address | --server.address=*) address=() ;;
  esac
  args+=("$arg")
done
exec .venv/bin/streamlit run app.py ${address[@]+"${address[@]}"} ${args[@]+"${args[@]}"}
