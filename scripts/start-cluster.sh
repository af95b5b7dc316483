#!/usr/bin/env bash
# Starts a local 3-node meshmq cluster on this machine and waits until it is formed.
#
# Node i (1..3): id node<i>, MQTT 1882+i, cluster gRPC 8071+10i, HTTP 8072+10i, MQTT over
# WebSocket 8073+10i (1883/8081/8082/8083, 1884/8091/8092/8093, 1885/8101/8102/8103), static
# discovery of all three gRPC addresses. The dashboard is at http://127.0.0.1:8082/.
#
# Env:
#   MESHMQ_BIN              meshmq binary (default build/src/meshmq, built with scripts/build.sh)
#   MESHMQ_RUN_DIR          logs, pid files, secret (default ./run/cluster)
#   MESHMQ_CLUSTER_SECRET   cluster secret (default: generated once, kept in the run dir, mode 600)
#   MESHMQ_PORT_OFFSET      added to every port above (default 0), e.g. 20000 for tests
#   MESHMQ_HOST             address every listener binds to and advertises (default 127.0.0.1)
#   MESHMQ_READY_TIMEOUT    seconds to wait for the cluster to form (default 30)
#   MESHMQ_EXTRA_ARGS       extra flags for every node (word-split), e.g. "--log-level debug"
#
# Idempotent: nodes already running are left alone; if all are, it says so and exits 0.
# Exit 1 when a port is taken by another process or the cluster does not form in time.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUN_DIR="${MESHMQ_RUN_DIR:-./run/cluster}"
BIN="${MESHMQ_BIN:-$ROOT/build/src/meshmq}"
OFFSET="${MESHMQ_PORT_OFFSET:-0}"
HOST="${MESHMQ_HOST:-127.0.0.1}"
READY_TIMEOUT="${MESHMQ_READY_TIMEOUT:-30}"
NODES=(1 2 3)

die() {
  echo "start-cluster: $*" >&2
  exit 1
}

mqtt_port() { echo $((1882 + $1 + OFFSET)); }
grpc_port() { echo $((8071 + 10 * $1 + OFFSET)); }
http_port() { echo $((8072 + 10 * $1 + OFFSET)); }
ws_port() { echo $((8073 + 10 * $1 + OFFSET)); }  # the dashboard's live tail uses it

# PID of node $1 if it is running (per its pid file), else nothing; exit status says which.
running_pid() {
  local pid_file="$RUN_DIR/node$1.pid" pid
  [ -f "$pid_file" ] || return 1
  pid="$(cat "$pid_file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # A node that exited while this script (its parent) runs is a zombie: kill -0 still succeeds.
  [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != "Z" ] || return 1
  echo "$pid"
}

# Fails with a message naming the port and, if ss can tell, the process holding it.
check_port_free() {
  local port="$1" what="$2" holder
  holder="$(ss -Hltnp "sport = :$port" 2>/dev/null || true)"
  if [ -n "$holder" ]; then
    local proc
    proc="$(grep -o 'users:(([^)]*))' <<<"$holder" | head -n1 || true)"
    die "port $port ($what) is already in use${proc:+ by $proc};" \
      "stop that process or set MESHMQ_PORT_OFFSET"
  fi
}

ensure_binary() {
  if [ -x "$BIN" ]; then
    return
  fi
  if [ -n "${MESHMQ_BIN:-}" ]; then
    die "MESHMQ_BIN=$BIN is not an executable file"
  fi
  echo "start-cluster: $BIN missing, building it (scripts/build.sh build)"
  "$ROOT/scripts/build.sh" build
  [ -x "$BIN" ] || die "build finished but $BIN does not exist"
}

