#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#  0. checks the style: clang-format and clang-tidy (scripts/check-style.sh);
#  1. builds with warnings as errors and runs every unit and end-to-end test;
#  2. builds with AddressSanitizer + UndefinedBehaviorSanitizer and runs them again;
#  3. builds with ThreadSanitizer and runs the unit tests and the HTTP and
#     hostile end-to-end tests (the threads of the server, worker and watcher);
#  4. builds every libFuzzer target (clang, ASan+UBSan, fuzz/run.sh) and fuzzes
#     each (the row parser FUZZ_SECONDS, default 60; the others a third of it).
# Then the cluster stage: tests/e2e/cloud/cluster_test.sh (issue 13: moto, 3
# workers, 2 serve replicas, 300 files, kill -9 x10) on the -Werror build's
# binary within CLUSTER_BUDGET seconds (default 1500); it is DISABLED in ctest.
# Then the deploy stage: tests/deploy/run.sh (the container image, the compose
# cluster, ...) within DEPLOY_BUDGET seconds (default 2400); each script skips
# loudly where podman cannot run.
# Set SKIP_STYLE=1 / SKIP_SANITIZE=1 / SKIP_TSAN=1 / SKIP_FUZZ=1 / SKIP_CLUSTER=1 /
# SKIP_DEPLOY=1 for a quicker local run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

if [[ "${SKIP_STYLE:-0}" != 1 ]]; then
  echo "== 0/4 style: clang-format and clang-tidy"
  BUILD_DIR=build JOBS="$jobs" scripts/check-style.sh
fi

echo "== 1/4 build (-Werror) and test"
BUILD_DIR=build scripts/build.sh -DAQUASENSE_WERROR=ON
(cd build && ctest --output-on-failure -j "$jobs" --timeout 1800)

if [[ "${SKIP_SANITIZE:-0}" != 1 ]]; then
  echo "== 2/4 ASan + UBSan build and test"
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DAQUASENSE_WERROR=ON -DAQUASENSE_SANITIZE=ON -DAQUASENSE_BENCH=OFF
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-asan && ctest --output-on-failure -j "$jobs" --timeout 2400 -E 'e2e_core_crash')
fi

if [[ "${SKIP_TSAN:-0}" != 1 ]]; then
  echo "== 3/4 ThreadSanitizer build and test (unit, http, hostile)"
  BUILD_DIR=build-tsan BUILD_TYPE=RelWithDebInfo scripts/build.sh -DAQUASENSE_WERROR=ON -DAQUASENSE_TSAN=ON -DAQUASENSE_BENCH=OFF
  (cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    ctest --output-on-failure -j "$jobs" --timeout 2400 -E 'e2e_core|e2e_alerts')
fi

if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== 4/4 fuzz every parser of outside input (fuzz/run.sh ${FUZZ_SECONDS:-60})"
  fuzz/run.sh "${FUZZ_SECONDS:-60}"
fi
if [[ "${SKIP_CLUSTER:-0}" != 1 ]]; then
  echo "== cluster: tests/e2e/cloud/cluster_test.sh (budget ${CLUSTER_BUDGET:-1500} s)"
  cluster_start=$SECONDS
  AQ=build/src/cli/aquasense timeout --kill-after=30 "${CLUSTER_BUDGET:-1500}" \
    tests/e2e/cloud/cluster_test.sh
  echo "== cluster stage took $((SECONDS - cluster_start)) s"
fi
if [[ "${SKIP_DEPLOY:-0}" != 1 ]]; then
  echo "== deploy: tests/deploy/run.sh (budget ${DEPLOY_BUDGET:-2400} s)"
  scripts/install-deps.sh --deploy
  deploy_start=$SECONDS
  timeout --kill-after=60 "${DEPLOY_BUDGET:-2400}" tests/deploy/run.sh
  echo "== deploy stage took $((SECONDS - deploy_start)) s"
fi
echo "== all tests passed"
