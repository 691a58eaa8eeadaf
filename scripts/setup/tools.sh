#!/usr/bin/env bash
# Command-line checkers that do not come from PyPI, cached outside the clone:
#  - actionlint (GitHub Actions workflows), built from its Go module (its PyPI wrapper downloads the
#    binary from GitHub at build time, which this set-up cannot rely on).
#  - chromium + chromium-driver (Debian), the headless browser of the dashboard test.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ACTIONLINT_VERSION=v1.7.12
bin="$CACHE/bin"
mkdir -p "$bin"
if [ "$("$bin/actionlint" -version 2>/dev/null | head -1)" != "${ACTIONLINT_VERSION#v}" ]; then
  command -v go >/dev/null || { log "actionlint needs Go (https://go.dev/doc/install)"; exit 2; }
  log "building actionlint $ACTIONLINT_VERSION with go install"
  GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi
# Headless Chromium and its WebDriver for the dashboard's browser test (tests/monitoring/test_dashboard.py).
bash "$(dirname "$0")/system-packages.sh" chromium chromium-driver
log "tools ready: $bin/actionlint"
