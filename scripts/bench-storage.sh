#!/usr/bin/env bash
# QoS 1 throughput with and without the on-disk store (docs/storage.md): the same meshmq binary
# with --storage memory, --storage rocksdb (default sync: periodic) and --storage-sync always,
# each run on a fresh broker (and a fresh data directory), the modes alternated so background
# load on a shared machine hits each equally; prints the median msgs/s per mode and its ratio to
# memory. Clients use persistent sessions (--persistent) so that every message is written.
#
# Usage: scripts/bench-storage.sh [--build-dir DIR] [--repeat R] [--duration S] [--workers N]
#                                 [--publishers P]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$ROOT/build"
REPEAT=3
DURATION=5
WORKERS=2
PUBLISHERS=10
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD="$(realpath -m "$2")"; shift ;;
    --repeat) REPEAT="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --workers) WORKERS="$2"; shift ;;
    --publishers) PUBLISHERS="$2"; shift ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "bench-storage.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
MESHMQ="$BUILD/src/meshmq"
BENCH="$BUILD/src/tools/bench/meshmq-bench"
[ -x "$MESHMQ" ] && [ -x "$BENCH" ] || { echo "build $MESHMQ and $BENCH first" >&2; exit 2; }
WORK="$(mktemp -d /tmp/meshmq-bench-storage.XXXXXX)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill -9 "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run() {  # run MODE REP: one broker, one bench run; appends the JSON line to $WORK/MODE.jsonl
  local mode="$1" rep="$2" port args=()
  port="$(free_port)"
  case "$mode" in
    memory) args=(--storage memory) ;;
    rocksdb) args=(--storage rocksdb --data-dir "$WORK/data-$rep") ;;
    rocksdb-always) args=(--storage rocksdb --storage-sync always --data-dir "$WORK/data-a-$rep") ;;
  esac
  "$MESHMQ" --mqtt-listen "127.0.0.1:$port" --http-listen off --workers "$WORKERS" \
    --log-level warn "${args[@]}" >"$WORK/broker-$mode-$rep.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  "$BENCH" pubsub --targets "127.0.0.1:$port" --layout pairs --publishers "$PUBLISHERS" --qos 1 \
    --persistent --duration "$DURATION" --threads 2 --quiet --label "$mode" \
    2>/dev/null | tail -1 >>"$WORK/$mode.jsonl"
  kill -TERM "$PID"; wait "$PID" || true
  PID=""
}

MODES=(memory rocksdb rocksdb-always)
for rep in $(seq "$REPEAT"); do
  if [ $((rep % 2)) = 1 ]; then order=("${MODES[@]}"); else order=(rocksdb-always rocksdb memory); fi
  for mode in "${order[@]}"; do run "$mode" "$rep"; done
done

/usr/bin/python3 - "$WORK" "${MODES[@]}" <<'PY'
import json, statistics, sys
work, modes = sys.argv[1], sys.argv[2:]
med = {}
print("%-16s %12s %22s %8s %8s %6s %6s" % ("mode", "msgs/s", "min-max", "p50 us", "p99 us", "lost", "ratio"))
for mode in modes:
    rows = [json.loads(l) for l in open("%s/%s.jsonl" % (work, mode)) if l.strip()]
    rates = [r["msgs_per_s"] for r in rows]
    med[mode] = statistics.median(rates)
    print("%-16s %12.0f %10.0f-%-11.0f %8.0f %8.0f %6d %6.2f" % (
        mode, med[mode], min(rates), max(rates),
        statistics.median(r["p50_us"] for r in rows), statistics.median(r["p99_us"] for r in rows),
        sum(r["lost"] for r in rows), med[mode] / med["memory"]))
PY
