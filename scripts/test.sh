#!/usr/bin/env bash
# Installs dependencies if missing, builds, and runs every test through CTest:
#   1. the normal build (unit + integration tests),
#   2. the ASan+UBSan build (unit + integration tests),
#   3. the libFuzzer targets (clang) for a bounded time.
# Env: MESHMQ_SKIP_ASAN=1 / MESHMQ_SKIP_FUZZ=1 skip a stage for quick local runs (CI runs all),
#      MESHMQ_FUZZ_SECONDS (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# install-deps.sh put chromium in place: the dashboard browser test must run, never skip.
export MESHMQ_REQUIRE_DASHBOARD_TEST=1
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
status=0
# Each stage line carries the seconds since the start, so a slow CI run shows where time went.
stage() { echo "== $* (at ${SECONDS}s)"; }

stage "build (RelWithDebInfo)"
scripts/build.sh build
# JavaScript test clients (MQTT.js, playwright-core) from their committed lock files, once, before
# CTest runs tests in parallel that would otherwise race to install them.
stage "JavaScript test dependencies"
for d in tests/integration/js tests/integration/dashboard; do
  if [ -f "$d/package-lock.json" ]; then
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed in $d"; status=1; }
  fi
done
stage "tests"
if ! (cd build && ctest --output-on-failure -j 2 --timeout 600); then
  # A test that fails under the parallel load and passes when re-run alone is reported by name as
  # FLAKY (never silently): known cases are listed in docs/testing.md and in the issue notes.
  failed=$(tr '\n' ' ' < build/Testing/Temporary/LastTestsFailed.log 2>/dev/null || true)
  stage "re-running the failed tests once, alone: $failed"
  if (cd build && ctest --rerun-failed --output-on-failure --timeout 600); then
    echo "test.sh: FLAKY (failed under load, passed on a re-run): $failed"
  else
    status=1
  fi
fi

if [ "${MESHMQ_SKIP_ASAN:-0}" != 1 ]; then
  # The sanitizer stage covers the data plane (codec, broker, auth, config) and the single-node
  # integration tests against an ASan+UBSan meshmq; the cluster, deployment and benchmark suites
  # run in the normal stage only, which keeps the whole CI run within its time budget.
  stage "build (ASan+UBSan)"
  # meshmq-bench: storage_durability_test loads the broker with it while it kills the broker.
  ASAN_TARGETS=(meshmq meshmq-bench codec_test broker_test transport_test auth_test config_test)
  if [ ! -f build-asan/CMakeCache.txt ]; then
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMESHMQ_SANITIZE=ON
  fi
  cmake --build build-asan -j "$(nproc)" --target "${ASAN_TARGETS[@]}"
  stage "tests under ASan+UBSan"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j 2 --timeout 900 \
       -R '^(codec|broker|transport|auth|config)[.]|^integration[.]' \
       -E '^integration[.](cluster_|dashboard|deploy_|embedding|prometheus|shutdown|bench|tls|websocket)') || status=1
fi

if [ "${MESHMQ_SKIP_FUZZ:-0}" != 1 ]; then
  stage "fuzz (clang libFuzzer, ${MESHMQ_FUZZ_SECONDS:-30}s per target)"
  if [ ! -f build-fuzz/CMakeCache.txt ]; then
    CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMESHMQ_FUZZ=ON -DMESHMQ_WERROR=OFF -DMESHMQ_FUZZ_SECONDS="${MESHMQ_FUZZ_SECONDS:-30}"
  fi
  cmake --build build-fuzz -j "$(nproc)" --target fuzzers
  (cd build-fuzz && ctest --output-on-failure -L fuzz) || status=1
fi

if [ $status -ne 0 ]; then
  echo "test.sh: FAILED"
else
  echo "test.sh: all stages passed in ${SECONDS}s"
fi
exit $status
