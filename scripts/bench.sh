#!/usr/bin/env bash
# Benchmarks meshmq against Mosquitto 2.0 on this machine, in the same run.
#
# Every cell of a fixed matrix runs against a fresh meshmq and a fresh Mosquitto, alternating
# which broker goes first (A B, then B A), R times; the table shows the median and the min-max
# spread of each figure and the ratio meshmq/mosquitto of the medians. On a shared machine only
# the ratios are meaningful. See docs/benchmarks.md.
#
# Usage: scripts/bench.sh [--quick] [--repeat R] [--duration S] [--workers N] [--build-dir DIR]
#                         [--no-build] [--no-docs] [--cluster] [--cluster-only] [--results FILE]
#                         [--meshmq BINARY]   (benchmark this meshmq instead of the built one)
#                         [--only REGEX]      (run only the cells whose name matches)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$ROOT/build-release"
REPEAT=3
DURATION=5
WORKERS=2
QUICK=0
DO_BUILD=1
DO_DOCS=1
DO_CLUSTER=0
CLUSTER_ONLY=0
RESULTS=""
MESHMQ_OVERRIDE=""
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; REPEAT=1; DURATION=1 ;;
    --repeat) REPEAT="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --workers) WORKERS="$2"; shift ;;
    --build-dir) BUILD="$(realpath -m "$2")"; shift ;;
    --no-build) DO_BUILD=0 ;;
    --no-docs) DO_DOCS=0 ;;
    --cluster) DO_CLUSTER=1 ;;
    --cluster-only) DO_CLUSTER=1; CLUSTER_ONLY=1; DO_DOCS=0 ;;  # the doc's table needs the matrix
    --results) RESULTS="$(realpath -m "$2")"; shift ;;
    --meshmq) MESHMQ_OVERRIDE="$(realpath -m "$2")"; shift ;;
    --only) ONLY="$2"; shift ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

MESHMQ="${MESHMQ_OVERRIDE:-$BUILD/src/meshmq}"
BENCH="$BUILD/src/tools/bench/meshmq-bench"
MOSQUITTO=/usr/sbin/mosquitto
WORK="$(mktemp -d /tmp/meshmq-bench.XXXXXX)"
RESULTS="${RESULTS:-$WORK/results.jsonl}"
: > "$RESULTS"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

if [ "$DO_BUILD" = 1 ]; then
  # GCC 12 at -O3 reports false -Wrestrict/-Wstringop-overflow/-Warray-bounds positives inside
  # libstdc++'s string code (GCC PR 105329 and kin); they stay warnings in this build only.
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMESHMQ_TESTS=OFF \
    -DCMAKE_CXX_FLAGS="-Wno-error=restrict -Wno-error=stringop-overflow -Wno-error=array-bounds" >/dev/null
  if [ -n "$MESHMQ_OVERRIDE" ]; then ninja -C "$BUILD" meshmq-bench; else ninja -C "$BUILD" meshmq meshmq-bench; fi
fi
[ -x "$MESHMQ" ] && [ -x "$BENCH" ] || { echo "bench.sh: build $MESHMQ and $BENCH first" >&2; exit 2; }
[ -x "$MOSQUITTO" ] || { echo "bench.sh: $MOSQUITTO missing (scripts/install-deps.sh)" >&2; exit 2; }

# Both brokers and the bench hold one descriptor per connection.
ulimit -n "$(ulimit -Hn)"
FD_LIMIT="$(ulimit -n)"
# The largest idle-connection count both processes can hold, leaving room for other descriptors.
MAX_CONNS=$(( FD_LIMIT > 2000 ? FD_LIMIT - 1000 : FD_LIMIT / 2 ))

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench.sh: nothing listening on port $1" >&2
  return 1
}

# start_broker NAME PORT: starts a fresh broker, sets BROKER_PID.
start_broker() {
  local name="$1" port="$2"
  if [[ "$name" == meshmq* ]]; then
    "$MESHMQ" --mqtt-listen "127.0.0.1:$port" --workers "$WORKERS" --log-level warn \
      --http-listen off --sys-interval 0 --max-connections 0 --max-accept-rate 0 --max-queued-messages 100000 \
      --max-inflight 100 >"$WORK/meshmq.log" 2>&1 &
  else
    cat >"$WORK/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
max_queued_messages 100000
max_inflight_messages 100
persistence false
sys_interval 0
log_type none
set_tcp_nodelay true
CONF
    "$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
  fi
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  wait_port "$port"
}

