#!/usr/bin/env bash
# Sets up (first time) and runs ChatCanvas at http://localhost:8501
# Extra arguments go to `streamlit run`, e.g. bash scripts/run.sh --server.port 8600
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
exec .venv/bin/streamlit run app.py "$@"
