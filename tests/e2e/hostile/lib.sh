# Shared helpers of the hostile tests (sourced). On top of ../http/common.sh
# (start_server, stop_server, expect_status, fail/pass, finish, WORK, PIDS):
#   MARK                         # a token to put into sensor names / rows sent
#   mark_outside                 # remembers the time, to find files written outside WORK
#   check_outside WHAT           # fails if a file outside WORK written since carries MARK
#   check_alive WHAT             # the server process is alive and /health answers 200
#   check_store WHAT DATA_DIR    # SQLite integrity_check ok, export succeeds
#   raw_send PORT PYTHON_BYTES   # sends raw bytes, prints the first response line ('' if none)
here_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../http/common.sh
source "$here_lib/../http/common.sh"

# MARK: a token unique to this test run. Put it in the sensor names and row
# contents a test sends; check_outside then looks for files outside WORK that
# carry it in their name or bytes (other processes on a shared machine write
# to /tmp too, so "any new file" is not a usable signal). The WORK of other
# e2e runs (aq-http-e2e.*) is left out: tests running side by side may share
# input bytes, and the server never writes into another run's directory.
MARK="aqmark$$x$RANDOM"
mark_outside() { touch "$WORK/.outside-mark"; sleep 0.01; }
check_outside() {
  local changed
  changed=$(find /tmp /root /etc /var/tmp -xdev -newer "$WORK/.outside-mark" -type f -size -20M \
    -not -path "$WORK/*" -not -path "${TMPDIR:-/tmp}/aq-http-e2e.*/*" 2>/dev/null |
    while IFS= read -r f; do
      if [[ "$f" == *"$MARK"* ]] || grep -qs -- "$MARK" "$f"; then echo "$f"; fi
    done | head -5)
  if [[ -z "$changed" ]]; then pass "$1: nothing written outside the data directory"
  else fail "$1: files outside the data directory carry this test's data: $changed"; fi
}
check_alive() {
  local code
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then fail "$1: server process is gone: $(tail -3 "$SERVER_LOG")"; return; fi
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/health" || true)
  if [[ "$code" == 200 ]]; then pass "$1: server alive"; else fail "$1: /health answered '$code'"; fi
}
check_store() {
  local what=$1 data=$2 ic
  ic=$(sqlite3 "file:$data/aquasense.db?mode=ro" 'PRAGMA integrity_check;' 2>&1 || true)
  if [[ "$ic" == ok ]]; then pass "$what: store integrity ok"; else fail "$what: integrity_check: $ic"; fi
  if "$AQ" --data "$data" export >/dev/null 2>"$WORK/export.err"; then pass "$what: export ok"
  else fail "$what: export failed: $(cat "$WORK/export.err")"; fi
}
# raw_send PORT 'b"GET / HTTP/1.1\r\n..."': prints the first response line.
raw_send() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
try:
    s.sendall(eval(sys.argv[2]))
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk: break
        data += chunk
    print(data.split(b"\r\n")[0].decode("latin-1"))
except Exception as e:
    print("")
PY
}
