# Shared helpers for the alert e2e tests (sourced). Every process a test
# starts is recorded and stopped by PID on exit; everything listens on
# 127.0.0.1 only. Python: Debian's /usr/bin/python3 (it has aiosmtpd).
set -euo pipefail

AQ=${1:?usage: $0 path/to/aquasense}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aq-alerts.XXXXXX")
PIDS=()

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    echo "--- FAILED; work dir kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# wait_file FILE [SECONDS]: waits until FILE exists.
wait_file() {
  local f=$1 n=$(( ${2:-10} * 10 ))
  for ((i = 0; i < n; i++)); do [[ -s $f ]] && return 0; sleep 0.1; done
  fail "timed out waiting for $f"
}

# start_webhook NAME [extra args]: starts a webhook receiver, sets NAME_PORT.
start_webhook() {
  local name=$1; shift
  rm -f "$WORK/$name.port"
  $PY "$HERE/receivers.py" webhook --port-file "$WORK/$name.port" --out "$WORK/$name.jsonl" "$@" &
  PIDS+=($!)
  wait_file "$WORK/$name.port"
  printf -v "${name}_PORT" '%s' "$(cat "$WORK/$name.port")"
}

# free_port: prints a port nobody listens on (right now).
free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# readings FILE VARIANT: a CSV with a sensor column, 2 deviations (s1, s2)
# and 2 invalid rows (bad_date, bad_number); VARIANT (1..9) changes the dates.
readings() {
  local f=$1 v=${2:-1}
  printf 'sensor,date,temperature,sd\n' > "$f"
  printf 's1,2024-0%s-01,12.5,0.2\n' "$v" >> "$f"
  printf 's1,2024-0%s-02,13.1,0.7\n' "$v" >> "$f"
  printf 's2,2024-0%s-02,14,0.8\n' "$v" >> "$f"
  printf 's2,2024-0%s-03,14.2,0.1\n' "$v" >> "$f"
  printf 's1,2024/13/0%s,1,1\n' "$v" >> "$f"
  printf 's2,2024-0%s-04,abc,0.1\n' "$v" >> "$f"
}

aq() { "$AQ" --data "$WORK/data" --config "$WORK/config.json" "$@"; }
