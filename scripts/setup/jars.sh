#!/usr/bin/env bash
# JVM jars for Spark (Delta, JDBC driver, Kafka connector) fetched by Maven into .work/jars.
# Spark's own Ivy download (spark.jars.packages) may not get through here, so jars go on spark.jars.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

dest="$WORK/jars"
stamp="$dest/.pom-$(sha256sum scripts/setup/pom.xml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  log "fetching Spark jars with mvn into $dest"
  rm -rf "$dest"
  mvn -q -B -s scripts/setup/maven-settings.xml -f scripts/setup/pom.xml \
    dependency:copy-dependencies -DoutputDirectory="$dest"
  touch "$stamp"
fi
log "jars ready: $(ls "$dest"/*.jar | wc -l) in $dest"
