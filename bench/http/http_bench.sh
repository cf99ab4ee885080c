#!/usr/bin/env bash
# HTTP benchmark of `aquasense serve` (issue 3, "Must show" item 3):
#   wrk -t2 -c64 -d10s --latency on /temp for a month that exists, against
#   1. aquasense serve (2 I/O threads, access log off)
#   2. nginx (Debian) serving the same JSON body as a static file (2 workers)
#   3. the original's stack: Flask reading the same SQLite table, gunicorn, 2 sync workers
# all in the same run on this machine, plus the resident memory of aquasense
# with 100,000 monthly records loaded. Prints a markdown table.
#
#   bench/http/http_bench.sh [path/to/aquasense]     (default build/src/cli/aquasense)
# Env: DURATION (10s), CONNECTIONS (64), SENSORS (1000), MONTHS (100), OUT (file for the table).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
AQ=${1:-$ROOT/build/src/cli/aquasense}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
SENSORS=${SENSORS:-1000}
MONTHS=${MONTHS:-100}
PY=/usr/bin/python3  # Debian's, with python3-flask and gunicorn

for tool in wrk nginx curl; do
  command -v $tool >/dev/null || { echo "missing $tool (apt-get install wrk nginx curl)" >&2; exit 1; }
done
"$PY" -c 'import flask, gunicorn' 2>/dev/null ||
  { echo "missing Debian python3-flask / gunicorn (apt-get install python3-flask gunicorn)" >&2; exit 1; }
[[ -x "$AQ" ]] || { echo "no aquasense binary at $AQ (build first)" >&2; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_scratch http-bench
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

# --- data: SENSORS sensors + "default", MONTHS months each, one reading per month.
DATA=$WORK/data
CSV=$WORK/readings.csv
awk -v sensors="$SENSORS" -v months="$MONTHS" 'BEGIN {
  print "sensor,date,temperature,sd"
  for (s = 0; s <= sensors; s++) {
    name = (s == sensors) ? "default" : sprintf("s%04d", s)
    for (m = 0; m < months; m++) {
      y = 2016 + int(m / 12); mo = m % 12 + 1
      printf "%s,%04d-%02d-15,%.2f,%.2f\n", name, y, mo, 10 + (s * 7 + m * 13) % 150 / 10.0, (s + m) % 40 / 100.0
    }
  }
}' > "$CSV"
RECORDS=$(( (SENSORS + 1) * MONTHS ))
echo "ingesting $RECORDS monthly records ..." >&2
"$AQ" --data "$DATA" ingest --quiet "$CSV" >&2

YEAR=2020; MONTH=6
PATH_Q="/temp?year=$YEAR&month=$MONTH"

# --- 1. aquasense
AQ_PORT=$(free_port)
"$AQ" --data "$DATA" serve --listen 127.0.0.1:$AQ_PORT 2>"$WORK/aq.log" &
AQ_PID=$!; PIDS+=("$AQ_PID")
wait_http "http://127.0.0.1:$AQ_PORT/health"
curl -sf "http://127.0.0.1:$AQ_PORT$PATH_Q" > "$WORK/temp.json"
RSS_LOADED=$(rss_kb $AQ_PID)

# --- 2. nginx, same body as a static file
start_nginx_static "$WORK/temp.json" 2 \
  'location = /temp { default_type application/json; try_files /temp.json =404; }'
cmp -s <(curl -s "http://127.0.0.1:$NGX_PORT$PATH_Q") "$WORK/temp.json" || { echo "nginx body differs" >&2; exit 1; }

# --- 3. Flask + gunicorn, 2 sync workers, reading the same SQLite table
FL_PORT=$(free_port)
AQ_DB="$DATA/aquasense.db" "$PY" -m gunicorn -w 2 -b 127.0.0.1:$FL_PORT --chdir "$HERE" \
  --log-level warning flask_peer:app 2>"$WORK/gunicorn.log" &
PIDS+=("$!")
wait_http "http://127.0.0.1:$FL_PORT$PATH_Q"
echo "flask body: $(curl -s "http://127.0.0.1:$FL_PORT$PATH_Q")" >&2
echo "aquasense body: $(cat "$WORK/temp.json")" >&2

# --- wrk
run_wrk() {  # NAME URL -> sets RPS_<NAME>, P99_<NAME> (ms)
  local out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$2")
  echo "$out" > "$WORK/wrk.$1.txt"
  echo "== $1" >&2; echo "$out" >&2
  local rps p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
  [[ -z "$errors" ]] || echo "WARNING $1: $errors" >&2
  printf -v "RPS_$1" '%s' "$rps"
  printf -v "P99_$1" '%s' "$p99"
}
wrk -t2 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$AQ_PORT$PATH_Q" >/dev/null   # warm-up
run_wrk aquasense "http://127.0.0.1:$AQ_PORT$PATH_Q"
RSS_AFTER=$(rss_kb $AQ_PID); HWM=$(hwm_kb $AQ_PID)
wrk -t2 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$NGX_PORT$PATH_Q" >/dev/null
run_wrk nginx "http://127.0.0.1:$NGX_PORT$PATH_Q"
run_wrk flask "http://127.0.0.1:$FL_PORT$PATH_Q"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
{
  echo "### HTTP: \`wrk -t2 -c$CONNECTIONS -d$DURATION --latency\` on \`$PATH_Q\` ($(nproc) cores, $(date -u +%Y-%m-%d))"
  echo
  echo "| server | requests/s | p99 latency | vs aquasense |"
  echo "|---|---:|---:|---:|"
  printf '| aquasense serve (2 I/O threads) | %.0f | %.2f ms | 1.00x |\n' "$RPS_aquasense" "$P99_aquasense"
  printf '| nginx 2 workers, static file | %.0f | %.2f ms | %sx |\n' "$RPS_nginx" "$P99_nginx" "$(ratio "$RPS_nginx" "$RPS_aquasense")"
  printf '| Flask + gunicorn 2 sync workers + SQLite | %.0f | %.2f ms | %sx |\n' "$RPS_flask" "$P99_flask" "$(ratio "$RPS_flask" "$RPS_aquasense")"
  echo
  echo "- aquasense / nginx requests/s: $(ratio "$RPS_aquasense" "$RPS_nginx")x (target >= 0.8x); p99 aquasense / nginx: $(ratio "$P99_aquasense" "$P99_nginx")x (target <= 2x)"
  echo "- aquasense / Flask requests/s: $(ratio "$RPS_aquasense" "$RPS_flask")x (target >= 7x)"
  echo "- aquasense resident memory with $RECORDS monthly records: $((RSS_LOADED / 1024)) MB after loading, $((RSS_AFTER / 1024)) MB after the run, peak $((HWM / 1024)) MB (target < 64 MB)"
} | tee "${OUT:-/dev/null}"
