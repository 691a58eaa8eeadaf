#!/usr/bin/env bash
# The Python dependencies of cluster jobs as one archive for `spark-submit --archives` (clusters without a
# package index): a virtualenv with lakeforge[ml,iot,workflows]'s dependencies at the pinned versions,
# packed by venv-pack into dist/lakeforge-env.tar.gz. What it leaves out, and why:
#  - lakeforge itself: the code ships as the wheel (--py-files), so a code change needs no re-pack;
#  - pyspark: executors get it from their own Spark (SPARK_HOME/python/lib/pyspark.zip);
#  - torch/torchvision ([images]): several GB; image fine-tuning clusters install lakeforge[images] as a
#    cluster library or run a GPU runtime that has torch.
# The virtualenv is cached under $LAKEFORGE_CACHE, keyed by setup.py and the lock, so re-packing is quick.
# venv-pack does not pack the interpreter: nodes need the same Python at the same path (or a conda-pack env).
#   bash scripts/setup/pack-env.sh   (after the wheel is built: make dist)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
EXTRAS="ml,iot,workflows"
key=$(cat setup.py requirements/constraints.txt | sha256sum | cut -c1-16)
env_dir="$CACHE/pack-env-$key"
out="dist/lakeforge-env.tar.gz"
wheel=$(ls -t dist/lakeforge-*.whl 2>/dev/null | head -1)
[ -n "$wheel" ] || { log "no dist/lakeforge-*.whl: build the wheel first (make dist)"; exit 1; }

if [ ! -f "$env_dir/.complete" ]; then
  log "building the packed environment's virtualenv in $env_dir (lakeforge[$EXTRAS] dependencies, pinned)"
  rm -rf "$env_dir"
  "$PY" -m venv "$env_dir"
  "$env_dir/bin/pip" install --quiet --upgrade "pip==26.0.1"
  "$env_dir/bin/pip" install --quiet -c requirements/constraints.txt "$wheel[$EXTRAS]"
  "$env_dir/bin/pip" uninstall --quiet -y lakeforge
  touch "$env_dir/.complete"
fi
site=$("$env_dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
site=${site#"$env_dir/"}
"$ROOT/.venv/bin/python" -m venv_pack --quiet -p "$env_dir" -o "$out" --force --exclude "$site/pyspark/*" --exclude "$site/pyspark-*"
log "packed environment: $out ($(du -h "$out" | cut -f1)); ship with --archives $out#environment"
