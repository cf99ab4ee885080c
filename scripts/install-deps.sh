#!/usr/bin/env bash
# Installs every Debian package AquaSense needs to build, test and benchmark
# (Debian 12). Idempotent: packages already present are skipped. Run as root
# (or with sudo available).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git ca-certificates ccache
  libboost1.81-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev nettle-dev
  nlohmann-json3-dev libcli11-dev libfast-float-dev
  # tests, fuzzing, sanitizers
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev llvm
  curl jq python3 python3-aiosmtpd procps openssl strace
  clang-format clang-tidy  # scripts/check-style.sh
  # benchmarks and peers
  hyperfine wrk nginx-light python3-pandas python3-flask gunicorn time
  # the dashboard: its charting library (embedded at build time), and the
  # browser its end-to-end test drives (tests/e2e/dashboard)
  libjs-dygraphs chromium
  linux-perf  # perf: the per-function profiles of BENCHMARKS.md
)
# node + npm for the browser test's driver (puppeteer-core, npm ci from its
# lockfile): Debian's, unless a node with npm is installed already.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
