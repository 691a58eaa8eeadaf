#!/usr/bin/env bash
# A local schema registry for Kafka sources with Avro values: Apicurio Registry (fetched from Maven
# Central into the cache on the first `up`), in-memory storage, listening on 127.0.0.1 only. Clients use
# its Confluent-compatible API, whose URL `up` writes to credentials.env as LAKEFORGE_SCHEMA_REGISTRY_URL
# (scripts/services/env.sh exports it). Apicurio authenticates only through an OIDC server, which is not
# run here, so it takes no login; the loopback address is what keeps it private.
#   bash scripts/services/schema-registry.sh up|down|status
set -euo pipefail
source "$(dirname "$0")/../setup/common.sh"
source "$(dirname "$0")/pid-service.sh"

NAME=schema-registry
VERSION="2.6.13.Final"  # the 3.x line needs Java 21; this machine and Spark 4.0 run Java 17
REGISTRY_HOME="$WORK/services/schema-registry"
DIST="$CACHE/apicurio-registry-$VERSION"
PID_FILE="$REGISTRY_HOME/registry.pid"
LOG_FILE="$REGISTRY_HOME/registry.log"
CREDENTIALS="$REGISTRY_HOME/credentials.env"
PORT="${LAKEFORGE_SCHEMA_REGISTRY_PORT:-28070}"
URL="http://127.0.0.1:$PORT/apis/ccompat/v7"

fetch() {
  [ -f "$DIST/apicurio-registry-app-$VERSION-runner.jar" ] && return 0
  log "fetching Apicurio Registry $VERSION from Maven Central into $DIST"
  local download
  download="$(mktemp -d)"
  mvn -q -B -s "$ROOT/scripts/setup/maven-settings.xml" dependency:copy \
    -Dartifact="io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all" -DoutputDirectory="$download"
  mkdir -p "$DIST.tmp"
  tar xzf "$download"/*.tar.gz -C "$DIST.tmp"
  rm -rf "$download" "$DIST"
  mv "$DIST.tmp" "$DIST"
}

wait_until_ready() {
  for _ in $(seq 150); do
    if curl -sf "$URL/subjects" >/dev/null 2>&1; then return 0; fi
    if ! is_running; then break; fi
    sleep 0.2
  done
  log "the schema registry does not answer on $URL; the end of $LOG_FILE:"
  tail -n 20 "$LOG_FILE" >&2 || true
  exit 1
}

where() { echo "$URL"; }

up() {
  if is_running; then print_status; return 0; fi
  fetch
  mkdir -p "$REGISTRY_HOME"
  echo "export LAKEFORGE_SCHEMA_REGISTRY_URL=$URL" >"$CREDENTIALS"
  log "starting the schema registry on 127.0.0.1:$PORT"
  nohup java -Xmx256m -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$PORT" \
    -jar "$DIST/apicurio-registry-app-$VERSION-runner.jar" >"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
  wait_until_ready
  print_status
}

run_action "$@"
