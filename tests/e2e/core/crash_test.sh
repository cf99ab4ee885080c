#!/usr/bin/env bash
# kill -9 crash safety of `aquasense ingest` (SPEC §5): after a kill at any
# moment, running the same command again must leave exactly the state of one
# clean run.
#
#   tests/e2e/core/crash_test.sh AQUASENSE_BIN [ITERATIONS=20]
#   env: ROWS (default 1500000) total data rows, SEED (default 42)
#
# 1. Generates ROWS rows (6 sensors, hourly date-times, ~0.3% bad rows, ~0.3%
#    exact duplicates, ~0.1% conflicting duplicates, some across files) split
#    into 3 files.
# 2. Reference: one clean `ingest` of the 3 files into a fresh data dir (timed),
#    then `export` and analysis/monthly/ (joined).
# 3. ITERATIONS times: fresh data dir, start the same `ingest` in the
#    background, `kill -9` its PID after a delay spread over the clean run's
#    duration, run the same `ingest` again to completion, then compare
#    `export`, analysis/monthly/, filtered/ and landing/ with the reference
#    byte for byte, and check that one more `ingest --json` reports every file
#    as already ingested (files=0, already_ingested=3).
# Prints how many kills landed mid-run; exits 1 on any mismatch.
set -u
if [ $# -lt 1 ]; then
  echo "usage: $0 AQUASENSE_BIN [ITERATIONS]" >&2
  exit 64
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
ITER=${2:-20}
ROWS=${ROWS:-1500000}
SEED=${SEED:-42}
[ -x "$BIN" ] || { echo "$0: $BIN is not an executable" >&2; exit 64; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/aquasense-crash.XXXXXX")
BG_PID=
cleanup() {
  if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then kill -9 "$BG_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
cd "$TMP" || exit 1

echo "generating $ROWS rows in 3 files ..."
python3 - "$ROWS" "$SEED" <<'PY'
import random, sys
rows, seed = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
sensors = [f"st-{i}" for i in range(1, 7)]
per = rows // len(sensors)
import datetime, math
start = datetime.datetime(1996, 1, 1)
lines = []
for si, s in enumerate(sensors):
    t = start + datetime.timedelta(minutes=7 * si)
    for k in range(per):
        doy = t.timetuple().tm_yday
        temp = 19 + 6.5 * math.sin((doy - 120) / 365.25 * 2 * math.pi) + rnd.gauss(0, 0.6)
        sd = abs(rnd.gauss(0.25, 0.12))
        lines.append(f"{s},{t:%Y-%m-%dT%H:%M},{temp:.2f},{sd:.3f}")
        t += datetime.timedelta(hours=1)
# interleave sensors roughly by time, like a real multi-station feed
lines.sort(key=lambda l: l.split(',', 2)[1])
out = []
n = len(lines)
for i, l in enumerate(lines):
    out.append(l)
    r = rnd.random()
    if r < 0.003:                         # a bad row
        s, d, t, sd = l.split(',')
        kind = rnd.randrange(5)
        out.append([f"{s},{d[:5]}02-30T10:00,{t},{sd}", f"{s},{d},NaN,{sd}",
                    f"{s},{d},99.5,{sd}", f"{s},{d},{t}", f"bad sensor,{d},{t},{sd}"][kind])
    elif r < 0.006:                       # an exact duplicate of an earlier row (maybe another file)
        j = max(0, i - rnd.randrange(1, 400000))
        s, d, t, sd = lines[j].split(',')
        out.append(f"{s},{d},{float(t):.3f},{sd}")
    elif r < 0.007:                       # a conflicting duplicate
        j = max(0, i - rnd.randrange(1, 400000))
        s, d, t, sd = lines[j].split(',')
        out.append(f"{s},{d},{float(t) + 0.5:.2f},{sd}")
third = len(out) // 3
for k, name in enumerate(["part1.csv", "part2.csv", "part3.csv"]):
    chunk = out[k * third:(k + 1) * third] if k < 2 else out[2 * third:]
    with open(name, "w") as f:
        if k == 1:
            f.write("sensor,date,temperature,sd\n")
        f.write("\n".join(chunk) + "\n")
PY
ls -l part*.csv | awk '{print "  " $5 " bytes  " $9}'
FILES=(part1.csv part2.csv part3.csv)

snapshot() {  # data-dir out-prefix
  "$BIN" export --data "$1" >"$2.export.csv" 2>"$2.export.err" || echo "export failed: $(cat "$2.export.err")"
  "$HERE/../join_monthly.sh" "$1" >"$2.monthly.csv" 2>&1 || echo "(analysis/monthly/ unreadable)" >>"$2.monthly.csv"
  (cd "$1" && find filtered landing -type f 2>/dev/null | sort | xargs -r sha256sum) >"$2.trees"
}

now() { date +%s.%N; }

echo "reference run ..."
"$BIN" ingest --data "$TMP/ref" --json "${FILES[@]}" >ref.ingest.json 2>ref.ingest.err
rc=$?
if [ $rc != 0 ]; then
  echo "FAIL reference ingest exited $rc: $(head -c 500 ref.ingest.err)"
  exit 1
fi
echo "  $(sed 's/,"per_file".*//' ref.ingest.json)"
snapshot "$TMP/ref" ref
echo "  $(($(wc -l <ref.export.csv) - 1)) sensor-months"
# A second clean run (warm cache) gives the duration to spread the kills over,
# and must give the same state (determinism).
t0=$(now)
"$BIN" ingest --data "$TMP/ref2" "${FILES[@]}" >/dev/null 2>ref2.ingest.err
rc=$?
t1=$(now)
DUR=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')
echo "  clean run takes ${DUR}s"
snapshot "$TMP/ref2" ref2
if [ $rc != 0 ] || ! cmp -s ref.export.csv ref2.export.csv || ! cmp -s ref.trees ref2.trees; then
  echo "FAIL two clean runs differ (exit $rc)"
  exit 1
fi
rm -rf "$TMP/ref2"

fails=0
landed=0
after_commit=0
for i in $(seq 1 "$ITER"); do
  D=$TMP/run$i
  # delay spread over [0, DUR): stratified by iteration, jittered
  delay=$(awk -v i="$i" -v n="$ITER" -v d="$DUR" -v s="$RANDOM" \
    'BEGIN{srand(s); printf "%.3f", d * ((i - 1) + rand()) / n}')
  "$BIN" ingest --data "$D" "${FILES[@]}" >/dev/null 2>"run$i.err1" &
  BG_PID=$!
  sleep "$delay"
  mid=no
  if kill -9 "$BG_PID" 2>/dev/null; then
    { wait "$BG_PID"; } 2>/dev/null
    brc=$?
    [ $brc = 137 ] && { mid=yes; landed=$((landed + 1)); }
  else
    { wait "$BG_PID"; } 2>/dev/null
    brc=$?
  fi
  BG_PID=
  problems=()
  [ $mid = no ] && [ $brc != 0 ] && problems+=("the killed-too-late run exited $brc")
  "$BIN" ingest --data "$D" --json "${FILES[@]}" >"run$i.json2" 2>"run$i.err2"
  rc=$?
  [ $rc = 0 ] || problems+=("re-run exited $rc: $(head -c 300 "run$i.err2")")
  # how far the killed run got: files the re-run found already ingested
  done_before=$(jq -r '.already_ingested' "run$i.json2" 2>/dev/null || echo '?')
  [ $mid = yes ] && [ "$done_before" != 0 ] && [ "$done_before" != '?' ] && after_commit=$((after_commit + 1))
  snapshot "$D" "run$i"
  cmp -s ref.export.csv "run$i.export.csv" || problems+=("export differs: $(diff ref.export.csv "run$i.export.csv" | head -6 | tr '\n' '|')")
  cmp -s ref.monthly.csv "run$i.monthly.csv" || problems+=("analysis/monthly/ differs")
  missing=$(comm -23 ref.trees "run$i.trees" | wc -l)
  extra=$(comm -13 ref.trees "run$i.trees" | wc -l)
  [ "$missing" = 0 ] || problems+=("filtered/ or landing/: $missing files missing or different: $(comm -23 ref.trees "run$i.trees" | head -3 | awk '{print $2}' | tr '\n' ' ')")
  [ "$extra" = 0 ] || problems+=("filtered/ or landing/: $extra extra files: $(comm -13 ref.trees "run$i.trees" | head -3 | awk '{print $2}' | tr '\n' ' ')")
  # the killed run's partial objects are swept by the next open
  leftovers=$(find "$D/.tmp" -name '*.part' 2>/dev/null | wc -l)
  [ "$leftovers" = 0 ] || problems+=("$leftovers temp files left in .tmp")
  "$BIN" ingest --data "$D" --json "${FILES[@]}" >"run$i.json3" 2>"run$i.err3"
  rc=$?
  if [ $rc != 0 ]; then
    problems+=("final re-ingest exited $rc")
  else
    ledger=$(jq -c '[.files, .already_ingested, ([.per_file[].status] | unique)]' "run$i.json3" 2>&1)
    [ "$ledger" = '[0,3,["already_ingested"]]' ] ||
      problems+=("final re-ingest should report files=0 already_ingested=3, got $ledger")
  fi
  if [ ${#problems[@]} = 0 ]; then
    echo "PASS iteration $i: kill after ${delay}s (mid-run: $mid, files committed before the kill: $done_before)"
  else
    fails=$((fails + 1))
    echo "FAIL iteration $i: kill after ${delay}s (mid-run: $mid, files committed before the kill: $done_before)"
    for p in "${problems[@]}"; do echo "    $p"; done
  fi
  rm -rf "$D"
done
echo "crash test: $ITER iterations, $landed kills landed mid-run ($after_commit of them after some files were committed), $fails failed"
[ $fails = 0 ]
