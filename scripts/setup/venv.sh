#!/usr/bin/env bash
# Python environment in two levels:
#  - the dependencies, one virtualenv per Python version cached outside the clone, filled layer by
#    layer (requirements/<layer>.in at the exact versions of requirements/constraints.txt), so every
#    clone on the machine (and CI) reuses it and a demo never waits for the test or image layers;
#  - .venv, a small per-clone virtualenv that sees those dependencies through a .pth file and holds
#    this clone's editable install and `lakeforge` command, so clones never repoint each other.
#   bash scripts/setup/venv.sh [core] [images] [dev]     (default: core)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

layers=("$@")
[ ${#layers[@]} -gt 0 ] || layers=(core)
[[ " ${layers[*]} " == *" core "* ]] || layers=(core "${layers[@]}")
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
deps="$CACHE/deps-py$("$PY" -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')"

if [ ! -x "$deps/bin/pip" ]; then
  rm -rf "$deps"
  "$PY" -m venv "$deps"
  "$deps/bin/pip" install --quiet --upgrade "pip==26.0.1"
fi
for layer in "${layers[@]}"; do
  [ -f "requirements/$layer.in" ] || { log "unknown layer '$layer' (requirements/$layer.in)"; exit 2; }
  inputs=("requirements/$layer.in" requirements/constraints.txt)
  [ "$layer" != images ] || inputs+=(requirements/nodeps.txt)
  key=$(cat "${inputs[@]}" | sha256sum | cut -c1-16)
  [ "$(cat "$deps/.layer-$layer" 2>/dev/null)" != "$key" ] || continue
  case "$layer" in
    images) log "installing the $layer layer into $deps (first run downloads ~4 GB from PyPI, mostly torch's CUDA wheels)" ;;
    *) log "installing the $layer layer into $deps" ;;
  esac
  "$deps/bin/pip" install --quiet -r "requirements/$layer.in" -c requirements/constraints.txt
  [ "$layer" != images ] || "$deps/bin/pip" install --quiet --no-deps -r requirements/nodeps.txt
  echo "$key" >"$deps/.layer-$layer"
done

if [ "$(cat .venv/.deps-path 2>/dev/null)" != "$deps" ]; then
  rm -rf .venv
  "$PY" -m venv --without-pip .venv
  site_packages=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  deps_site=$("$deps/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # addsitedir (not a bare path) so the dependencies' own .pth files are processed too.
  echo "import site; site.addsitedir('$deps_site')" >"$site_packages/lakeforge-deps.pth"
  echo "$deps" >.venv/.deps-path
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
log "python env ready: .venv (layers ${layers[*]} in $deps)"
