# Shared paths for the set-up scripts (sourced, not run).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${LAKEFORGE_WORK:-$ROOT/.work}"
CACHE="${LAKEFORGE_CACHE:-$HOME/.cache/lakeforge}"
mkdir -p "$WORK" "$CACHE"
log() { printf '\033[1m[lakeforge]\033[0m %s\n' "$*" >&2; }
