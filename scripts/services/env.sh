# Exports the local services' settings and secrets for the tests and the demo. Source it, do not run it:
#   source scripts/services/env.sh
# Secrets live under $LAKEFORGE_WORK/services (mode 600), never in the repo. Sets no shell options,
# because it runs inside the caller's shell.

_lakeforge_services="${LAKEFORGE_WORK:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.work}/services"

# Written by `scripts/services/postgres.sh up`: LAKEFORGE_PG_USER, LAKEFORGE_PG_PASSWORD, LAKEFORGE_PG_PORT.
if [ -f "$_lakeforge_services/postgres/credentials.env" ]; then
  source "$_lakeforge_services/postgres/credentials.env"
fi

# The bearer token of the demo ticket API, generated once so the server and its clients agree across runs.
if [ ! -f "$_lakeforge_services/api_token.env" ]; then
  mkdir -p "$_lakeforge_services"
  (
    umask 077
    printf 'export LAKEFORGE_API_TOKEN=%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
      >"$_lakeforge_services/api_token.env"
  )
fi
source "$_lakeforge_services/api_token.env"

# Written by `scripts/services/mosquitto.sh up` and `scripts/services/kafka.sh up`: the MQTT port, bridge
# login and device fleet secret; the Kafka bootstrap address and client login.
# Written by `scripts/services/spark-cluster.sh up`: the standalone master's URL and UI, the event-log folder
# and the cluster's shared secret. Written by `scripts/services/schema-registry.sh up`: the registry's URL.
for _lakeforge_env in mosquitto/credentials.env kafka/credentials.env spark-cluster/credentials.env schema-registry/credentials.env; do
  if [ -f "$_lakeforge_services/$_lakeforge_env" ]; then source "$_lakeforge_services/$_lakeforge_env"; fi
done
unset _lakeforge_env

unset _lakeforge_services
