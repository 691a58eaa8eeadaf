#!/usr/bin/env bash
# Python environment in two layers:
#  - the dependencies, a virtualenv built from requirements/constraints.txt, cached outside the clone
#    and keyed by the lock's hash, so every clone on the machine (and CI) reuses it;
#  - .venv, a small per-clone virtualenv that sees those dependencies through a .pth file and holds
#    this clone's editable install and `lakeforge` command, so clones never repoint each other.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
key=$(cat requirements/base.in requirements/constraints.txt requirements/nodeps.txt | sha256sum | cut -c1-16)
deps="$CACHE/deps-$key"

if [ ! -f "$deps/.complete" ]; then
  log "installing pinned dependencies into $deps (first run downloads ~4 GB from PyPI, mostly torch's CUDA wheels)"
  rm -rf "$deps"
  "$PY" -m venv "$deps"
  "$deps/bin/pip" install --quiet --upgrade "pip==26.0.1"
  "$deps/bin/pip" install --quiet -r requirements/base.in -c requirements/constraints.txt
  "$deps/bin/pip" install --quiet --no-deps -r requirements/nodeps.txt
  touch "$deps/.complete"
fi

if [ "$(cat .venv/.deps-key 2>/dev/null)" != "$key" ]; then
  rm -rf .venv
  "$PY" -m venv --without-pip .venv
  site_packages=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  deps_site=$("$deps/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # addsitedir (not a bare path) so the dependencies' own .pth files are processed too.
  echo "import site; site.addsitedir('$deps_site')" >"$site_packages/lakeforge-deps.pth"
  echo "$key" >.venv/.deps-key
fi
if [ ! -x .venv/bin/spark-submit ]; then
  # pyspark's spark-submit with this env's Python (driver and workers) and the fetched jars on the
  # driver's classpath from JVM start (the builder's spark.jars comes too late for SQL extensions).
  cat >.venv/bin/spark-submit <<SCRIPT
#!/usr/bin/env bash
export PYSPARK_PYTHON="\${PYSPARK_PYTHON:-$ROOT/.venv/bin/python}"
export PYSPARK_DRIVER_PYTHON="\${PYSPARK_DRIVER_PYTHON:-\$PYSPARK_PYTHON}"
jars=\$(ls "\${LAKEFORGE_WORK:-$ROOT/.work}"/jars/*.jar | paste -sd, -)
exec "$deps/bin/spark-submit" --jars "\$jars" "\$@"
SCRIPT
  chmod +x .venv/bin/spark-submit
fi
if [ ! -x .venv/bin/lakeforge ]; then
  # pip comes from the dependency layer; the install itself needs no network.
  .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
fi
log "python env ready: .venv (dependencies in $deps)"
