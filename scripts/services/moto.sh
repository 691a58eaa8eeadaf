#!/usr/bin/env bash
# A local AWS API emulator (moto's server mode) for the deployment tests: one instance under
# $LAKEFORGE_WORK, listening on 127.0.0.1 only. It accepts any credentials; clients find it through
# AWS_ENDPOINT_URL=http://127.0.0.1:$LAKEFORGE_MOTO_PORT (the tests set that and dummy AWS_* values).
#   bash scripts/services/moto.sh up|down|status
set -euo pipefail
source "$(dirname "$0")/../setup/common.sh"
source "$(dirname "$0")/pid-service.sh"

NAME=moto
MOTO_HOME="$WORK/services/moto"
PID_FILE="$MOTO_HOME/moto.pid"
LOG_FILE="$MOTO_HOME/moto.log"
PORT="${LAKEFORGE_MOTO_PORT:-25500}"
PYTHON="${LAKEFORGE_PYTHON:-$ROOT/.venv/bin/python}"

where() { echo "127.0.0.1:$PORT"; }

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
  wait_for_port "$PORT" "$LOG_FILE"
  print_status
}

run_action "$@"