# Writes the secret to a mode-600 file so it never appears on a command line (ps).
secret_file() {
  local file
  if [ -n "${MESHMQ_CLUSTER_SECRET:-}" ]; then
    file="$RUN_DIR/cluster.secret.env"
    (umask 077 && printf '%s\n' "$MESHMQ_CLUSTER_SECRET" >"$file")
  else
    file="$RUN_DIR/cluster.secret"
    if [ ! -s "$file" ]; then
      (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file")
    fi
  fi
  chmod 600 "$file"
  echo "$file"
}

start_node() {
  local i="$1" secret="$2" peers="$3" log="$RUN_DIR/node$1.log"
  local -a extra=()
  if [ -n "${MESHMQ_EXTRA_ARGS:-}" ]; then
    read -r -a extra <<<"$MESHMQ_EXTRA_ARGS"
  fi
  # setsid: the node outlives this shell and a Ctrl-C in it.
  setsid "$BIN" --node-id "node$i" \
    --mqtt-listen "$HOST:$(mqtt_port "$i")" \
    --cluster-listen "$HOST:$(grpc_port "$i")" \
    --cluster-advertise "$HOST:$(grpc_port "$i")" \
    --http-listen "$HOST:$(http_port "$i")" \
    --ws-listen "$HOST:$(ws_port "$i")" \
    --cluster-secret-file "$secret" \
    --discovery static --peers "$peers" \
    "${extra[@]}" >>"$log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/node$i.pid"
}

http_get() {
  curl -fsS --max-time 2 "http://$HOST:$1$2" 2>/dev/null
}

# True when node $1 is ready and lists both other nodes as alive.
node_formed() {
  local port nodes alive
  port="$(http_port "$1")"
  http_get "$port" /readyz >/dev/null || return 1
  nodes="$(http_get "$port" /api/v1/nodes)" || return 1
  # Keys are sorted (node_id before state); count alive entries other than this node.
  alive="$(grep -o '"node_id":"node[0-9]*"[^}]*"state":"alive"' <<<"$nodes" |
    grep -cv "\"node_id\":\"node$1\"" || true)"
  [ "$alive" -ge $((${#NODES[@]} - 1)) ]
}

wait_formed() {
  local deadline=$((SECONDS + READY_TIMEOUT)) i pending
  while :; do
    pending=""
    for i in "${NODES[@]}"; do
      if ! running_pid "$i" >/dev/null; then
        die "node$i exited during start-up; last log lines:
$(tail -n 20 "$RUN_DIR/node$i.log" 2>/dev/null)"
      fi
      node_formed "$i" || pending+=" node$i"
    done
    [ -z "$pending" ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "cluster not formed after ${READY_TIMEOUT}s (waiting for:$pending); logs in $RUN_DIR"
    fi
    sleep 0.2
  done
}

print_summary() {
  local i
  for i in "${NODES[@]}"; do
    printf 'node%s  pid %-7s mqtt %s:%s  ws %s:%s  cluster %s:%s  dashboard http://%s:%s/  log %s\n' \
      "$i" "$(running_pid "$i")" "$HOST" "$(mqtt_port "$i")" "$HOST" "$(ws_port "$i")" \
      "$HOST" "$(grpc_port "$i")" "$HOST" "$(http_port "$i")" "$RUN_DIR/node$i.log"
  done
}

main() {
  mkdir -p "$RUN_DIR"
  RUN_DIR="$(cd "$RUN_DIR" && pwd)"
  local i to_start=()
  for i in "${NODES[@]}"; do
    running_pid "$i" >/dev/null || to_start+=("$i")
  done
  if [ ${#to_start[@]} -eq 0 ]; then
    wait_formed
    echo "start-cluster: cluster already running"
    print_summary
    return 0
  fi
  for i in "${to_start[@]}"; do
    check_port_free "$(mqtt_port "$i")" "node$i MQTT"
    check_port_free "$(grpc_port "$i")" "node$i cluster"
    check_port_free "$(http_port "$i")" "node$i HTTP"
    check_port_free "$(ws_port "$i")" "node$i WebSocket"
  done
  ensure_binary
  local secret peers=""
  secret="$(secret_file)"
  for i in "${NODES[@]}"; do
    peers+="${peers:+,}$HOST:$(grpc_port "$i")"
  done
  for i in "${to_start[@]}"; do
    start_node "$i" "$secret" "$peers"
  done
  wait_formed
  echo "start-cluster: started ${to_start[*]/#/node};" \
    "cluster of ${#NODES[@]} nodes is up (run dir $RUN_DIR)"
  print_summary
}

main "$@"
