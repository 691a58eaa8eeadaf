#!/usr/bin/env bash
# A private PostgreSQL for the demo and the tests: one instance per checkout, listening on
# 127.0.0.1 only, password (scram-sha-256) auth over TCP, with a `lakeforge` role and database.
#   bash scripts/services/postgres.sh up|down|status
# The role's password is generated on the first `up` and kept in
# $LAKEFORGE_WORK/services/postgres/credentials.env (mode 600); scripts/services/env.sh exports it.
# The database files live in $LAKEFORGE_WORK/services/postgres when the server's user can reach that
# folder, else (a checkout inside a private folder, e.g. root's home, with the server run as `postgres`)
# in /var/tmp/lakeforge-postgres-<hash of the work folder>. LAKEFORGE_PG_DATA names the folder explicitly.
set -euo pipefail
source "$(dirname "$0")/../setup/common.sh"

PG_HOME="$WORK/services/postgres"
CREDENTIALS="$PG_HOME/credentials.env"
PORT="${LAKEFORGE_PG_PORT:-25432}"
DB_ROLE=lakeforge
DB_NAME=lakeforge

# initdb and postgres refuse to run as root: as root, the server runs as the `postgres` system user.
if [ "$(id -u)" -eq 0 ]; then SERVER_USER=postgres; else SERVER_USER="$(id -un)"; fi

as_server() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$SERVER_USER" -- "$@"; else "$@"; fi
}

# Prints the folder for the server's files (data/ and run/): explicit, else beside the credentials when
# the server's user can get there, else one it can reach, still one per checkout.
server_home() {
  if [ -n "${LAKEFORGE_PG_DATA:-}" ]; then echo "$LAKEFORGE_PG_DATA"; return 0; fi
  mkdir -p "$PG_HOME"
  if ! id -u "$SERVER_USER" >/dev/null 2>&1 || as_server test -x "$PG_HOME"; then echo "$PG_HOME"; return 0; fi
  echo "/var/tmp/lakeforge-postgres-$(printf '%s' "$WORK" | sha256sum | cut -c1-12)"
}

# Sets SERVER_HOME, DATA and RUN_DIR (unix socket and server log, owned by the server's user); again
# once `up` has created the server's user, whose reach decides the folder.
locate_server_files() {
  SERVER_HOME="$(server_home)"
  DATA="$SERVER_HOME/data"
  RUN_DIR="$SERVER_HOME/run"
}
locate_server_files

# Prints the folder holding initdb and pg_ctl, or nothing: the data folder's major version first
# (a cluster only runs on its own version), then the newest under /usr/lib/postgresql, then PATH.
find_bin_dir() {
  local candidate found=""
  if [ -f "$DATA/PG_VERSION" ]; then
    candidate="/usr/lib/postgresql/$(cat "$DATA/PG_VERSION")/bin"
    if [ -x "$candidate/pg_ctl" ]; then echo "$candidate"; return 0; fi
  fi
  for candidate in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then found="$candidate"; fi
  done
  if [ -z "$found" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    found="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
  fi
  echo "$found"
}

install_postgres() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    log "PostgreSQL (initdb, pg_ctl) is not installed; install it as root, e.g. 'apt-get install postgresql'"
    exit 1
  fi
  log "installing PostgreSQL with apt-get (no initdb or pg_ctl found)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's package would also create and start a system-wide cluster on port 5432; Lakeforge runs its own.
  apt-get install -y -qq postgresql-common >/dev/null
  sed -ri 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' \
    /etc/postgresql-common/createcluster.conf
  apt-get install -y -qq postgresql >/dev/null
}

ensure_server_user() {
  if [ "$(id -u)" -ne 0 ] || id -u "$SERVER_USER" >/dev/null 2>&1; then return 0; fi
  log "creating the $SERVER_USER system user to run the server"
  useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
    --shell /usr/sbin/nologin "$SERVER_USER"
}

