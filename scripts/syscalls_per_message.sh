#!/usr/bin/env bash
# Counts what one message costs a broker at a fixed moderate rate (the latency_10k cell of
# bench.sh by default): system calls by kind, context switches (voluntary = the thread slept,
# involuntary = it was preempted) and CPU time, divided by the messages delivered. Counts, unlike
# timings, hold still on a shared, noisy machine. Needs perf and root (syscall tracepoints).
#
#   scripts/syscalls_per_message.sh [--broker meshmq|mosquitto] [--build-dir DIR] [--meshmq BIN]
#       [--workers N] [--placement any|local|cross] [--publishers P] [--rate R] [--payload B]
#       [--duration S]
#
# --placement (meshmq, 2 workers): the listener hands connections to shards round robin, and the
# bench connects subscribers, then publishers. With one connection attempt at a time, 10 pairs put
# every publisher on its subscriber's shard ("local"); 11 pairs (at 10/11 of the rate, the same
# total) put every one on the other shard ("cross"). "any" is bench.sh's own concurrent connect,
# where the mix changes from run to run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BROKER=meshmq BUILD="$ROOT/build" MESHMQ="" WORKERS=2 PLACEMENT=any PUBS=10 RATE=1000 PAYLOAD=64
DURATION=5
while [ $# -gt 0 ]; do
  case "$1" in
    --broker) BROKER="$2"; shift 2 ;;
    --build-dir) BUILD="$2"; shift 2 ;;
    --meshmq) MESHMQ="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --placement) PLACEMENT="$2"; shift 2 ;;
    --publishers) PUBS="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --payload) PAYLOAD="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
MESHMQ="${MESHMQ:-$BUILD/src/meshmq}"
BENCH="$BUILD/src/tools/bench/meshmq-bench"
EXTRA=()
case "$PLACEMENT" in
  any) ;;
  local) EXTRA=(--connect-window 1) ;;
  cross) EXTRA=(--connect-window 1); RATE=$(( RATE * PUBS / (PUBS + 1) )); PUBS=$(( PUBS + 1 )) ;;
  *) echo "--placement any|local|cross" >&2; exit 2 ;;
esac
WORK="$(mktemp -d /tmp/meshmq-syscalls.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
if [ "$BROKER" = mosquitto ]; then
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nsys_interval 0\nlog_type none\nset_tcp_nodelay true\n' \
    "$PORT" >"$WORK/mosquitto.conf"
  /usr/sbin/mosquitto -c "$WORK/mosquitto.conf" >"$WORK/broker.log" 2>&1 &
else
  "$MESHMQ" --mqtt-listen "127.0.0.1:$PORT" --workers "$WORKERS" --log-level warn --http-listen off \
    --sys-interval 0 --max-connections 0 --max-accept-rate 0 >"$WORK/broker.log" 2>&1 &
fi
BP=$!
trap 'kill "$BP" 2>/dev/null || true; rm -rf "$WORK"' EXIT
sleep 0.5
ctx() { cat /proc/"$BP"/task/*/status | awk '/^voluntary_ctxt/{v+=$2} /^nonvoluntary_ctxt/{n+=$2} END{print v, n}'; }
read -r V0 N0 < <(ctx)
# Counted over the whole bench run (its few connects and subscribes included), divided by the
# messages delivered.
perf stat -x, -o "$WORK/perf" -p "$BP" -e 'syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl' \
  -e 'syscalls:sys_enter_recvmsg,syscalls:sys_enter_sendmsg,syscalls:sys_enter_read' \
  -e 'syscalls:sys_enter_write,syscalls:sys_enter_futex,raw_syscalls:sys_enter,task-clock' &
PERF=$!
"$BENCH" pubsub --targets "127.0.0.1:$PORT" --layout pairs --publishers "$PUBS" --qos 0 \
  --payload "$PAYLOAD" --rate "$RATE" --duration "$DURATION" --threads 2 --drain 1 --quiet \
  "${EXTRA[@]}" >"$WORK/bench.out" 2>&1
kill -INT "$PERF"
wait "$PERF" || true
read -r V1 N1 < <(ctx)
MSGS="$(grep '^{' "$WORK/bench.out" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["received"])')"
python3 - "$WORK/perf" "$WORK/bench.out" "$MSGS" "$((V1 - V0))" "$((N1 - N0))" "$BROKER" "$PLACEMENT" <<'PY'
import json, sys
perf, bench, msgs, vol, invol, broker, placement = sys.argv[1:]
msgs = int(msgs)
result = json.loads([l for l in open(bench) if l.startswith("{")][-1])
print(f"{broker} placement={placement} messages delivered={msgs} lost={result['lost']} "
      f"p50={result['p50_us']:.0f}us p99={result['p99_us']:.0f}us (timings: noisy)")
for line in open(perf):
    f = line.strip().split(",")
    if len(f) < 3 or not f[0].replace(".", "").isdigit():
        continue
    name = f[2].replace("syscalls:sys_enter_", "").replace("raw_syscalls:sys_enter", "all syscalls")
    value = float(f[0])
    if name == "task-clock":
        print(f"{'CPU us':<22}{value * 1000 / msgs:8.2f} per message")
    else:
        print(f"{name:<22}{value / msgs:8.3f} per message")
print(f"{'sleeps (voluntary)':<22}{int(vol) / msgs:8.3f} per message")
print(f"{'preempted':<22}{int(invol) / msgs:8.3f} per message")
PY
