#!/usr/bin/env bash
# Stops the local cluster started by scripts/start-cluster.sh: SIGTERM to every node, up to 15 s
# for a graceful exit (the node tells its peers it leaves), then SIGKILL; removes the pid files.
# Idempotent: nodes that are not running are skipped.
#
# Env: MESHMQ_RUN_DIR (default ./run/cluster), MESHMQ_STOP_TIMEOUT seconds (default 15).
set -euo pipefail

RUN_DIR="${MESHMQ_RUN_DIR:-./run/cluster}"
STOP_TIMEOUT="${MESHMQ_STOP_TIMEOUT:-15}"

alive() { kill -0 "$1" 2>/dev/null; }

main() {
  local pid_file pid pids=() names=()
  shopt -s nullglob
  for pid_file in "$RUN_DIR"/node*.pid; do
    pid="$(cat "$pid_file")"
    if [ -n "$pid" ] && alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      names+=("$(basename "$pid_file" .pid)")
    else
      rm -f "$pid_file"
    fi
  done
  if [ ${#pids[@]} -eq 0 ]; then
    echo "stop-cluster: no node running (run dir $RUN_DIR)"
    return 0
  fi
  local deadline=$((SECONDS + STOP_TIMEOUT)) i left
  while :; do
    left=0
    for pid in "${pids[@]}"; do
      alive "$pid" && left=$((left + 1))
    done
    [ "$left" -eq 0 ] && break
    [ "$SECONDS" -ge "$deadline" ] && break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if alive "${pids[$i]}"; then
      echo "stop-cluster: ${names[$i]} (pid ${pids[$i]}) still running after" \
        "${STOP_TIMEOUT}s, SIGKILL"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/${names[$i]}.pid"
  done
  echo "stop-cluster: stopped ${names[*]}"
}

main "$@"