stop_broker() {
  kill -9 "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# run_cell CELL BROKER REP BENCH_ARGS...: one bench run against a fresh broker; appends a line
# to $RESULTS. Cells named mem* also sample the broker's RSS before and after connecting.
run_cell() {
  local cell="$1" broker="$2" rep="$3"; shift 3
  local port; port="$(free_port)"
  start_broker "$broker" "$port"
  local extra=() before=0
  if [[ "$cell" == mem* ]]; then
    sleep 0.5
    before="$(rss_kb "$BROKER_PID")"
    extra=(--on-ready "awk '/^VmRSS:/ {print \$2}' /proc/$BROKER_PID/status > $WORK/rss_after")
  fi
  local out rc=0
  out="$("$BENCH" "$@" --targets "127.0.0.1:$port" --threads 2 --quiet --label "$cell" \
         "${extra[@]}" 2>"$WORK/bench.err")" || rc=$?
  local json; json="$(printf '%s\n' "$out" | grep '^{' | tail -1)"
  [ -n "$json" ] || json='{}'
  [ "$rc" = 0 ] || echo "  ($broker: bench exit $rc: $(tail -2 "$WORK/bench.err" | tr '\n' ' '))" >&2
  local after=0
  if [[ "$cell" == mem* ]] && [ -s "$WORK/rss_after" ]; then after="$(cat "$WORK/rss_after")"; rm -f "$WORK/rss_after"; fi
  stop_broker
  record "$cell" "$broker" "$rep" "$rc" "$before" "$after" "$json"
}

# record CELL BROKER REP EXIT RSS_BEFORE RSS_AFTER JSON: appends one result line and echoes it.
record() {
  python3 - "$@" >>"$RESULTS" <<'PY'
import json, sys
cell, broker, rep, rc, before, after, line = sys.argv[1:8]
r = json.loads(line)
r.update(cell=cell, broker=broker, rep=int(rep), exit=int(rc))
r["load1"] = float(open("/proc/loadavg").read().split()[0])  # machine load when the run ended
if int(after) > 0:
    r["rss_before_kb"], r["rss_after_kb"] = int(before), int(after)
    r["bytes_per_conn"] = (int(after) - int(before)) * 1024 / max(1, r.get("connected", 0))
print(json.dumps(r))
PY
  printf '  %-20s %-14s rep %d: %s\n' "$1" "$2" "$3" \
    "$(tail -1 "$RESULTS" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(" ".join("%s=%s" % (k, round(r[k],1) if isinstance(r[k], float) else r[k]) for k in ("msgs_per_s","lost","p50_us","p99_us","conn_per_s","bytes_per_conn","failed","exit") if k in r))')"
}

# Cluster rows: a fresh 3-node meshmq cluster per run (scripts/start-cluster.sh on ports offset
# by MESHMQ_BENCH_CLUSTER_OFFSET, default 20000), publishers on node 1 and subscribers on node 2,
# alternated with a fresh single-node meshmq running the same cell (broker "meshmq-single"), so
# the cluster/single ratio of each repetition compares two runs made back to back.
run_cluster_rows() {
  local offset="${MESHMQ_BENCH_CLUSTER_OFFSET:-20000}" run="$WORK/cluster"
  mkdir -p "$run"
  export MESHMQ_BIN="$MESHMQ" MESHMQ_RUN_DIR="$run" MESHMQ_PORT_OFFSET="$offset" MESHMQ_STOP_TIMEOUT=5
  export MESHMQ_EXTRA_ARGS="--workers $WORKERS --log-level warn --sys-interval 0 --max-connections 0 --max-accept-rate 0 --max-queued-messages 100000 --max-inflight 100"
  local n1="127.0.0.1:$((1883 + offset))" n2="127.0.0.1:$((1884 + offset))" entry cell args rep i=0 side
  for entry in "${CLUSTER_CELLS[@]}"; do
    cell="${entry%%|*}"; args="${entry#*|}"
    if [ -n "$ONLY" ] && ! [[ "$cell" =~ $ONLY ]]; then i=$((i + 1)); continue; fi
    for rep in $(seq "$REPEAT"); do
      local order=(single cluster)
      (( (i + rep) % 2 == 0 )) || order=(cluster single)
      for side in "${order[@]}"; do
        if [ "$side" = single ]; then
          # shellcheck disable=SC2086
          run_cell "$cell" meshmq-single "$rep" $args
          continue
        fi
        "$ROOT/scripts/start-cluster.sh" >"$WORK/cluster-start.log" 2>&1 || {
          echo "bench.sh: cluster did not start (see $WORK/cluster-start.log)" >&2
          "$ROOT/scripts/stop-cluster.sh" >/dev/null 2>&1 || true; continue; }
        local out rc=0 json
        # shellcheck disable=SC2086
        out="$("$BENCH" $args --pub-targets "$n1" --sub-targets "$n2" --settle 1 --threads 2 \
               --quiet --label "cluster_$cell" 2>"$WORK/bench.err")" || rc=$?
        json="$(printf '%s\n' "$out" | grep '^{' | tail -1)"
        [ -n "$json" ] || json='{}'
        [ "$rc" = 0 ] || echo "  (cluster: bench exit $rc: $(tail -2 "$WORK/bench.err" | tr '\n' ' '))" >&2
        "$ROOT/scripts/stop-cluster.sh" >/dev/null 2>&1 || true
        record "cluster_$cell" meshmq-cluster "$rep" "$rc" 0 0 "$json"
      done
    done
    i=$((i + 1))
  done
}

D="$DURATION"
CONN_N=5000
MEM_N=10000
[ "$QUICK" = 1 ] && { CONN_N=1000; MEM_N=2000; MAX_CONNS=4000; }
# name | meshmq-bench arguments. Connection cells keep at most 64 attempts open: Mosquitto listens
# with a backlog of 100, and a SYN dropped on a full backlog costs a 1 s retransmit, which would
# measure the kernel's queue rather than the broker.
CELLS=(
  "q0_16B|pubsub --layout pairs --publishers 10 --qos 0 --payload 16 --duration $D"
  "q0_256B|pubsub --layout pairs --publishers 10 --qos 0 --payload 256 --duration $D"
  "q0_4KiB|pubsub --layout pairs --publishers 10 --qos 0 --payload 4096 --duration $D"
  "fanin_50to1|pubsub --layout fanin --publishers 50 --subscribers 1 --qos 0 --payload 64 --duration $D"
  "fanout_1to50|pubsub --layout fanout --subscribers 50 --qos 0 --payload 64 --duration $D"
  "fanout_1to1000|pubsub --layout fanout --subscribers 1000 --qos 0 --payload 64 --duration $D"
  "q1_pairs|pubsub --layout pairs --publishers 10 --qos 1 --payload 64 --duration $D"
  "q2_pairs|pubsub --layout pairs --publishers 10 --qos 2 --payload 64 --duration $D"
  "latency_10k|pubsub --layout pairs --publishers 10 --qos 0 --payload 64 --rate 1000 --duration $D"
  "connect_$CONN_N|conn --connections $CONN_N --duration 0.5 --connect-window 64"
  "mem_$MEM_N|conn --connections $MEM_N --duration 0.5 --connect-window 64"
  "mem_$MAX_CONNS|conn --connections $MAX_CONNS --duration 0.5 --connect-window 64"
)

# Cluster cells reuse single-node cell names so the table can show cluster/single-node ratios.
CLUSTER_CELLS=(
  "q0_16B|pubsub --layout pairs --publishers 10 --qos 0 --payload 16 --duration $D"
  "fanout_1to50|pubsub --layout fanout --subscribers 50 --qos 0 --payload 64 --duration $D"
  "q1_pairs|pubsub --layout pairs --publishers 10 --qos 1 --payload 64 --duration $D"
  "latency_10k|pubsub --layout pairs --publishers 10 --qos 0 --payload 64 --rate 1000 --duration $D"
)

echo "bench.sh: $(nproc) cores, fd limit $FD_LIMIT, repeat $REPEAT, duration ${D}s, results $RESULTS"
i=0
for entry in "${CELLS[@]}"; do
  [ "$CLUSTER_ONLY" = 1 ] && break
  cell="${entry%%|*}"; args="${entry#*|}"
  if [ -n "$ONLY" ] && ! [[ "$cell" =~ $ONLY ]]; then i=$((i + 1)); continue; fi
  for rep in $(seq "$REPEAT"); do
    if (( (i + rep) % 2 == 0 )); then order=(meshmq mosquitto); else order=(mosquitto meshmq); fi
    for broker in "${order[@]}"; do
      # shellcheck disable=SC2086  # args is a word list on purpose
      run_cell "$cell" "$broker" "$rep" $args
    done
  done
  i=$((i + 1))
done

if [ "$DO_CLUSTER" = 1 ]; then
  run_cluster_rows
fi

TABLE="$WORK/table.md"
python3 - "$RESULTS" "$WORK" >"$TABLE" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
work = sys.argv[2]
# figure -> (json key, unit, better)
FIGS = {"msgs_per_s": ("deliveries/s", "higher"), "conn_per_s": ("conn/s", "higher"),
        "bytes_per_conn": ("bytes/conn", "lower"), "p50_us": ("p50 us", "lower"),
        "p99_us": ("p99 us", "lower"), "p999_us": ("p99.9 us", "lower")}
def figures(cell):
    if cell.startswith("mem"): return ["bytes_per_conn"]
    if cell.startswith("connect"): return ["conn_per_s"]
    if cell.startswith("latency"): return ["p50_us", "p99_us", "p999_us"]
    return ["msgs_per_s", "p50_us"]
def fmt(v):
    return "%.0f" % v if v >= 100 else "%.1f" % v
cells = []
for r in rows:
    if r["cell"] not in cells and r["broker"] in ("meshmq", "mosquitto"): cells.append(r["cell"])
print("| cell | figure | meshmq median (min-max) | mosquitto median (min-max) | meshmq/mosquitto | ratio per rep min/med/max | better | load 1-min | loss m/q |")
print("|---|---|---|---|---|---|---|---|---|")
lat = {}
for cell in cells:
    for fig in figures(cell):
        med = {}
        txt = {}
        loss = {}
        for b in ("meshmq", "mosquitto"):
            vals = [r[fig] for r in rows if r["cell"] == cell and r["broker"] == b and fig in r]
            loss[b] = sum(r.get("lost", 0) + r.get("failed", 0) for r in rows if r["cell"] == cell and r["broker"] == b)
            if vals:
                med[b] = statistics.median(vals)
                txt[b] = "%s (%s-%s)" % (fmt(med[b]), fmt(min(vals)), fmt(max(vals)))
            else:
                txt[b] = "n/a"
        ratio = "%.2f" % (med["meshmq"] / med["mosquitto"]) if len(med) == 2 and med["mosquitto"] else "n/a"
        # The two brokers of one repetition ran back to back: their ratio is the paired figure.
        reps = {}
        for r in rows:
            if r["cell"] == cell and fig in r and r["broker"] in ("meshmq", "mosquitto"):
                reps.setdefault(r["rep"], {})[r["broker"]] = r[fig]
        pr = sorted(v["meshmq"] / v["mosquitto"] for v in reps.values() if len(v) == 2 and v["mosquitto"])
        spread = "%.2f/%.2f/%.2f" % (pr[0], statistics.median(pr), pr[-1]) if pr else "n/a"
        loads = [r["load1"] for r in rows if r["cell"] == cell and "load1" in r]
        load = "%.1f-%.1f" % (min(loads), max(loads)) if loads else "n/a"
        unit, better = FIGS[fig]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (cell, unit, txt["meshmq"], txt["mosquitto"], ratio, spread, better, load, loss["meshmq"], loss["mosquitto"]))
    if cell.startswith("latency"):
        for b in ("meshmq", "mosquitto"):
            rs = [r for r in rows if r["cell"] == cell and r["broker"] == b]
            lat[b] = [statistics.median([r[k] for r in rs]) if rs else 0 for k in ("p50_us", "p90_us", "p99_us", "p999_us", "max_us")]
