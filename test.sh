#!/usr/bin/env bash
# Set up (first run only, with Chromium for the browser tests) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh --test
exec .venv/bin/python -m pytest "$@"
