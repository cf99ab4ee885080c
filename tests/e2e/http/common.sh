# Shared helpers for the HTTP end-to-end tests (sourced, not run).
#   AQ=path/to/aquasense; source common.sh
#   start_server DATA_DIR [serve flags...]   # sets SERVER_PID, PORT, BASE, SERVER_LOG
#   stop_server                              # SIGTERM, waits, returns the exit status
# Every process started here is stopped by PID in the EXIT trap.
set -euo pipefail

: "${AQ:?AQ must point to the aquasense binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aq-http-e2e.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

# expect_status WHAT EXPECTED_STATUS curl-args...
expect_status() {
  local what=$1 want=$2; shift 2
  local got
  got=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 10 "$@" || true)
  if [[ "$got" == "$want" ]]; then pass "$what -> $got"; else fail "$what: got $got, want $want: $(head -c 300 "$WORK/body" 2>/dev/null)"; fi
}
# expect_body WHAT EXPECTED_BODY curl-args...
expect_body() {
  local what=$1 want=$2; shift 2
  local got
  got=$(curl -s --max-time 10 "$@" || true)
  if [[ "$got" == "$want" ]]; then pass "$what"; else fail "$what: got '$got', want '$want'"; fi
}
# body_json_field FIELD: prints a top-level field of $WORK/body
body_field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v if isinstance(v,str) else json.dumps(v))' "$WORK/body" "$1"; }

start_server() {
  local data=$1; shift
  SERVER_LOG="$WORK/server.$RANDOM.log"
  "$AQ" --data "$data" serve --listen 127.0.0.1:0 "$@" 2>"$SERVER_LOG" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  PORT=""
  for _ in $(seq 1 200); do
    PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$SERVER_LOG" 2>/dev/null | sed 's/.*://' || true)
    [[ -n "$PORT" ]] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$SERVER_LOG" >&2; echo "server did not start" >&2; exit 1; fi
    sleep 0.05
  done
  [[ -n "$PORT" ]] || { cat "$SERVER_LOG" >&2; echo "server did not report its port" >&2; exit 1; }
  BASE="http://127.0.0.1:$PORT"
}

stop_server() {
  local rc=0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" || rc=$?
  return $rc
}

finish() {
  if [[ $FAILS -gt 0 ]]; then echo "$FAILS check(s) failed" >&2; exit 1; fi
  echo "all checks passed"
}
