#!/usr/bin/env bash
# A Spark standalone cluster on this machine: one master, two workers (1 core and a bounded memory each)
# and the History Server, all run with the pinned pyspark's own `spark-class` (pyspark ships no sbin
# start scripts), listening on 127.0.0.1 only, under $LAKEFORGE_WORK/services/spark-cluster.
#   bash scripts/services/spark-cluster.sh up|down|status
# Every daemon, and every application submitted to the cluster, authenticates with one shared secret
# (spark.authenticate), generated on the first `up` into credentials.env (mode 600) and passed to the JVMs
# in the _SPARK_AUTH_SECRET environment variable, never on a command line. The same file holds the
# master URL, the master's and History Server's UIs and the event-log folder the History Server reads; scripts/services/env.sh exports them.
# Executors run in their own JVMs and Python workers, so code that only works in local mode fails here.
set -euo pipefail
source "$(dirname "$0")/../setup/common.sh"
cd "$ROOT"

HOME_DIR="$WORK/services/spark-cluster"
CREDENTIALS="$HOME_DIR/credentials.env"
EVENTS="$HOME_DIR/events"
LOGS="$HOME_DIR/logs"
MASTER_PORT="${LAKEFORGE_SPARK_MASTER_PORT:-27077}"
MASTER_UI_PORT="${LAKEFORGE_SPARK_MASTER_UI_PORT:-28080}"
HISTORY_PORT="${LAKEFORGE_SPARK_HISTORY_PORT:-28090}"
WORKERS=2
WORKER_MEMORY="${LAKEFORGE_SPARK_WORKER_MEMORY:-2g}"  # what executors may use on each worker
MASTER_URL="spark://127.0.0.1:$MASTER_PORT"
PYTHON="$ROOT/.venv/bin/python"

# name -> the daemon's main class and arguments; worker-N web UIs on MASTER_UI_PORT + N.
daemon_command() {
  case "$1" in
    master) echo "org.apache.spark.deploy.master.Master --host 127.0.0.1 --port $MASTER_PORT --webui-port $MASTER_UI_PORT" ;;
    worker-*)
      local number="${1#worker-}"
      echo "org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory $WORKER_MEMORY" \
        "--webui-port $((MASTER_UI_PORT + number)) --work-dir $HOME_DIR/$1 $MASTER_URL" ;;
    history) echo "org.apache.spark.deploy.history.HistoryServer" ;;
  esac
}

daemons() { echo master; for number in $(seq "$WORKERS"); do echo "worker-$number"; done; echo history; }

spark_home() { "$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'; }

ensure_credentials() {
  local secret=""
  if [ -f "$CREDENTIALS" ]; then secret="$(source "$CREDENTIALS" && echo "${LAKEFORGE_SPARK_SECRET:-}")"; fi
  [ -n "$secret" ] || secret="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  mkdir -p "$HOME_DIR"
  (
    umask 077
    printf 'export LAKEFORGE_SPARK_MASTER=%s LAKEFORGE_SPARK_MASTER_UI=%s LAKEFORGE_SPARK_HISTORY_UI=%s LAKEFORGE_SPARK_EVENTS=%s LAKEFORGE_SPARK_SECRET=%s\n' \
      "$MASTER_URL" "http://127.0.0.1:$MASTER_UI_PORT" "http://127.0.0.1:$HISTORY_PORT" "file://$EVENTS" "$secret" >"$CREDENTIALS"
  )
  chmod 600 "$CREDENTIALS"
}

pid_file() { echo "$HOME_DIR/$1.pid"; }

is_running() { local pid_file; pid_file="$(pid_file "$1")"; [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

start_daemon() {
  local name="$1"
  if is_running "$name"; then return 0; fi
  mkdir -p "$LOGS" "$EVENTS"
  # shellcheck disable=SC2046  # the command is words by design
  (
    source "$CREDENTIALS"
    export SPARK_HOME="$SPARK_HOME" SPARK_LOCAL_IP=127.0.0.1 SPARK_DAEMON_MEMORY=256m _SPARK_AUTH_SECRET="$LAKEFORGE_SPARK_SECRET"
    export SPARK_DAEMON_JAVA_OPTS="-Dspark.authenticate=true -Dspark.ui.killEnabled=false \
      -Dspark.history.fs.logDirectory=file://$EVENTS -Dspark.history.ui.port=$HISTORY_PORT \
      -Dspark.worker.cleanup.enabled=true"
    exec setsid "$SPARK_HOME/bin/spark-class" $(daemon_command "$name") >"$LOGS/$name.log" 2>&1 </dev/null
  ) &
  echo $! >"$(pid_file "$name")"
}

alive_workers() {
  curl -fsS "http://127.0.0.1:$MASTER_UI_PORT/json/" 2>/dev/null \
    | "$PYTHON" -c 'import json, sys; print(sum(w["state"] == "ALIVE" for w in json.load(sys.stdin)["workers"]))' 2>/dev/null \
    || echo 0
}

wait_for_workers() {
  for _ in $(seq 150); do
    if [ "$(alive_workers)" -ge "$WORKERS" ]; then return 0; fi
    sleep 0.4
  done
  log "the Spark master at $MASTER_URL has $(alive_workers) of $WORKERS workers after 60 s; the end of each log:"
  for name in $(daemons); do echo "== $name" >&2; tail -n 15 "$LOGS/$name.log" >&2 || true; done
  exit 1
}

print_status() {
  local stopped=()
  for name in $(daemons); do is_running "$name" || stopped+=("$name"); done
  if [ ${#stopped[@]} -eq 0 ]; then
    echo "spark-cluster: running at $MASTER_URL ($(alive_workers) workers alive; master UI http://127.0.0.1:$MASTER_UI_PORT," \
      "history http://127.0.0.1:$HISTORY_PORT, credentials $CREDENTIALS)"
    return 0
  fi
  echo "spark-cluster: stopped (${stopped[*]} not running)"
  return 3
}

up() {
  ensure_credentials
  if print_status >/dev/null; then print_status; return 0; fi
  SPARK_HOME="$(spark_home)"
  log "starting a Spark standalone master and $WORKERS workers at $MASTER_URL, and the History Server"
  for name in $(daemons); do start_daemon "$name"; done
  wait_for_workers
  print_status
}

down() {
  # Workers first, so the master does not reschedule their executors; each daemon's whole process group,
  # so executors the workers launched go too.
  for name in $(daemons | tac); do
    if is_running "$name"; then
      local pid
      pid="$(cat "$(pid_file "$name")")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    rm -f "$(pid_file "$name")"
  done
  echo "spark-cluster: stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) print_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
