#!/usr/bin/env bash
# bench/ingest_bench.sh [ROWS] -- AquaSense ingest benchmark, all in one run.
#
# Measures, on synthetic data from aq_gen_data (default 10,000,000 rows,
# 1000 sensors, 1% bad rows, 1% exact duplicates):
#   1. full ingest into an empty data dir (hyperfine)       -> rows/s, MB/s
#   2. the same on a SMALL_ROWS file (default 1,000,000)
#   3. the pandas peer (bench/pandas_peer.py) on the same file as 1 (or on the
#      small file with PANDAS_ROWS=small) -> like-for-like time ratio
#   4. peak RSS (/usr/bin/time -v) of aquasense on the small and the big file,
#      and of pandas on the small (and, unless PANDAS_RSS_BIG=0, the big) file
#   5. incremental ingest: one week of one sensor, dated after the end of the
#      data, into a copy of the full store (hyperfine, copy in --prepare);
#      ratio to the full ingest time; the same week into an empty store as the
#      fixed-cost reference; the fsync count of one incremental run (strace);
#      and UPLOAD_WEEKS (30; 0 skips) weeks uploaded one after another to a
#      running `serve` on a copy of the store (bench/http/upload_bench.sh),
#      whose server-side median gives the same ratio for the running service
#   6. cross-check: aquasense's counts and analysis/monthly/ (per-sensor files) against pandas'
#   7. number shapes (issue 11): the same ROWS rows written with 2 decimals, 3
#      decimals and full precision (aq_gen_data --digits; the main file above
#      is `mix`), each ingested by aquasense and by the pandas peer on the same
#      file in this run, with the store's bytes per valid reading
# and prints a markdown table, also written to bench/out/ingest_results.md.
#
# Environment knobs (defaults in brackets):
#   SENSORS [1000]  SEED [42]  BAD_SHARE [0.01]  DUP_SHARE [0.01]
#   SMALL_ROWS [1000000]  RUNS [3]  SMALL_RUNS [5]  PANDAS_RUNS [2]  INC_RUNS [10]
#   HUGE_ROWS [30000000: a third file, for aquasense's peak RSS only; 0 skips]
#   PANDAS_ROWS [ROWS; "small" = SMALL_ROWS]  PANDAS_RSS_BIG [1]
#   DIGITS [mix: the main file's --digits]  SHAPES ["2 3 full": the shape table's
#   other files, "" skips]  SHAPE_RUNS [RUNS]  SHAPE_PANDAS_RUNS [1]
#   BUILD_DIR [build]  AQUASENSE [BUILD_DIR/src/cli/aquasense]
#   GEN [BUILD_DIR/bench/aq_gen_data, else build-bench/aq_gen_data, built
#   from bench/ alone if missing]  PYTHON [/usr/bin/python3]
set -euo pipefail

ROWS=${1:-10000000}
SENSORS=${SENSORS:-1000}
SEED=${SEED:-42}
BAD_SHARE=${BAD_SHARE:-0.01}
DUP_SHARE=${DUP_SHARE:-0.01}
SMALL_ROWS=${SMALL_ROWS:-1000000}
RUNS=${RUNS:-3}
SMALL_RUNS=${SMALL_RUNS:-5}
PANDAS_RUNS=${PANDAS_RUNS:-2}
INC_RUNS=${INC_RUNS:-10}
PANDAS_ROWS=${PANDAS_ROWS:-$ROWS}
[[ $PANDAS_ROWS == small ]] && PANDAS_ROWS=$SMALL_ROWS
PANDAS_RSS_BIG=${PANDAS_RSS_BIG:-1}
HUGE_ROWS=${HUGE_ROWS:-30000000}  # peak RSS only, to show it stays flat (0: skip)
DIGITS=${DIGITS:-mix}
SHAPES=${SHAPES-2 3 full}
SHAPE_RUNS=${SHAPE_RUNS:-$RUNS}
SHAPE_PANDAS_RUNS=${SHAPE_PANDAS_RUNS:-1}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
AQ=${AQUASENSE:-$BUILD_DIR/src/cli/aquasense}
GEN=${GEN:-}
if [[ -z $GEN ]]; then  # the project build (AQUASENSE_BENCH=ON), else bench/ alone
  GEN=$BUILD_DIR/bench/aq_gen_data
  [[ -x $GEN ]] || GEN=$ROOT/build-bench/aq_gen_data
fi
PY=${PYTHON:-/usr/bin/python3}
PEER=$ROOT/bench/pandas_peer.py
OUT=$ROOT/bench/out

die() { echo "ingest_bench: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
for tool in hyperfine /usr/bin/time "$PY"; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ $ROWS =~ ^[0-9]+$ && $ROWS -gt 0 ]] || die "ROWS must be a positive integer"
(( SMALL_ROWS <= ROWS )) || SMALL_ROWS=$ROWS

# --- binaries ----------------------------------------------------------------
if [[ ! -x $AQ ]]; then
  log "building aquasense (binary missing)"
  [[ -f $BUILD_DIR/CMakeCache.txt ]] || cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >&2
  cmake --build "$BUILD_DIR" --target aquasense >&2
