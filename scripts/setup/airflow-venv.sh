#!/usr/bin/env bash
# Apache Airflow with its Spark provider in a virtualenv of its own (Airflow pins many libraries that
# Lakeforge's env pins differently), cached under $LAKEFORGE_CACHE. The tests load exported DAGs with
# Airflow's own DagBag in it. Prints the virtualenv's python.
#   bash scripts/setup/airflow-venv.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"

AIRFLOW_VERSION=3.3.2
SPARK_PROVIDER_VERSION=6.3.4
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
venv="$CACHE/airflow-$AIRFLOW_VERSION-spark-$SPARK_PROVIDER_VERSION"

if [ ! -f "$venv/.complete" ]; then
  log "installing Apache Airflow $AIRFLOW_VERSION and its Spark provider into $venv"
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade "pip==26.0.1"
  # pyspark at Lakeforge's pin: the provider needs one, and that wheel is already in pip's cache.
  "$venv/bin/pip" install --quiet "apache-airflow==$AIRFLOW_VERSION" \
    "apache-airflow-providers-apache-spark==$SPARK_PROVIDER_VERSION" "pyspark==4.0.0"
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