init_cluster() {
  mkdir -p "$SERVER_HOME"
  install -d -m 700 -o "$SERVER_USER" -g "$(id -gn "$SERVER_USER")" "$DATA" "$RUN_DIR"
  if ! as_server test -w "$DATA"; then
    log "user $SERVER_USER cannot write $DATA: its parent folders need o+x; set LAKEFORGE_PG_DATA to a folder it can reach, or unset it"
    exit 1
  fi
  if [ -f "$DATA/PG_VERSION" ]; then return 0; fi
  log "initialising a PostgreSQL cluster in $DATA"
  as_server "$BIN/initdb" -D "$DATA" --username="$SERVER_USER" --encoding=UTF8 --locale=C \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  # The port is passed on each start, so LAKEFORGE_PG_PORT can change without re-initialising.
  cat >>"$DATA/postgresql.conf" <<EOF

# --- Lakeforge: a private instance (scripts/services/postgres.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$RUN_DIR'
password_encryption = 'scram-sha-256'
EOF
}

is_running() {
  [ -n "$BIN" ] && [ -f "$DATA/PG_VERSION" ] && as_server "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

running_port() {
  sed -n 4p "$DATA/postmaster.pid"  # postmaster.pid's fourth line is the port it listens on
}

start_server() {
  log "starting PostgreSQL on 127.0.0.1:$PORT"
  if ! as_server "$BIN/pg_ctl" start -D "$DATA" -l "$RUN_DIR/postgres.log" -w -t 60 -o "-p $PORT" >/dev/null; then
    log "PostgreSQL did not start; the end of $RUN_DIR/postgres.log:"
    tail -n 20 "$RUN_DIR/postgres.log" >&2
    exit 1
  fi
  for _ in $(seq 30); do
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2; then return 0; fi
    sleep 1
  done
  log "PostgreSQL started but does not accept connections on 127.0.0.1:$PORT; see $RUN_DIR/postgres.log"
  exit 1
}

# The saved password if there is one, else a new one; then (re)writes credentials.env with the port.
ensure_credentials() {
  local password=""
  if [ -f "$CREDENTIALS" ]; then password="$(source "$CREDENTIALS" && echo "${LAKEFORGE_PG_PASSWORD:-}")"; fi
  if [ -z "$password" ]; then password="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"; fi
  (
    umask 077
    printf 'export LAKEFORGE_PG_USER=%s LAKEFORGE_PG_PASSWORD=%s LAKEFORGE_PG_PORT=%s\n' \
      "$DB_ROLE" "$password" "$PORT" >"$CREDENTIALS"
  )
  chmod 600 "$CREDENTIALS"
  echo "$password"
}

# Creates the role and database if missing and sets the role's password to the saved one. The SQL goes
# through stdin so the password never shows in a process list.
ensure_role_and_database() {
  local password="$1"
  as_server "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN_DIR" -p "$PORT" -U "$SERVER_USER" -d postgres <<SQL
SELECT 'CREATE ROLE $DB_ROLE LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_ROLE')\gexec
ALTER ROLE $DB_ROLE WITH LOGIN PASSWORD '$password';
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
SQL
}

print_status() {
  if is_running; then
    echo "postgres: running on 127.0.0.1:$(running_port) (data $DATA, credentials $CREDENTIALS)"
    return 0
  fi
  echo "postgres: stopped"
  return 3
}

up() {
  if is_running; then print_status; return 0; fi
  if [ -z "$BIN" ]; then
    install_postgres
    BIN="$(find_bin_dir)"
    if [ -z "$BIN" ]; then log "PostgreSQL was installed but initdb/pg_ctl are still not found"; exit 1; fi
  fi
  ensure_server_user
  locate_server_files
  init_cluster
  start_server
  ensure_role_and_database "$(ensure_credentials)"
  print_status
}

down() {
  if is_running; then
    as_server "$BIN/pg_ctl" stop -D "$DATA" -m fast -w >/dev/null
  fi
  echo "postgres: stopped"
}

BIN="$(find_bin_dir)"
case "${1:-}" in
  up) up ;;
  down) down ;;
  status) print_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