fi
if [[ ! -x $GEN ]]; then
  log "building aq_gen_data on its own into build-bench/"
  cmake -S "$ROOT/bench" -B "$ROOT/build-bench" -G Ninja >&2
  cmake --build "$ROOT/build-bench" >&2
  GEN=$ROOT/build-bench/aq_gen_data
fi
[[ -x $AQ ]] || die "no aquasense binary at $AQ"
[[ -x $GEN ]] || die "no aq_gen_data binary at $GEN"

mkdir -p "$OUT"
cd "$OUT"
# Snapshot the binary: others may rebuild build/ while this runs.
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || GIT_REV="$GIT_REV+uncommitted"
AQ_BUILT=$(date -u -r "$AQ" '+%Y-%m-%d %H:%M UTC')
cp "$AQ" aquasense.bin
AQ=$OUT/aquasense.bin

# --- data --------------------------------------------------------------------
gen() {  # gen ROWS -> data_ROWS.csv (+ .meta)
  local n=$1 f=data_$1.csv
  local digits=${2:-$DIGITS}
  [[ -n ${2:-} ]] && f=data_$2_$1.csv
  log "generating $f ($n rows, $SENSORS sensors, seed $SEED, --digits $digits)"
  "$GEN" --rows "$n" --sensors "$SENSORS" --bad-share "$BAD_SHARE" \
         --dup-share "$DUP_SHARE" --seed "$SEED" --digits "$digits" --meta "$f.meta" > "$f"
}
BIG=data_$ROWS.csv
SMALL=data_$SMALL_ROWS.csv
gen "$ROWS"
[[ $SMALL != "$BIG" ]] && gen "$SMALL_ROWS"
if [[ $PANDAS_ROWS != "$ROWS" && $PANDAS_ROWS != "$SMALL_ROWS" ]]; then
  gen "$PANDAS_ROWS"
fi
PANDAS_FILE=data_$PANDAS_ROWS.csv
NEXT_DATE=$(sed -n 's/^next_date=//p' "$BIG.meta")
WEEK_SENSOR=sensor-0001
"$GEN" --week "$WEEK_SENSOR:$NEXT_DATE" --seed "$SEED" --digits "$DIGITS" > week.csv

rm -rf store_* pandas_out hf_*.json rss_*.txt summary_*.json upload_results.md bytes_*.txt
# A timed ingest's previous store is moved into trash/ (same file system), not
# deleted, and trash/ is emptied after the last timed run: on ext4 without a
# journal (these VMs) creating a file walks past every inode freed in the last
# minutes, so deleting a store's ~2,000 files right before a run cost that run
# ~6% (10M mix, 2026-12-05: 2.83 s into a fresh directory, 3.00 s right after
# `rm -rf` of the last store). A user's ingest does not follow such a delete.
rm -rf trash && mkdir trash
aside() { echo "[ ! -e $1 ] || mv $1 trash/$1.\$(date +%s%N); sync"; }  # a --prepare command

# --- 1, 2: full ingest -----------------------------------------------------------
full_ingest() {  # full_ingest TAG FILE RUNS
  local tag=$1 file=$2 runs=$3
  log "aquasense full ingest: $file ($runs runs)"
  hyperfine --style basic --runs "$runs" \
    --prepare "$(aside "store_$tag")" \
    --export-json "hf_aq_$tag.json" \
    "'$AQ' ingest --data store_$tag --json $file > summary_aq_$tag.json" >&2
}
full_ingest big "$BIG" "$RUNS"
if [[ $SMALL != "$BIG" ]]; then full_ingest small "$SMALL" "$SMALL_RUNS"; fi
if [[ $PANDAS_FILE != "$BIG" && $PANDAS_FILE != "$SMALL" ]]; then
  full_ingest peer "$PANDAS_FILE" "$SMALL_RUNS"
fi

# --- 3: pandas peer ------------------------------------------------------------
log "pandas peer: $PANDAS_FILE ($PANDAS_RUNS runs)"
hyperfine --style basic --runs "$PANDAS_RUNS" \
  --prepare "rm -rf pandas_out && sync" \
  --export-json hf_pandas.json \
  "'$PY' '$PEER' $PANDAS_FILE pandas_out > summary_pandas.json" >&2

# --- 4: peak RSS -----------------------------------------------------------------
rss() {  # rss OUTFILE CMD... -> max RSS in KiB written to OUTFILE
  local outfile=$1; shift
  /usr/bin/time -v -o "$outfile.time" "$@" > /dev/null
  sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$outfile.time" > "$outfile"
}
log "peak RSS: aquasense on $SMALL and $BIG"
rm -rf store_rss && rss rss_aq_small.txt "$AQ" ingest --data store_rss --json "$SMALL"
rm -rf store_rss && rss rss_aq_big.txt "$AQ" ingest --data store_rss --json "$BIG"
rm -rf store_rss
if [[ $HUGE_ROWS -gt $ROWS ]]; then
  gen "$HUGE_ROWS"
  log "peak RSS: aquasense on data_$HUGE_ROWS.csv"
  rm -rf store_rss && rss rss_aq_huge.txt "$AQ" ingest --data store_rss --json "data_$HUGE_ROWS.csv"
  rm -rf store_rss "data_$HUGE_ROWS.csv"
