#!/usr/bin/env bash
# Installs every Debian package AquaSense needs to build, test and benchmark
# (Debian 12). Idempotent: packages already present are skipped. Run as root
# (or with sudo available).
#   scripts/install-deps.sh            # build + test + benchmark (CI, developers)
#   scripts/install-deps.sh --build    # only what building the binary needs (the image's builder)
#   scripts/install-deps.sh --deploy   # all + what tests/deploy runs containers with
set -euo pipefail

# --build: the image's builder stage (deploy/Dockerfile); CMake's configure
# step needs the test libraries and dygraphs too.
build=(
  build-essential cmake ninja-build pkg-config git ca-certificates ccache
  libboost1.81-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev nettle-dev
  libssl-dev nlohmann-json3-dev libcli11-dev libfast-float-dev
  libgtest-dev libgmock-dev libjs-dygraphs
)
# --deploy: podman with runc (deploy/containers.conf), the dnsname plugin
# (service names on compose networks), debootstrap for a base image where no
# registry is reachable, busybox-static (the image's health probe).
deploy=(podman buildah runc debootstrap podman-compose uidmap busybox-static
  golang-github-containernetworking-plugin-dnsname)
packages=(
  # build
  build-essential cmake ninja-build pkg-config git ca-certificates ccache
  libboost1.81-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev nettle-dev
  libssl-dev  # serve --tls-cert: Boost.Asio SSL over OpenSSL
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
  # deploy/ checks (tests/deploy/stacks_test.sh); cfn-lint, moto and the aws
  # CLI come from pip, kubectl from kubernetes-client unless one is installed
  yamllint shellcheck
)
command -v kubectl >/dev/null || packages+=(kubernetes-client)
# node + npm for the browser test's driver (puppeteer-core, npm ci from its
# lockfile): Debian's, unless a node with npm is installed already.
command -v npm >/dev/null || packages+=(nodejs npm)
case "${1:-}" in
  --build) packages=("${build[@]}") ;;
  --deploy) packages+=("${deploy[@]}") ;;
  "") ;;
  *) echo "usage: $0 [--build|--deploy]" >&2; exit 2 ;;
esac

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
