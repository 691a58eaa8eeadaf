# Shared by the service scripts whose server is one background process recorded in $PID_FILE
# (sourced, not run). The caller sets NAME and PID_FILE and defines `up` and `where` (what status
# prints after "running on"); STOP_SECONDS (default 10) bounds a graceful stop before SIGKILL.

is_running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

print_status() {
  if is_running; then
    echo "$NAME: running on $(where) (pid $(cat "$PID_FILE"))"
    return 0
  fi
  echo "$NAME: stopped"
  return 3
}

down() {
  if is_running; then
    local pid seconds="${STOP_SECONDS:-10}"
    pid="$(cat "$PID_FILE")"
    kill -TERM "$pid"
    for _ in $(seq $((seconds * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then log "$NAME did not stop in $seconds s; killing pid $pid"; kill -KILL "$pid"; fi
  fi
  rm -f "$PID_FILE"
  echo "$NAME: stopped"
}

# wait_for_port PORT LOG_FILE: until the server accepts connections on 127.0.0.1:PORT (20 s at most).
wait_for_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  log "$NAME does not accept connections on 127.0.0.1:$1; the end of $2:"
  tail -n 20 "$2" >&2 || true
  exit 1
}

run_action() {
  case "${1:-}" in
    up) up ;;
    down) down ;;
    status) print_status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
  esac
}
