#!/usr/bin/env bash
# A local AWS API emulator (moto's server mode) for the deployment tests: one instance under
# $LAKEFORGE_WORK, listening on 127.0.0.1 only. It accepts any credentials; clients find it through
# AWS_ENDPOINT_URL=http://127.0.0.1:$LAKEFORGE_MOTO_PORT (the tests set that and dummy AWS_* values).
#   bash scripts/services/moto.sh up|down|status
set -euo pipefail
source "$(dirname "$0")/../setup/common.sh"

MOTO_HOME="$WORK/services/moto"
PID_FILE="$MOTO_HOME/moto.pid"
LOG_FILE="$MOTO_HOME/moto.log"
PORT="${LAKEFORGE_MOTO_PORT:-55500}"
PYTHON="${LAKEFORGE_PYTHON:-$ROOT/.venv/bin/python}"

is_running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

wait_for_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  log "moto does not accept connections on 127.0.0.1:$PORT; the end of $LOG_FILE:"
  tail -n 20 "$LOG_FILE" >&2 || true
  exit 1
}

print_status() {
  if is_running; then
    echo "moto: running on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"))"
    return 0
  fi
  echo "moto: stopped"
  return 3
}

up() {
  if is_running; then print_status; return 0; fi
  if ! "$PYTHON" -c "import moto.server" 2>/dev/null; then
    log "moto's server is not importable by $PYTHON: moto[server] is in requirements/dev.in (make setup)"
    exit 1
  fi
  mkdir -p "$MOTO_HOME"
  log "starting moto on 127.0.0.1:$PORT"
  nohup "$PYTHON" -m moto.server -H 127.0.0.1 -p "$PORT" >"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
  wait_for_port
  print_status
}

down() {
  if is_running; then
    local pid
    pid="$(cat "$PID_FILE")"
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  echo "moto: stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) print_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
