#!/usr/bin/env bash
# Runs every hostile test script (tests/e2e/hostile/*_test.sh) against AQ
# (default build/src/cli/aquasense). Exits non-zero if any of them failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export AQ=${AQ:-$here/../../../build/src/cli/aquasense}
failed=0
for t in "$here"/*_test.sh; do
  echo "== $(basename "$t")"
  bash "$t" || { echo "FAILED: $(basename "$t")"; failed=$((failed + 1)); }
done
((failed == 0)) && echo "hostile: all scripts passed" || echo "hostile: $failed script(s) failed"
exit $((failed > 0))
