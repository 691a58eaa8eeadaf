#!/usr/bin/env bash
# Run a command with the local services up: starts those not already running (and the Kafka topics),
# exports their settings (env.sh), runs the command, then stops only what it started, also on failure
# or Ctrl-C. Exits with the command's status.
#   bash scripts/services/with-services.sh .venv/bin/python -m pytest
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
services=(postgres mosquitto kafka)
started=()
for service in "${services[@]}"; do
  bash "$root/scripts/services/$service.sh" status >/dev/null 2>&1 || started+=("$service")
done
stop_started() {
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    bash "$root/scripts/services/${started[i]}.sh" down >/dev/null 2>&1
  done
}
trap stop_started EXIT
"$root/.venv/bin/lakeforge" services up || exit $?
source "$root/scripts/services/env.sh"
"$@"
