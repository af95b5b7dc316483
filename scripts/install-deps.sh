#!/usr/bin/env bash
# Installs every Debian 12 package meshmq needs to build, run and test. Idempotent: does nothing
# when all packages are present. Needs root (or sudo) when something is missing.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config
  libboost-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libspdlog-dev nlohmann-json3-dev libc-ares-dev libgtest-dev libgmock-dev libssl-dev
  librocksdb-dev ccache
  # fuzzing and sanitizers
  clang libclang-rt-14-dev
  # tests: real clients, servers and tools
  mosquitto mosquitto-clients python3 python3-paho-mqtt python3-yaml dnsmasq-base prometheus
  iproute2 procps openssl curl docker-compose gnuplot-nox
  # dashboard end-to-end test (npm packages come from the npm registry, pinned in lock files;
  # Node.js >= 20.19 with npm is expected on the machine: Vite 7 needs it, Debian 12's is older)
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
