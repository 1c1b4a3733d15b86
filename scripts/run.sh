#!/usr/bin/env bash
# Sets up (first time) and runs ChatCanvas at http://127.0.0.1:8501
# Extra arguments go to `streamlit run`, e.g. bash scripts/run.sh --server.port 8600
# Serves on 127.0.0.1 only (others on the same network must not reach the keys in .env)
# unless you pass your own --server.address. Community Cloud starts Streamlit itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
address=(--server.address 127.0.0.1)
for arg in "$@"; do
  case "$arg" in --server.address | --server.address=*) address=() ;; esac
done
exec .venv/bin/streamlit run app.py ${address[@]+"${address[@]}"} "$@"
