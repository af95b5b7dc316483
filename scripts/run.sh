#!/usr/bin/env bash
# Installs dependencies if missing, builds if needed, and runs one meshmq node (MQTT on :1883).
# Extra arguments are passed to meshmq, e.g. scripts/run.sh --log-level debug
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build >/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec build/src/meshmq "$@"