ccells = []
for r in rows:
    if r["broker"] == "meshmq-cluster" and r["cell"] not in ccells: ccells.append(r["cell"])
if ccells:
    print()
    print("Cluster (3 nodes, publishers on node 1, subscribers on node 2) against single-node meshmq:")
    print()
    print("| cell | figure | cluster median (min-max) | single node median (min-max) | cluster/single | ratio per rep min/med/max | load 1-min | loss c/s |")
    print("|---|---|---|---|---|---|---|---|")
    for cell in ccells:
        single = cell[len("cluster_"):]
        # Single-node runs made alternately with the cluster runs, else the main matrix's.
        sb = "meshmq-single" if any(r["broker"] == "meshmq-single" and r["cell"] == single for r in rows) else "meshmq"
        for fig in figures(single):
            vals = [r[fig] for r in rows if r["cell"] == cell and fig in r]
            svals = [r[fig] for r in rows if r["cell"] == single and r["broker"] == sb and fig in r]
            loss = sum(r.get("lost", 0) + r.get("failed", 0) for r in rows if r["cell"] == cell)
            sloss = sum(r.get("lost", 0) + r.get("failed", 0) for r in rows if r["cell"] == single and r["broker"] == sb)
            if not vals:
                print("| %s | %s | n/a | | | | | |" % (cell, FIGS[fig][0])); continue
            m = statistics.median(vals)
            sm = statistics.median(svals) if svals else 0
            reps = {}
            for r in rows:
                if fig in r and ((r["cell"] == cell) or (r["cell"] == single and r["broker"] == sb)):
                    reps.setdefault(r["rep"], {})[r["broker"]] = r[fig]
            pr = sorted(v["meshmq-cluster"] / v[sb] for v in reps.values() if len(v) == 2 and v.get(sb))
            spread = "%.2f/%.2f/%.2f" % (pr[0], statistics.median(pr), pr[-1]) if pr else "n/a"
            loads = [r["load1"] for r in rows if r["cell"] in (cell, single) and r["broker"] in ("meshmq-cluster", sb) and "load1" in r]
            load = "%.1f-%.1f" % (min(loads), max(loads)) if loads else "n/a"
            stxt = "%s (%s-%s)" % (fmt(sm), fmt(min(svals)), fmt(max(svals))) if svals else "n/a"
            print("| %s | %s | %s (%s-%s) | %s | %s | %s | %s | %d/%d |" % (cell, FIGS[fig][0], fmt(m), fmt(min(vals)), fmt(max(vals)),
                  stxt, "%.2f" % (m / sm) if sm else "n/a", spread, load, loss, sloss))
