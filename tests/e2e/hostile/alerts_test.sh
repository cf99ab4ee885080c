#!/usr/bin/env bash
# Hostile checks of the alert stage (issue 10; reliability-2026-12.md M4, M7,
# L7, L8, L9):
#  M4  a webhook URL with user:password, path tokens and a query, to a closed
#      port, and one to a receiver answering 500 with a secret-looking body:
#      neither shows in `aquasense alerts`, `alerts --json`, GET /v1/alerts
#      or the server log;
#  L8  a delivery never tried shows no error (not another alert's);
#  L7  an outbox.lock that cannot be opened is logged once, not every 2 s;
#  M7  one file with 500 sensors (one sd 0.9 row and one bad row each) gives
#      exactly one deviation and one data-quality alert naming 500 sensors;
#  L9  rebuild after losing the database sends no historical alert again.
# Every server and receiver started here is stopped by PID (lib.sh).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

# receiver PORT_FILE: answers every POST with 500 and a secret-looking body.
start_receiver() {
  $PY - "$1" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = (b"internal error:\r\n\x1b[31m" + b"x" * 80 +
                b" BODYSECRET-7f3a api_key=BODYSECRET-99\n")
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
  PIDS+=($!)
  disown $!  # stopped by PID in the EXIT trap, without a job notice
  for _ in $(seq 1 100); do [[ -s $1 ]] && return 0; sleep 0.05; done
  echo "receiver did not start" >&2; exit 1
}
free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# no_secret WHAT FILE: none of the secrets appears in FILE.
SECRETS=(hunter2 'user:' T0SECRET B0SECRET QSECRET pw2SECRET T1SECRET Q1SECRET BODYSECRET /hooks)
no_secret() {
  local what=$1 file=$2 s found=""
  for s in "${SECRETS[@]}"; do grep -qF -- "$s" "$file" && found+=" $s"; done
  if [[ -z $found ]]; then pass "$what: no credentials, path tokens, query or body"
  else fail "$what leaks:$found: $(grep -F -m2 -- "${found# }" "$file" | head -c 400)"; fi
}

# --- M4, L8, L7 -------------------------------------------------------------
DATA=$WORK/m4
mkdir -p "$DATA"
start_receiver "$WORK/recv.port"
RPORT=$(cat "$WORK/recv.port")
CLOSED=$(free_port)
cat > "$DATA/aquasense.json" <<JSON
{"alerts": {"retry": {"initial_ms": 200, "max_ms": 1000}, "channels": [
  {"type": "log", "path": "$WORK/m4-log.jsonl"},
  {"name": "dead", "type": "webhook", "timeout_ms": 2000,
   "url": "http://user:hunter2@127.0.0.1:$CLOSED/hooks/T0SECRET/B0SECRET?token=QSECRET"},
  {"name": "oops", "type": "webhook", "timeout_ms": 2000,
   "url": "http://admin:pw2SECRET@127.0.0.1:$RPORT/hooks/T1SECRET?sig=Q1SECRET"}]}}
JSON
printf 'sensor,date,temperature,sd\ns1,2024-01-01,12,0.9\ns1,2024-13-01,12,0.1\n' > "$WORK/a.csv"
"$AQ" --data "$DATA" ingest --quiet "$WORK/a.csv" > /dev/null 2> "$WORK/m4-ingest.err" || true
"$AQ" --data "$DATA" alerts deliver --max-seconds 3 > /dev/null 2>> "$WORK/m4-ingest.err"
"$AQ" --data "$DATA" alerts > "$WORK/m4-alerts.txt"
"$AQ" --data "$DATA" alerts --json > "$WORK/m4-alerts.json"
no_secret "M4: aquasense alerts" "$WORK/m4-alerts.txt"
no_secret "M4: aquasense alerts --json" "$WORK/m4-alerts.json"
no_secret "M4: ingest and deliver stderr" "$WORK/m4-ingest.err"
if $PY - "$WORK/m4-alerts.json" "$RPORT" "$CLOSED" <<'PY'
import json, sys
alerts = json.load(open(sys.argv[1]))["alerts"]
rport, closed = sys.argv[2], sys.argv[3]
errors = {}
for a in alerts:
    for d in a["deliveries"]:
        errors.setdefault(d["channel"], []).append((d["attempts"], d["last_error"]))
tried = [e for n, e in errors["oops"] if n > 0]
assert tried, errors
# The host and port stay, so the user knows which channel; a short clean excerpt.
want = "HTTP 500 from http://127.0.0.1:%s/\u2026: internal error: [31mxxx" % rport
assert all(e.startswith(want) for e in tried), (want, tried)
assert all(len(e) < 200 and all(" " <= c < "\x7f" or c == "\u2026" for c in e) for e in tried), tried
dead = [e for n, e in errors["dead"] if n > 0]
assert dead and all(e.startswith("http://127.0.0.1:%s/\u2026: " % closed) for e in dead), dead
# L8: a delivery never tried shows no error at all.
for ch in ("dead", "oops"):
    assert all(e == "" for n, e in errors[ch] if n == 0), errors[ch]
PY
then pass "M4: errors name scheme://host:port/… and a short cleaned excerpt; L8: untried rows show no error"
else fail "M4/L8: stored errors: $(head -c 600 "$WORK/m4-alerts.json")"; fi

# The server: its delivery loop, GET /v1/alerts and its log.
start_server "$DATA"
sleep 3  # at least one round of the server's delivery loop
curl -s --max-time 5 "$BASE/v1/alerts?limit=50" > "$WORK/m4-v1.json"
grep -q '"deliveries"' "$WORK/m4-v1.json" && pass "M4: GET /v1/alerts answers" || fail "M4: GET /v1/alerts: $(head -c 300 "$WORK/m4-v1.json")"
no_secret "M4: GET /v1/alerts" "$WORK/m4-v1.json"
check_alive "M4: serve delivering to failing channels"
stop_server || true
no_secret "M4: server log" "$SERVER_LOG"
check_store "M4" "$DATA"

# L7: outbox.lock cannot be opened (a directory stands in for a read-only
# data dir or EMFILE): logged once, not every 2 s.
mkdir "$DATA/outbox.lock.tmp" && rm -f "$DATA/outbox.lock" && mv "$DATA/outbox.lock.tmp" "$DATA/outbox.lock"
start_server "$DATA"
sleep 7  # four rounds of the delivery loop
check_alive "L7: serve with an unopenable outbox.lock"
stop_server || true
n=$(grep -c 'alert delivery postponed' "$SERVER_LOG" || true)
if [[ $n == 1 ]]; then pass "L7: outbox.lock error logged once in 7 s"
else fail "L7: 'alert delivery postponed' logged $n times in 7 s: $(grep -m3 postponed "$SERVER_LOG")"; fi
rmdir "$DATA/outbox.lock"

# --- M7 -----------------------------------------------------------------------
DATA=$WORK/m7
mkdir -p "$DATA"
printf '{"alerts": {"channels": [{"type": "log", "path": "%s"}]}}\n' "$WORK/m7-log.jsonl" > "$DATA/aquasense.json"
$PY - "$WORK/multi.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("sensor,date,temperature,sd\n")
    for i in range(500):
        f.write("s%03d,2024-01-03,12,0.9\n" % i)
        f.write("s%03d,2024-01-04,abc,0.1\n" % i)
PY
"$AQ" --data "$DATA" ingest --quiet "$WORK/multi.csv" > /dev/null
"$AQ" --data "$DATA" alerts --json --limit 1000 > "$WORK/m7.json"
if $PY - "$WORK/m7.json" "$WORK/m7-log.jsonl" <<'PY'
import json, sys
alerts = json.load(open(sys.argv[1]))["alerts"]
kinds = sorted(a["kind"] for a in alerts)
assert kinds == ["data_quality", "deviation"], kinds
for a in alerts:
    assert a["sensors"]["count"] == 500, a["sensors"]
    assert a["sensors"]["first"] == ["s%03d" % i for i in range(10)], a["sensors"]
    assert a["sensor"] == "", a["sensor"]
dev = [a for a in alerts if a["kind"] == "deviation"][0]
assert dev["counts"]["readings_above_limit"] == 500, dev["counts"]
assert dev["summary"].startswith("deviation: 500 sensors (s000, s001, s002, ...), 500 readings"), dev["summary"]
dq = [a for a in alerts if a["kind"] == "data_quality"][0]
assert dq["counts"]["invalid"] == 500 and dq["counts"]["reasons"] == {"bad_number": 500}, dq["counts"]
log = [json.loads(l) for l in open(sys.argv[2])]
assert len(log) == 2, len(log)
PY
then pass "M7: 500 sensors -> exactly 1 deviation + 1 data_quality alert, each naming 500 sensors; 2 log lines"
else fail "M7: $(head -c 600 "$WORK/m7.json")"; fi
check_store "M7" "$DATA"

# --- L9 -----------------------------------------------------------------------
printf 's900,2024-02-03,12,0.95\n' > "$WORK/b.csv"
"$AQ" --data "$DATA" ingest --quiet --sensor s900 "$WORK/b.csv" > /dev/null
lines_before=$(wc -l < "$WORK/m7-log.jsonl")
rm -f "$DATA"/aquasense.db "$DATA"/aquasense.db-wal "$DATA"/aquasense.db-shm
"$AQ" --data "$DATA" rebuild > /dev/null
"$AQ" --data "$DATA" alerts deliver --json > "$WORK/l9-deliver.json"
"$AQ" --data "$DATA" alerts --json --limit 1000 > "$WORK/l9.json"
"$AQ" --data "$DATA" alerts > "$WORK/l9.txt"
if $PY - "$WORK/l9.json" "$WORK/l9-deliver.json" <<'PY'
import json, sys
alerts = json.load(open(sys.argv[1]))["alerts"]
assert len(alerts) == 3, [a["summary"] for a in alerts]
assert all(a["rederived"] and a["deliveries"] == [] for a in alerts), alerts
d = json.load(open(sys.argv[2]))
assert d["delivered"] == 0 and d["pending"] == 0, d
PY
then pass "L9: rebuild after a lost database records 3 alerts, none pending"
else fail "L9: $(head -c 600 "$WORK/l9.json")"; fi
lines_after=$(wc -l < "$WORK/m7-log.jsonl")
[[ $lines_after == "$lines_before" ]] && pass "L9: nothing sent again ($lines_after log lines)" ||
  fail "L9: the log channel got $((lines_after - lines_before)) more alerts after rebuild"
grep -q 're-derived by rebuild: recorded, not sent' "$WORK/l9.txt" && pass "L9: aquasense alerts says so" ||
  fail "L9: aquasense alerts: $(head -5 "$WORK/l9.txt")"
# A new file after the rebuild is alerted as usual.
printf 's901,2024-02-03,12,0.95\n' > "$WORK/c.csv"
"$AQ" --data "$DATA" ingest --quiet "$WORK/c.csv" > /dev/null
[[ $(wc -l < "$WORK/m7-log.jsonl") == $((lines_before + 1)) ]] && pass "L9: a new file after rebuild is sent" ||
  fail "L9: new file: $(wc -l < "$WORK/m7-log.jsonl") log lines, expected $((lines_before + 1))"
check_store "L9" "$DATA"
# (No check_outside: the alert stage writes only inside the data directory
# and the test's own files; on a shared machine the /tmp scan sees others'.)
finish
