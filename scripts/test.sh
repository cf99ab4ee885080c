#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#  1. builds with warnings as errors and runs every unit and end-to-end test;
#  2. builds with AddressSanitizer + UndefinedBehaviorSanitizer and runs them again;
#  3. builds the libFuzzer target (clang, ASan+UBSan) and fuzzes the row parser
#     for FUZZ_SECONDS (default 60) on the fixture corpus.
# Set SKIP_SANITIZE=1 / SKIP_FUZZ=1 for a quicker local run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

echo "== 1/3 build (-Werror) and test"
BUILD_DIR=build scripts/build.sh -DAQUASENSE_WERROR=ON
(cd build && ctest --output-on-failure -j "$jobs" --timeout 1800)

if [[ "${SKIP_SANITIZE:-0}" != 1 ]]; then
  echo "== 2/3 ASan + UBSan build and test"
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DAQUASENSE_WERROR=ON -DAQUASENSE_SANITIZE=ON -DAQUASENSE_BENCH=OFF
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-asan && ctest --output-on-failure -j "$jobs" --timeout 2400 -E 'e2e_core_crash')
fi

if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== 3/3 fuzz the row parser for ${FUZZ_SECONDS:-60} s"
  fuzz/run.sh "${FUZZ_SECONDS:-60}"
fi
echo "== all tests passed"
