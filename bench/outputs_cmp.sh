#!/usr/bin/env bash
# bench/outputs_cmp.sh OLD NEW [ROWS] -- byte-identity of two aquasense binaries'
# outputs on every number shape (issue 11: a speed change must not change a byte).
#
# For each shape of aq_gen_data --digits (2, 3, full, mix; ROWS rows, default
# 200,000, 1% bad rows and 1% duplicates) both binaries ingest the same file
# into an empty data dir; then compared byte for byte: the filtered/ files
# (valid + invalid rows), analysis/monthly/, `export` (csv and json), the stored
# readings of a few sensors read back through the blocks (`readings`: proves the
# block codec round-trips) and the ingest summary (--json, its `seconds` aside).
# Exit 0 when every output matches; prints one line per shape.
#   GEN [build/bench/aq_gen_data]  SHAPES ["2 3 full mix"]  SCRATCH [mktemp -d]
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 OLD NEW [ROWS]" >&2; exit 2; }
OLD=$(realpath "$1"); NEW=$(realpath "$2"); ROWS=${3:-200000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GEN=${GEN:-$ROOT/build/bench/aq_gen_data}
[[ -x $GEN ]] || GEN=$ROOT/build-bench/aq_gen_data
[[ -x $GEN ]] || { echo "no aq_gen_data (build with -DAQUASENSE_BENCH=ON)" >&2; exit 2; }
SHAPES=${SHAPES:-2 3 full mix}
SCRATCH=${SCRATCH:-$(mktemp -d)}
trap 'rm -rf "$SCRATCH"' EXIT

# outputs BIN DATADIR OUTDIR: everything the binary produced, as plain files.
outputs() {
  local bin=$1 data=$2 out=$3
  mkdir -p "$out"
  (cd "$data" && find filtered analysis -type f ! -name '*.intent' -print0 | sort -z |
     xargs -0 cat) > "$out/files"
  "$bin" --data "$data" export > "$out/export.csv"
  "$bin" --data "$data" export --format json > "$out/export.json"
  for s in sensor-0001 sensor-0002 sensor-0500 sensor-1000; do
    "$bin" --data "$data" readings --sensor "$s" >> "$out/readings.csv" 2>/dev/null || true
  done
}

status=0
for shape in $SHAPES; do
  file=$SCRATCH/data_$shape.csv
  "$GEN" --rows "$ROWS" --sensors 1000 --bad-share 0.01 --dup-share 0.01 --seed 42 \
    --digits "$shape" > "$file"
  for side in old new; do
    bin=$OLD; [[ $side == new ]] && bin=$NEW
    rm -rf "$SCRATCH/store_$side" "$SCRATCH/out_$side"
    "$bin" ingest --data "$SCRATCH/store_$side" --json "$file" 2>/dev/null |
      sed 's/"seconds":[0-9.e+-]*//' > "$SCRATCH/summary_$side.json"
    outputs "$bin" "$SCRATCH/store_$side" "$SCRATCH/out_$side"
    mv "$SCRATCH/summary_$side.json" "$SCRATCH/out_$side/summary.json"
  done
  if diff -rq "$SCRATCH/out_old" "$SCRATCH/out_new" >/dev/null; then
    echo "--digits $shape: identical ($(cat "$SCRATCH"/out_new/* | wc -c) bytes compared)"
  else
    echo "--digits $shape: DIFFERENT:"; diff -rq "$SCRATCH/out_old" "$SCRATCH/out_new" || true
    status=1
  fi
done
exit $status
