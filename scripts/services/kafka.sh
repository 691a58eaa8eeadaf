#!/usr/bin/env bash
# A private Apache Kafka for the IoT pipeline: one KRaft node (combined broker + controller) run from its
# Maven Central jars with `java -cp`, under $LAKEFORGE_WORK, listening on 127.0.0.1 only. Clients log in
# with SASL/PLAIN; the controller listener is loopback-only and carries no client traffic.
#   bash scripts/services/kafka.sh up|down|status
# The jars come from scripts/services/kafka/pom.xml into $LAKEFORGE_WORK/kafka-jars (once per POM).
# The client password is generated on the first `up` into $LAKEFORGE_WORK/services/kafka/credentials.env
# (mode 600), exported by scripts/services/env.sh. Topics are created by `lakeforge services up` from
# conf/iot.yml (partition counts are config).
set -euo pipefail
source "$(dirname "$0")/../setup/common.sh"
source "$(dirname "$0")/pid-service.sh"
cd "$ROOT"

KAFKA_HOME="$WORK/services/kafka"
JARS="$WORK/kafka-jars"
PROPERTIES="$KAFKA_HOME/server.properties"
CREDENTIALS="$KAFKA_HOME/credentials.env"
PID_FILE="$KAFKA_HOME/kafka.pid"
NAME=kafka
STOP_SECONDS=60  # a controlled shutdown (SIGTERM) leaves nothing for the next start to recover
LOGS="$KAFKA_HOME/logs"
PORT="${LAKEFORGE_KAFKA_PORT:-29092}"
CONTROLLER_PORT="${LAKEFORGE_KAFKA_CONTROLLER_PORT:-29093}"
HEAP="${LAKEFORGE_KAFKA_HEAP:-768m}"
CLIENT_USER=lakeforge

fetch_jars() {
  local stamp="$JARS/.pom-$(sha256sum scripts/services/kafka/pom.xml | cut -c1-16)"
  if [ -f "$stamp" ]; then return 0; fi
  log "fetching the Kafka broker jars with mvn into $JARS"
  rm -rf "$JARS"
  mvn -q -B -s scripts/setup/maven-settings.xml -f scripts/services/kafka/pom.xml \
    dependency:copy-dependencies -DoutputDirectory="$JARS"
  touch "$stamp"
}

JAVA=(java -Xms256m -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$ROOT/scripts/services/kafka/log4j2.xml" -Dkafka.logs.dir="$LOGS"
  -cp "$JARS/*")

ensure_credentials() {
  local password=""
  if [ -f "$CREDENTIALS" ]; then password="$(source "$CREDENTIALS" && echo "${LAKEFORGE_KAFKA_PASSWORD:-}")"; fi
  [ -n "$password" ] || password="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  (
    umask 077
    printf 'export LAKEFORGE_KAFKA_BOOTSTRAP=127.0.0.1:%s LAKEFORGE_KAFKA_USER=%s LAKEFORGE_KAFKA_PASSWORD=%s\n' \
      "$PORT" "$CLIENT_USER" "$password" >"$CREDENTIALS"
  )
  echo "$password"
}

# Regenerated on every start, so a changed port needs no re-format; mode 600 as it holds the password.
write_properties() {
  local password="$1"
  (
    umask 077
    cat >"$PROPERTIES" <<EOF
# Lakeforge's private Kafka (scripts/services/kafka.sh): a single KRaft node on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=SASL_PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$CLIENT_USER" password="$password" user_$CLIENT_USER="$password";
log.dirs=$KAFKA_HOME/data
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Topics are created with their partition counts from conf/iot.yml, never by a typo in a client.
auto.create.topics.enable=false
num.partitions=1
log.retention.hours=72
EOF
  )
}

format_storage() {
  if [ -f "$KAFKA_HOME/data/meta.properties" ]; then return 0; fi
  local cluster_id
  cluster_id="$("${JAVA[@]}" kafka.tools.StorageTool random-uuid | tail -n 1)"
  log "formatting Kafka storage in $KAFKA_HOME/data (cluster $cluster_id)"
  "${JAVA[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPERTIES" --ignore-formatted >/dev/null
}

# Ready when the client port accepts connections and the log says the server finished starting.
wait_until_ready() {
  local pid="$1"
  for _ in $(seq 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "Kafka exited while starting; the end of $LOGS/server.log and $LOGS/stdout.log:"
      tail -n 20 "$LOGS/server.log" "$LOGS/stdout.log" >&2 || true
      exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && grep -q "Kafka Server started" "$LOGS/server.log" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  log "Kafka did not become ready on 127.0.0.1:$PORT within 60 s; see $LOGS/server.log"
  exit 1
}

where() { echo "127.0.0.1:$PORT, data $KAFKA_HOME/data, credentials $CREDENTIALS"; }

up() {
  if is_running; then print_status; return 0; fi
  fetch_jars
  mkdir -p "$KAFKA_HOME" "$LOGS"
  write_properties "$(ensure_credentials)"
  format_storage
  log "starting Kafka (KRaft) on 127.0.0.1:$PORT"
  # A fresh log per start, so readiness is read from this start's lines.
  : >"$LOGS/server.log"
  nohup "${JAVA[@]}" kafka.Kafka "$PROPERTIES" >"$LOGS/stdout.log" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  wait_until_ready "$(cat "$PID_FILE")"
  print_status
}

run_action "$@"