with open(work + "/latency.dat", "w") as f:
    for i, name in enumerate(("p50", "p90", "p99", "p99.9", "max")):
        f.write("%s %s %s\n" % (name, lat.get("meshmq", [0]*5)[i], lat.get("mosquitto", [0]*5)[i]))
PY
echo
cat "$TABLE"

if [ "$DO_DOCS" = 1 ] && [ "$QUICK" = 0 ]; then
  if command -v gnuplot >/dev/null; then
    gnuplot <<GP
set terminal pngcairo size 800,450 noenhanced
set output "$ROOT/docs/benchmarks-latency.png"
set title "Latency at 10 pairs x 1000 msg/s, QoS 0, 64 B (median of $REPEAT runs)"
set ylabel "microseconds (log scale)"
set logscale y
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set grid ytics
plot "$WORK/latency.dat" using 2:xtic(1) title "meshmq", "" using 3 title "mosquitto"
GP
  else
    echo "bench.sh: gnuplot not found (scripts/install-deps.sh installs gnuplot-nox); no plot" >&2
  fi
  python3 - "$ROOT/docs/benchmarks.md" "$TABLE" "$REPEAT" "$D" "$WORKERS" "$MESHMQ" <<'PY'
import datetime, os, platform, re, subprocess, sys
doc, table, repeat, duration, workers, binary = sys.argv[1:7]
head = subprocess.run(["git", "-C", os.path.dirname(doc), "rev-parse", "--short", "HEAD"],
                      capture_output=True, text=True).stdout.strip()
built = datetime.datetime.fromtimestamp(os.path.getmtime(binary)).strftime("%Y-%m-%d %H:%M")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
mosq = subprocess.run(["/usr/sbin/mosquitto", "-h"], capture_output=True, text=True).stdout.splitlines()[0]
load = open("/proc/loadavg").read().split()[:3]
block = ("<!-- bench:begin -->\n"
         "Run of %s: %s cores (%s), kernel %s, %s; load average at the end %s.\n"
         "`scripts/bench.sh --repeat %s --duration %s` (meshmq `--workers %s`); meshmq binary "
         "`%s` built %s, repository at %s.\n\n%s"
         "<!-- bench:end -->" % (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), nproc, cpu,
                                 platform.release(), mosq, " ".join(load), repeat, duration,
                                 workers, binary, built, head, open(table).read()))
text = open(doc).read()
text = re.sub(r"<!-- bench:begin -->.*<!-- bench:end -->", lambda m: block, text, flags=re.S)
open(doc, "w").write(text)
PY
  echo "bench.sh: updated docs/benchmarks.md and docs/benchmarks-latency.png"
fi
echo "bench.sh: results in $RESULTS"
