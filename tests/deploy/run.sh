#!/usr/bin/env bash
# Runs every tests/deploy/*_test.sh (or the ones named), one after another,
# each under its own time budget (DEPLOY_TEST_TIMEOUT seconds, default 1800),
# and prints how long each took. A script exits 0 (passed), 77 (skipped: a
# tool it needs cannot run here; it says why, loudly) or anything else
# (failed). Exit: 0 when none failed.
#   tests/deploy/run.sh
#   tests/deploy/run.sh tests/deploy/image_test.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The image first: the compose test runs the image image_test.sh just built
# from this checkout (a stale aquasense:latest would test an older binary).
if (($# == 0)); then
  set -- "$here"/image_test.sh
  for t in "$here"/*_test.sh; do [[ $t == */image_test.sh ]] || set -- "$@" "$t"; done
fi
failed=() skipped=()
total_start=$SECONDS
for t in "$@"; do
  name=$(basename "$t" .sh)
  echo "== deploy: $name"
  start=$SECONDS
  timeout --kill-after=30 "${DEPLOY_TEST_TIMEOUT:-1800}" bash "$t"
  rc=$?
  took=$((SECONDS - start))
  case $rc in
    0) echo "== deploy: $name passed in ${took} s" ;;
    77) echo "== deploy: $name SKIPPED in ${took} s (see above why)"; skipped+=("$name") ;;
    124) echo "== deploy: $name TIMED OUT after ${took} s"; failed+=("$name") ;;
    *) echo "== deploy: $name FAILED (exit $rc) in ${took} s"; failed+=("$name") ;;
  esac
done
echo "== deploy: $# scripts in $((SECONDS - total_start)) s; failed: ${failed[*]:-none}; skipped: ${skipped[*]:-none}"
((${#failed[@]} == 0))
