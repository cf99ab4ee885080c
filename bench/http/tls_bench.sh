#!/usr/bin/env bash
# TLS vs plain HTTP (issue 14): the same data and build served twice, plain and
# with --tls-cert/--tls-key (a P-256 certificate made here), each with 2 I/O
# threads; wrk with keep-alive, then with a new connection per request
# (Connection: close: one full TLS handshake each). Rounds alternate.
#   bench/http/tls_bench.sh [BINARY]     # default build/src/cli/aquasense
# Env: DURATION (default 10s), CONNS (64), ROUNDS (2), PATH_Q (the request).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AQ=${1:-$ROOT/build/src/cli/aquasense}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-2}
PATH_Q=${PATH_Q:-/temp?year=2017&month=3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aq-tls-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -days 1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
"$AQ" --data "$WORK/data" ingest --quiet "$ROOT/examples/readings.csv" >/dev/null 2>&1

PORT_plain="" PORT_tls=""
# serve NAME [flags...]: starts a server, sets PORT_<NAME>.
serve() {
  local name=$1 port=""; shift
  "$AQ" --data "$WORK/data" serve --listen 127.0.0.1:0 --threads 2 "$@" 2>"$WORK/$name.log" &
  PIDS+=($!)
  for _ in $(seq 1 200); do
    port=$(grep -o 'listening on https*://127.0.0.1:[0-9]*' "$WORK/$name.log" | sed 's/.*://' || true)
    [[ -n "$port" ]] && break
    sleep 0.05
  done
  printf -v "PORT_$name" '%s' "$port"
}
serve plain
serve tls --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  (nproc $(nproc))"

# run LABEL URL [wrk args]: one wrk run, one summary line.
run() {
  local label=$1 url=$2; shift 2
  wrk -t2 -c"$CONNS" -d"$DURATION" --latency "$@" "$url" >"$WORK/wrk.out" 2>&1
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.out")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.out")
  errs=$(grep -E 'Socket errors|Non-2xx' "$WORK/wrk.out" | tr -s ' ' | paste -sd';' || true)
  printf '%-28s %10s req/s  p50 %8s  p99 %8s  %s\n' "$label" "$rps" "$p50" "$p99" "$errs"
}
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round: wrk -t2 -c$CONNS -d$DURATION --latency $PATH_Q"
  run "plain keep-alive" "http://127.0.0.1:$PORT_plain$PATH_Q"
  run "TLS keep-alive" "https://127.0.0.1:$PORT_tls$PATH_Q"
  run "plain Connection: close" "http://127.0.0.1:$PORT_plain$PATH_Q" -H "Connection: close"
  run "TLS Connection: close" "https://127.0.0.1:$PORT_tls$PATH_Q" -H "Connection: close"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
