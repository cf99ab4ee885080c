#!/usr/bin/env bash
# bench/ingest_pair.sh N BINARY... -- interleaved full ingests of one file by
# several aquasense binaries (e.g. before/after a change), N rounds, each run
# into an empty data dir after `sync`; prints per binary the mean wall time,
# the mean CPU time (user + system, /usr/bin/time) and every run's wall time.
# Interleaving keeps the comparison fair on a machine whose speed drifts.
#   FILE [bench/out/data_10000000.csv]  SCRATCH [mktemp -d]
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 N BINARY..." >&2; exit 1; }
N=$1; shift
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILE=${FILE:-$ROOT/bench/out/data_10000000.csv}
[[ -r $FILE ]] || { echo "no $FILE (bench/ingest_bench.sh generates it)" >&2; exit 1; }
SCRATCH=${SCRATCH:-$(mktemp -d)}
# Every run gets a new store; all are deleted after the last run, not between
# runs (bench/ingest_bench.sh, aside: on ext4 without a journal a run right
# after deleting a store's ~2,000 files pays ~6% for it).
trap 'rm -rf "$SCRATCH"/store.* "$SCRATCH/time"' EXIT
k=0
for _ in $(seq "$N"); do
  for b in "$@"; do
    k=$((k + 1)); sync
    /usr/bin/time -f "$b %e %U %S" -o "$SCRATCH/time" "$b" ingest --data "$SCRATCH/store.$k" "$FILE" >/dev/null 2>&1
    cat "$SCRATCH/time"
  done
done | awk '{w[$1] = w[$1] " " $2; s[$1] += $2; c[$1] += $3 + $4; n[$1]++}
  END {for (k in w) printf "%s: wall %.3f s, cpu %.3f s; runs:%s\n", k, s[k] / n[k], c[k] / n[k], w[k]}'
