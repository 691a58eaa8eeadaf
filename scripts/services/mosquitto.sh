#!/usr/bin/env bash
# A private Mosquitto MQTT broker for the IoT pipeline: one instance under $LAKEFORGE_WORK, listening on
# 127.0.0.1 only, no anonymous access, and an ACL under which each device may publish only to
# [runs/<tag>/]devices/<device_id>/telemetry while the bridge account may only read those topics.
#   bash scripts/services/mosquitto.sh up|down|status
# Secrets are generated on the first `up` into $LAKEFORGE_WORK/services/mosquitto/credentials.env (mode 600),
# exported by scripts/services/env.sh: the bridge's password, and the fleet secret from which each device's
# own password is derived (HMAC-SHA256(secret, device_id), as lakeforge.streaming.mqtt does), so a device
# that knows its password cannot log in as another one.
set -euo pipefail
source "$(dirname "$0")/../setup/common.sh"
source "$(dirname "$0")/pid-service.sh"

MQ_HOME="$WORK/services/mosquitto"
CONF="$MQ_HOME/mosquitto.conf"
CREDENTIALS="$MQ_HOME/credentials.env"
PID_FILE="$MQ_HOME/mosquitto.pid"
NAME=mosquitto
PORT="${LAKEFORGE_MQTT_PORT:-21883}"
# Device accounts dev-0001 .. dev-NNNN are provisioned; the simulator's fleet must fit in them.
DEVICES="${LAKEFORGE_MQTT_DEVICES:-500}"
BRIDGE_USER=bridge

if [ "$(id -u)" -eq 0 ]; then SERVER_USER=mosquitto; else SERVER_USER="$(id -un)"; fi

install_mosquitto() {
  if command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; then return 0; fi
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    log "Mosquitto is not installed; install it as root, e.g. 'apt-get install mosquitto'"
    exit 1
  fi
  log "installing Mosquitto with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101: the package must not start a system-wide broker on port 1883; Lakeforge runs its own.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  apt-get install -y -qq mosquitto >/dev/null || { rm -f /usr/sbin/policy-rc.d; exit 1; }
  rm -f /usr/sbin/policy-rc.d
}

mosquitto_bin() { command -v mosquitto || echo /usr/sbin/mosquitto; }

random_secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Keeps saved secrets, creates missing ones, and (re)writes credentials.env with the port.
ensure_credentials() {
  local bridge_password="" device_secret=""
  if [ -f "$CREDENTIALS" ]; then
    bridge_password="$(source "$CREDENTIALS" && echo "${LAKEFORGE_MQTT_BRIDGE_PASSWORD:-}")"
    device_secret="$(source "$CREDENTIALS" && echo "${LAKEFORGE_MQTT_DEVICE_SECRET:-}")"
  fi
  [ -n "$bridge_password" ] || bridge_password="$(random_secret)"
  [ -n "$device_secret" ] || device_secret="$(random_secret)"
  (
    umask 077
    printf 'export LAKEFORGE_MQTT_PORT=%s LAKEFORGE_MQTT_BRIDGE_USER=%s LAKEFORGE_MQTT_BRIDGE_PASSWORD=%s LAKEFORGE_MQTT_DEVICE_SECRET=%s\n' \
      "$PORT" "$BRIDGE_USER" "$bridge_password" "$device_secret" >"$CREDENTIALS"
  )
  chmod 600 "$CREDENTIALS"
}

# Writes user:password lines, then lets mosquitto_passwd hash them in place (-U), so no password ever
# appears on a command line.
write_password_file() {
  local passwd="$MQ_HOME/passwd"
  (
    umask 077
    source "$CREDENTIALS"
    LAKEFORGE_MQTT_DEVICES="$DEVICES" python3 - >"$passwd" <<'PY'
import hashlib, hmac, os
secret = os.environ["LAKEFORGE_MQTT_DEVICE_SECRET"].encode()
print(f"{os.environ['LAKEFORGE_MQTT_BRIDGE_USER']}:{os.environ['LAKEFORGE_MQTT_BRIDGE_PASSWORD']}")
for number in range(1, int(os.environ["LAKEFORGE_MQTT_DEVICES"]) + 1):
    device = f"dev-{number:04d}"
    print(f"{device}:{hmac.new(secret, device.encode(), hashlib.sha256).hexdigest()[:32]}")
PY
  )
  mosquitto_passwd -U "$passwd"
}

# Test, demo and benchmark runs publish under runs/<tag>/ (lakeforge.streaming.config.with_own_topics), so
# the production bridge's persistent session, subscribed to devices/+/telemetry, never queues them.
acl_text() {
  cat <<EOF
# The bridge reads every device's telemetry and publishes nothing.
user $BRIDGE_USER
topic read devices/+/telemetry
topic read runs/+/devices/+/telemetry

# Every other account is a device: it may publish only to its own topic (%u is the login name).
pattern write devices/%u/telemetry
pattern write runs/+/devices/%u/telemetry
EOF
}

# A running broker rereads its ACL on SIGHUP: `up` brings an older broker's ACL up to date without a restart.
refresh_acl() {
  if [ "$(acl_text)" = "$(cat "$MQ_HOME/acl" 2>/dev/null)" ]; then return 0; fi
  log "updating the running broker's ACL"
  (umask 077; acl_text >"$MQ_HOME/acl")
  chown "$SERVER_USER" "$MQ_HOME/acl"
  kill -HUP "$(cat "$PID_FILE")"
}

write_config() {
  mkdir -p "$MQ_HOME/data"
  acl_text >"$MQ_HOME/acl"
  cat >"$CONF" <<EOF
# Lakeforge's private broker (scripts/services/mosquitto.sh); regenerated on every start.
listener $PORT 127.0.0.1
allow_anonymous false
password_file $MQ_HOME/passwd
acl_file $MQ_HOME/acl
# Persistent sessions (the bridge's) survive a broker restart and keep messages while the bridge is away.
persistence true
persistence_location $MQ_HOME/data/
autosave_interval 10
persistent_client_expiration 1h
# Queue for an offline persistent session without dropping (the default drops past 1000 messages).
max_queued_messages 2000000
max_queued_bytes 0
# QoS 1 messages sent to one client before it acknowledges: the bridge's window of unacknowledged work.
max_inflight_messages 2000
log_dest file $MQ_HOME/mosquitto.log
log_type error
log_type warning
log_type notice
pid_file $PID_FILE
user $SERVER_USER
EOF
  # Started as root, the broker drops to $SERVER_USER before it reads these files.
  chown -R "$SERVER_USER" "$MQ_HOME"
  chmod 700 "$MQ_HOME"
  chmod 600 "$MQ_HOME/passwd" "$MQ_HOME/acl" "$CREDENTIALS"
  if [ "$(id -u)" -eq 0 ]; then chown root "$CREDENTIALS"; fi
}

where() { echo "127.0.0.1:$PORT, credentials $CREDENTIALS"; }

up() {
  if is_running; then refresh_acl; print_status; return 0; fi
  install_mosquitto
  mkdir -p "$MQ_HOME"
  ensure_credentials
  write_password_file
  write_config
  log "starting Mosquitto on 127.0.0.1:$PORT ($DEVICES device accounts)"
  rm -f "$PID_FILE"
  "$(mosquitto_bin)" -c "$CONF" -d
  wait_for_port "$PORT" "$MQ_HOME/mosquitto.log"
  print_status
}

run_action "$@"
