#!/usr/bin/env bash
# Set up (first run only) and start the chat UI on http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh
exec .venv/bin/assistant chat "$@"
