#!/usr/bin/env bash
# Upload benchmark of `aquasense serve`: POST /v1/ingest of one week of one
# sensor (7 rows) into a copy of a big store, WEEKS distinct weeks in a row.
# Reports the median, p90 and max of the server-side time (the access log's
# "ms": header received -> response written, which includes the batch commit
# and the snapshot refresh) and of the client's time (curl time_total), and,
# where the binary exports it (aquasense_snapshot_refresh_seconds_total), the
# mean time of the snapshot refreshes alone. An upload is durable before it is
# answered (several rounds of fsync), so the script also prints the median
# latency of one fsync of a new small file on the store's disk, measured in
# the same run: on a busy disk that, not the CPU, sets the floor.
#
#   bench/http/upload_bench.sh [path/to/aquasense ...]   (default build/src/cli/aquasense)
#
# Several binaries are measured one after the other in the same run, each on
# its own fresh copy of STORE, so their numbers compare (e.g. before/after).
# Env: STORE (bench/out/store_big: a 10M-row store, copied, never modified),
#      START (2027-02-08: the first week; the store's data must end before it),
#      WEEKS (20), SENSOR (sensor-0001), GEN (build/bench/aq_gen_data),
#      OUT (file for the table), KEEP=1 (keep the scratch directory).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STORE=${STORE:-$ROOT/bench/out/store_big}
START=${START:-2027-02-08}
WEEKS=${WEEKS:-20}
SENSOR=${SENSOR:-sensor-0001}
GEN=${GEN:-$ROOT/build/bench/aq_gen_data}
PY=/usr/bin/python3
TOKEN=upload-bench
if [[ $# -eq 0 ]]; then set -- "$ROOT/build/src/cli/aquasense"; fi

command -v curl >/dev/null || { echo "missing curl" >&2; exit 1; }
[[ -x "$GEN" ]] || { echo "no aq_gen_data at $GEN (build with -DAQUASENSE_BENCH=ON)" >&2; exit 1; }
[[ -f "$STORE/aquasense.db" ]] || { echo "no store at $STORE (bench/ingest_bench.sh builds one)" >&2; exit 1; }
for aq in "$@"; do [[ -x "$aq" ]] || { echo "no aquasense binary at $aq" >&2; exit 1; }; done

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_scratch upload-bench

# The week files, the same for every binary.
mkdir -p "$WORK/weeks"
"$PY" - "$START" "$WEEKS" > "$WORK/dates" <<'EOF'
import datetime, sys
d = datetime.date.fromisoformat(sys.argv[1])
for i in range(int(sys.argv[2])): print(d + datetime.timedelta(days=7 * i))
EOF
i=0
while read -r day; do
  i=$((i + 1))
  "$GEN" --week "$SENSOR:$day" --seed "$i" > "$WORK/weeks/$day.csv"
done < "$WORK/dates"

# stats FILE: "median p90 max" of the numbers in FILE (p90: nearest rank).
stats() {
  "$PY" - "$1" <<'EOF'
import math, statistics, sys
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
p90 = v[max(0, math.ceil(0.9 * len(v)) - 1)]
print(f"{statistics.median(v):.2f} {p90:.2f} {v[-1]:.2f}")
EOF
}

TABLE="### Upload: POST /v1/ingest of one week of $SENSOR (7 rows), $WEEKS weeks, into a copy of $(basename "$STORE")

| binary | server ms median | p90 | max | client ms median | p90 | refresh ms mean | full reloads |
|---|---:|---:|---:|---:|---:|---:|---:|"
n=0
for aq in "$@"; do
  n=$((n + 1))
  DATA=$WORK/store$n
  echo "copying $STORE ..." >&2
  cp -a "$STORE" "$DATA"
  sync  # else the copy's ~100 MB of writeback competes with the uploads' syncs
  PORT=$(free_port)
  LOG=$WORK/access$n.log
  AQUASENSE_TOKEN=$TOKEN "$aq" serve --data "$DATA" --listen 127.0.0.1:$PORT \
    --access-log "$LOG" 2>"$WORK/serve$n.err" &
  PID=$!; PIDS+=("$PID")
  wait_http "http://127.0.0.1:$PORT/health" 1200
  metric() {  # NAME: its value in /metrics ("" when the binary has no such metric)
    curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'
  }
  refresh0=$(metric aquasense_snapshot_refresh_seconds_total)
  full0=$(metric aquasense_snapshot_full_reloads_total)
  : > "$WORK/client$n"
  while read -r day; do
    t=$(curl -sf -o "$WORK/resp" -w '%{time_total}' -X POST --data-binary "@$WORK/weeks/$day.csv" \
          -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/v1/ingest?sensor=$SENSOR")
    grep -q '"valid":7' "$WORK/resp" || { echo "unexpected answer for $day: $(cat "$WORK/resp")" >&2; exit 1; }
    "$PY" -c "print(float('$t') * 1000)" >> "$WORK/client$n"
  done < "$WORK/dates"
  # The week's data must be visible right after the answer (the last week).
  last=$(tail -1 "$WORK/dates")
  curl -sf "http://127.0.0.1:$PORT/v1/sensors/$SENSOR/months?from=${last:0:7}" | grep -q '"readings"' ||
    { echo "the last upload is not in the snapshot" >&2; exit 1; }
  refresh_ms=-; full=-
  if [[ -n "$refresh0" ]]; then
    refresh1=$(metric aquasense_snapshot_refresh_seconds_total)
    full=$(( $(metric aquasense_snapshot_full_reloads_total) - full0 ))
    refresh_ms=$("$PY" -c "print(f'{($refresh1 - $refresh0) * 1000 / $WEEKS:.2f}')")
  fi
  kill "$PID"; wait "$PID" || true
  "$PY" - "$LOG" > "$WORK/server$n" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("route") == "ingest": print(r["ms"])
EOF
  [[ $(wc -l < "$WORK/server$n") -eq $WEEKS ]] || { echo "expected $WEEKS ingest lines in $LOG" >&2; exit 1; }
  read -r smed sp90 smax < <(stats "$WORK/server$n")
  read -r cmed cp90 _ < <(stats "$WORK/client$n")
  TABLE+="
| \`$aq\` | $smed | $sp90 | $smax | $cmed | $cp90 | $refresh_ms | $full |"
  rm -rf "$DATA"
done
# fsync of a new 300-byte file, 40 times, on the scratch directory's disk.
FSYNC_MS=$("$PY" - "$WORK" <<'EOF'
import os, statistics, sys, time
ts = []
for i in range(40):
    path = os.path.join(sys.argv[1], f"fsync{i}.tmp")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.write(fd, b"x" * 300)
    t = time.perf_counter()
    os.fsync(fd)
    ts.append((time.perf_counter() - t) * 1000)
    os.close(fd)
    os.unlink(path)
    time.sleep(0.01)
print(f"{statistics.median(ts):.2f}")
EOF
)
TABLE+="

- one fsync of a new small file on this disk, same run: median $FSYNC_MS ms"
echo "$TABLE"
[[ -n "${OUT:-}" ]] && echo "$TABLE" > "$OUT"
exit 0
