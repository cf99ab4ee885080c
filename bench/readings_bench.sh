#!/usr/bin/env bash
# Readings benchmark (issue 15): 1M readings of one sensor (one a minute,
# two decimals, ~2 years) streamed by GET /v1/sensors/{id}/readings, next to
# curl reading a static file of the very same bytes from nginx, in the same
# run; plus `aquasense readings` to /dev/null and the server's memory before
# and after. Each figure is the median of RUNS (after one warm-up).
# Prints a markdown table (also to OUT when set).
#
#   bench/readings_bench.sh [path/to/aquasense]     (default build/src/cli/aquasense)
# Env: READINGS (1000000), RUNS (7), OUT.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
AQ=${1:-$ROOT/build/src/cli/aquasense}
READINGS=${READINGS:-1000000}
RUNS=${RUNS:-7}
PY=/usr/bin/python3
for tool in nginx curl; do
  command -v $tool >/dev/null || { echo "missing $tool (apt-get install nginx-light curl)" >&2; exit 1; }
done
[[ -x "$AQ" ]] || { echo "no aquasense binary at $AQ (build first)" >&2; exit 1; }
source "$HERE/http/lib.sh"
bench_scratch readings-bench
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

DATA=$WORK/data
awk -v n="$READINGS" 'BEGIN {
  print "date,temperature,sd"
  split("31 29 31 30 31 30 31 31 30 31 30 31", dim, " ")
  y = 2020; mo = 1; d = 1; mi = 0
  for (i = 0; i < n; i++) {
    printf "%04d-%02d-%02dT%02d:%02d:00,%.2f,%.2f\n", y, mo, d, int(mi / 60), mi % 60, 8 + (i * 7 % 1500) / 100.0, (i % 60) / 100.0
    if (++mi == 1440) { mi = 0; days = dim[mo] - (mo == 2 && y % 4 != 0); if (++d > days) { d = 1; if (++mo > 12) { mo = 1; y++ } } }
  }
}' >"$WORK/in.csv"
echo "ingesting $READINGS readings ..." >&2
"$AQ" --data "$DATA" ingest --sensor big --quiet "$WORK/in.csv" >&2

PORT=$(free_port)
"$AQ" --data "$DATA" serve --listen 127.0.0.1:$PORT 2>"$WORK/aq.log" &
AQ_PID=$!; PIDS+=("$AQ_PID")
URL="http://127.0.0.1:$PORT/v1/sensors/big/readings"
wait_http "http://127.0.0.1:$PORT/health"
RSS_BEFORE=$(rss_kb $AQ_PID)
curl -s "$URL" -o "$WORK/body.csv"
LINES=$(($(wc -l <"$WORK/body.csv") - 1))
[[ $LINES == "$READINGS" ]] || { echo "got $LINES readings, want $READINGS" >&2; exit 1; }
BYTES=$(stat -c %s "$WORK/body.csv")

start_nginx_static "$WORK/body.csv"

time_curl() {  # URL -> median seconds over RUNS (after a warm-up)
  curl -s -o /dev/null "$1"
  for _ in $(seq 1 "$RUNS"); do curl -s -o /dev/null -w '%{time_total}\n' "$1"; done | median
}
time_cli() {
  "$AQ" --data "$DATA" readings --sensor big >/dev/null
  for _ in $(seq 1 "$RUNS"); do
    /usr/bin/time -f '%e %M %U' "$AQ" --data "$DATA" readings --sensor big 2>&1 >/dev/null | tail -1
  done | sort -g | awk '{s[NR]=$1; m[NR]=$2; u[NR]=$3} END {i=int((NR+1)/2); print s[i], m[i], u[i]}'
}
# Interleaved: aquasense, nginx, aquasense again (a busy machine shows up as a gap).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$AQ_PID/stat"; }
TICKS0=$(cpu_ticks)
T_AQ1=$(time_curl "$URL")
# The server's own CPU per full stream (user + system; load-independent).
CPU_STREAM=$(awk -v a="$TICKS0" -v b="$(cpu_ticks)" -v n="$((RUNS + 1))" -v hz="$(getconf CLK_TCK)" \
  'BEGIN { printf "%.3f", (b - a) / hz / n }')
T_NGX=$(time_curl "$NGX_URL")
T_AQ2=$(time_curl "$URL")
T_AQ=$(printf '%s\n%s\n' "$T_AQ1" "$T_AQ2" | sort -g | head -1)
T_JSON=$(time_curl "$URL?format=json")
T_PTS=$(time_curl "$URL?points=1280")
read -r T_CLI CLI_KB CLI_USER < <(time_cli)
RSS_AFTER=$(rss_kb $AQ_PID)

{
  echo "### Readings: $READINGS readings of one sensor, $((BYTES / 1048576)) MiB of CSV ($(nproc) cores, load average $(cut -d" " -f1 /proc/loadavg), $(date -u +%Y-%m-%d), median of $RUNS)"
  echo
  echo "| what | seconds | MB/s |"
  echo "|---|---:|---:|"
  awk -v t="$T_AQ" -v b="$BYTES" 'BEGIN { printf "| GET /v1/sensors/big/readings (csv, chunked, from the blocks) | %.3f | %.0f |\n", t, b / t / 1048576 }'
  awk -v t="$T_NGX" -v b="$BYTES" 'BEGIN { printf "| nginx, the same bytes as a static file (sendfile) | %.3f | %.0f |\n", t, b / t / 1048576 }'
  awk -v t="$T_JSON" 'BEGIN { printf "| the same readings as JSON | %.3f | |\n", t }'
  awk -v t="$T_PTS" 'BEGIN { printf "| points=1280 (min+max per pixel column, for the chart) | %.3f | |\n", t }'
  awk -v t="$T_CLI" -v u="$CLI_USER" -v b="$BYTES" 'BEGIN { printf "| aquasense readings --sensor big > /dev/null (user CPU %.2f s) | %.2f | %.0f |\n", u, t, b / t / 1048576 }'
  echo
  echo "- the server's CPU time per full stream (user + system): $CPU_STREAM s"
  echo "- aquasense / nginx time: $(awk -v a="$T_AQ" -v b="$T_NGX" 'BEGIN { printf "%.1f", a / b }')x (runs: $T_AQ1 s and $T_AQ2 s around nginx's)"
  echo "- server resident memory: $((RSS_BEFORE / 1024)) MB before, $((RSS_AFTER / 1024)) MB after $((RUNS * 4 + 5)) full streams; the command's peak: $((CLI_KB / 1024)) MB"
} | tee ${OUT:+"$OUT"}
