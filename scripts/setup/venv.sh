#!/usr/bin/env bash
# Python environment: a virtualenv built from requirements/constraints.txt, cached outside the
# clone and keyed by the lock's hash, so a fresh clone on the same machine reuses it.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
key=$(cat requirements/base.in requirements/constraints.txt | sha256sum | cut -c1-16)
venv="$CACHE/venv-$key"

if [ ! -f "$venv/.complete" ]; then
  log "creating virtualenv $venv (first run downloads ~600 MB from PyPI)"
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade "pip==26.0.1" || "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r requirements/base.in -c requirements/constraints.txt
  touch "$venv/.complete"
fi
ln -sfn "$venv" .venv
# Editable install of this clone (no network: setuptools is already in the venv).
if ! .venv/bin/python -c "import lakeforge, sys; sys.exit(0 if lakeforge.__file__.startswith('$ROOT/') else 1)" 2>/dev/null; then
  .venv/bin/pip install --quiet --no-deps --no-build-isolation -e .
fi
log "python env ready: .venv -> $venv"