fi
log "peak RSS: pandas on $SMALL"
rm -rf pandas_rss && rss rss_pandas_small.txt "$PY" "$PEER" "$SMALL" pandas_rss
if [[ $PANDAS_RSS_BIG == 1 && $SMALL != "$BIG" ]]; then
  log "peak RSS: pandas on $BIG"
  rm -rf pandas_rss && rss rss_pandas_big.txt "$PY" "$PEER" "$BIG" pandas_rss
fi
rm -rf pandas_rss

# --- 5: incremental ------------------------------------------------------------
log "incremental: one week of $WEEK_SENSOR from $NEXT_DATE into a copy of the $ROWS-row store ($INC_RUNS runs)"
du -sb store_big | cut -f1 > store_big.bytes
hyperfine --style basic --runs "$INC_RUNS" \
  --prepare "rm -rf store_inc && cp -a store_big store_inc && sync" \
  --export-json hf_inc.json \
  "'$AQ' ingest --data store_inc --json week.csv > summary_inc.json" >&2
log "reference: the same week into an empty store ($INC_RUNS runs)"
hyperfine --style basic --runs "$INC_RUNS" \
  --prepare "rm -rf store_empty && sync" \
  --export-json hf_inc_empty.json \
  "'$AQ' ingest --data store_empty --json week.csv > summary_inc_empty.json" >&2
rm -rf store_empty
log "fsync-type calls of one incremental run (strace -c), if strace is installed"
if command -v strace >/dev/null; then
  rm -rf store_inc && cp -a store_big store_inc && sync
  strace -f -c -w -e trace=fsync,fdatasync,sync_file_range -o strace_inc.txt \
    "$AQ" ingest --data store_inc --json week.csv > /dev/null || true
fi

# --- 5b: the same, uploaded to a running serve --------------------------------
# One week after another into one copy of the store through POST /v1/ingest
# (bench/http/upload_bench.sh): the server's median, for the same ratio.
if [[ ${UPLOAD_WEEKS:-30} -gt 0 ]]; then
  log "upload: ${UPLOAD_WEEKS:-30} weeks of $WEEK_SENSOR to a running serve (bench/http/upload_bench.sh)"
  STORE=$OUT/store_big START=$NEXT_DATE WEEKS=${UPLOAD_WEEKS:-30} SENSOR=$WEEK_SENSOR GEN=$GEN \
    OUT=$OUT/upload_results.md "$ROOT/bench/http/upload_bench.sh" "$AQ" >&2 || rm -f upload_results.md
fi

# --- 7: number shapes ----------------------------------------------------------
# Bytes per valid reading: the SQLite database after the ingest (checkpointed).
store_bytes() {  # store_bytes STORE TAG
  du -sb "$1/aquasense.db" 2>/dev/null | cut -f1 > "bytes_$2.txt" || true
}
store_bytes store_big big
for shape in $SHAPES; do
  f=data_${shape}_$ROWS.csv
  gen "$ROWS" "$shape"
  log "shape $shape: aquasense ($SHAPE_RUNS runs), then pandas ($SHAPE_PANDAS_RUNS runs), same file"
  hyperfine --style basic --runs "$SHAPE_RUNS" \
    --prepare "$(aside store_shape)" \
    --export-json "hf_aq_shape_$shape.json" \
    "'$AQ' ingest --data store_shape --json $f > summary_aq_shape_$shape.json" >&2
  store_bytes store_shape "shape_$shape"
  hyperfine --style basic --runs "$SHAPE_PANDAS_RUNS" \
    --prepare "rm -rf pandas_shape && sync" \
    --export-json "hf_pandas_shape_$shape.json" \
    "'$PY' '$PEER' $f pandas_shape > /dev/null" >&2
  mv store_shape "trash/store_shape.$shape"; rm -rf pandas_shape "$f"
done

# --- 6 + table -------------------------------------------------------------------
if [[ $PANDAS_FILE == "$BIG" ]]; then PEER_STORE=store_big
elif [[ $PANDAS_FILE == "$SMALL" ]]; then PEER_STORE=store_small
else PEER_STORE=store_peer; fi

export ROWS SMALL_ROWS PANDAS_ROWS SENSORS SEED BAD_SHARE DUP_SHARE BIG SMALL PANDAS_FILE \
       PEER_STORE WEEK_SENSOR NEXT_DATE RUNS SMALL_RUNS PANDAS_RUNS INC_RUNS HUGE_ROWS \
       DIGITS SHAPES
export GIT_REV AQ_BUILT
export CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
export NPROC=$(nproc)
export HF_VERSION=$(hyperfine --version)
"$PY" "$ROOT/bench/report.py" | tee ingest_results.md
log "written $OUT/ingest_results.md"
rm -rf trash  # after the last timed run (see aside)
