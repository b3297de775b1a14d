#!/usr/bin/env bash
# Set up (first run only, with Chromium for the browser tests) and run the whole test suite.
# With no test paths given, the modules that load extra copies of a model run in a second process:
# where prompts run in fp32 (CPUs without bf16 instructions) one process holding them all came
# within 2 GB of 24 GB.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh --test
for arg in "$@"; do
  case "$arg" in tests/*) exec .venv/bin/python -m pytest "$@" ;; esac
done
own=(tests/test_int4.py tests/test_kvstore.py tests/test_models.py tests/test_prefill.py)
status=0
.venv/bin/python -m pytest "$@" "${own[@]/#/--ignore=}" || status=$?
.venv/bin/python -m pytest "$@" "${own[@]}" || status=$(( status ? status : $? ))
exit "$status"
