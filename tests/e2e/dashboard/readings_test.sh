#!/usr/bin/env bash
# Issue 15 / SPEC §10: `aquasense readings` and GET /v1/sensors/{id}/readings
# on a real store and server: exact values, date order, inclusive from/to, 400
# and 404, CSV = JSON = CLI, chunked streaming with flat memory over 1M
# readings; the `ano`/`mes` aliases; --cors-origin; a file's invalid rows; the
# embedded dashboard page.
source "$(dirname "$0")/../http/common.sh"

DATA="$WORK/data"
cat >"$WORK/s1.csv" <<'EOF'
date,temperature,sd
2024-01-30,11.5,0.1
2024-01-31T23:59:00,12.25,0.2
2024/02/01,13,0.3
2024-02-29,14.125,0.4
2024-04-02,-1.5,0
EOF
"$AQ" --data "$DATA" ingest --sensor s1 --quiet "$WORK/s1.csv" >/dev/null

# --- the command line ---------------------------------------------------
want_all='sensor,date,temperature,sd
s1,2024-01-30,11.5,0.1
s1,2024-01-31T23:59:00,12.25,0.2
s1,2024-02-01,13,0.3
s1,2024-02-29,14.125,0.4
s1,2024-04-02,-1.5,0'
got=$("$AQ" --data "$DATA" readings --sensor s1)
[[ "$got" == "$want_all" ]] && pass "cli: every reading, date order, exact values" || fail "cli all: $got"
got=$("$AQ" --data "$DATA" readings --sensor s1 --from 2024-01-31 --to 2024-02-01)
want='sensor,date,temperature,sd
s1,2024-01-31T23:59:00,12.25,0.2
s1,2024-02-01,13,0.3'
[[ "$got" == "$want" ]] && pass "cli: --from/--to inclusive (a date-time on the last day counts)" || fail "cli range: $got"
got=$("$AQ" --data "$DATA" readings --sensor s1 --format json --from 2024-04-01 |
  python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))')
[[ "$got" == '[{"sensor": "s1", "date": "2024-04-02", "temperature": -1.5, "sd": 0}]' ]] &&
  pass "cli: json" || fail "cli json: $got"
rc=0; "$AQ" --data "$DATA" readings --sensor s1 --from 2023-02-29 2>"$WORK/err" >/dev/null || rc=$?
[[ $rc == 1 ]] && grep -q "YYYY-MM-DD" "$WORK/err" && pass "cli: bad date -> exit 1" || fail "cli bad date rc=$rc"
rc=0; "$AQ" --data "$DATA" readings --sensor nobody 2>"$WORK/err" >/dev/null || rc=$?
[[ $rc == 1 ]] && grep -q "no data for sensor nobody" "$WORK/err" && pass "cli: unknown sensor -> exit 1" ||
  fail "cli unknown sensor rc=$rc $(cat "$WORK/err")"

# --- HTTP ----------------------------------------------------------------
start_server "$DATA" --cors-origin '*'
R="$BASE/v1/sensors/s1/readings"
got=$(curl -s "$R")
[[ "$got" == "$want_all" ]] && pass "http: csv body = the cli's" || fail "http csv: $got"
curl -s -D "$WORK/h" -o /dev/null "$R?from=2024-02-01"
grep -qi '^transfer-encoding: chunked' "$WORK/h" && grep -qi '^content-type: text/csv' "$WORK/h" &&
  pass "http: streamed (chunked), text/csv" || fail "http headers: $(cat "$WORK/h")"
got=$(curl -s --http1.0 -D "$WORK/h10" "$R")
[[ "$got" == "$want_all" ]] && ! grep -qi '^transfer-encoding' "$WORK/h10" &&
  pass "http/1.0: the same body, not chunked (ends with the connection)" || fail "http/1.0: $got $(cat "$WORK/h10")"
got=$(curl -s "$R?from=2024-01-31&to=2024-02-01")
[[ "$got" == "$want" ]] && pass "http: from/to inclusive" || fail "http range: $got"
got=$(curl -s "$R?format=json&to=2024-01-30" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))')
[[ "$got" == '[{"sensor": "s1", "date": "2024-01-30", "temperature": 11.5, "sd": 0.1}]' ]] &&
  pass "http: json" || fail "http json: $got"
got=$(curl -s "$R?tail=1")
[[ "$got" == $'sensor,date,temperature,sd\ns1,2024-04-02,-1.5,0' ]] && pass "http: tail=1 = last reading" || fail "tail: $got"
expect_status "http: from=2023-02-29 (not a date)" 400 "$R?from=2023-02-29"
expect_status "http: to=02/01/2024" 400 "$R?to=02/01/2024"
expect_status "http: from after to" 400 "$R?from=2024-02-01&to=2024-01-01"
expect_status "http: format=xml" 400 "$R?format=xml"
expect_status "http: unknown sensor" 404 "$BASE/v1/sensors/nobody/readings"
[[ $(body_field error) == not_found ]] && pass "http: 404 body is not_found" || fail "404 body"

# --- ano / mes, CORS -------------------------------------------------------
expect_body "ano/mes alias of year/month" '{"sensor":"s1","year":2024,"month":2,"mean_temp":13.5625}' \
  "$BASE/temp?ano=2024&mes=2&sensor=s1"
expect_body "mes with year" '{"sensor":"s1","year":2024,"month":2,"max_sd":0.4}' "$BASE/sd?year=2024&mes=2&sensor=s1"
curl -s -D "$WORK/h" -o /dev/null "$BASE/health"
grep -qi '^access-control-allow-origin: \*' "$WORK/h" && pass "cors: header with --cors-origin" || fail "cors header"
code=$(curl -s -o /dev/null -D "$WORK/h" -w '%{http_code}' -X OPTIONS -H 'Origin: http://x' \
  -H 'Access-Control-Request-Method: GET' "$R")
[[ $code == 204 ]] && grep -qi '^access-control-allow-methods: GET' "$WORK/h" &&
  pass "cors: OPTIONS preflight -> 204" || fail "preflight: $code $(cat "$WORK/h")"
stop_server || true

# --- a file's invalid rows, the dashboard page -------------------------------
printf 'date,temperature,sd\n2024-05-01,20,0.1\n2024-13-01,20,0.1\n2024-05-02,99,0.1\n' >"$WORK/bad.csv"
sha=$("$AQ" --data "$DATA" ingest --sensor s2 --json --quiet "$WORK/bad.csv" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["per_file"][0]["sha256"])')
start_server "$DATA"
curl -s -D "$WORK/h" -o /dev/null "$BASE/health"
grep -qi '^access-control' "$WORK/h" && fail "cors header without --cors-origin" || pass "cors: off by default"
expect_status "cors off: OPTIONS -> 405" 405 -X OPTIONS "$BASE/health"
curl -s "$BASE/v1/files/$sha/invalid?sensor=s2" >"$WORK/inv"
grep -q ',3,bad_date,' "$WORK/inv" && grep -q ',4,temp_out_of_range,' "$WORK/inv" &&
  pass "invalid rows of a file with their reasons" || fail "invalid rows: $(cat "$WORK/inv")"
expect_status "invalid rows: sha not hex" 400 "$BASE/v1/files/..%2F..%2Fx/invalid?sensor=s2"
expect_status "invalid rows: unknown file" 404 "$BASE/v1/files/$(printf '%064d' 0)/invalid?sensor=s2"
curl -s -D "$WORK/h" -o "$WORK/page" "$BASE/"
grep -qi '^content-type: text/html' "$WORK/h" && grep -q '<script src="/dashboard/app.js">' "$WORK/page" &&
  pass "GET / is the dashboard" || fail "dashboard page"
curl -s -H 'Accept-Encoding: gzip' -D "$WORK/h" -o "$WORK/page.gz" "$BASE/dashboard/dygraph.min.js"
grep -qi '^content-encoding: gzip' "$WORK/h" && gzip -dc "$WORK/page.gz" | grep -q Dygraph &&
  pass "assets gzip-compressed when accepted" || fail "gzip asset"
stop_server || true

# --- 1M readings: streamed with flat memory ----------------------------------
python3 - "$WORK/big.csv" <<'EOF'
import sys
from datetime import datetime, timedelta
t = datetime(2020, 1, 1)
with open(sys.argv[1], "w") as f:
    f.write("date,temperature,sd\n")
    step = timedelta(minutes=1)
    for i in range(1_000_000):
        # canonical numbers (as stored and printed: 10.5, not 10.50)
        f.write(f"{t:%Y-%m-%dT%H:%M:%S},{round(10 + (i % 1000) / 100, 2):g},{(i % 50) / 100:g}\n")
        t += step
EOF
"$AQ" --data "$DATA" ingest --sensor big --quiet "$WORK/big.csv" >/dev/null
start_server "$DATA"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
curl -s "$BASE/v1/sensors/big/readings?to=2020-01-02" >/dev/null
before=$(rss)
curl -s "$BASE/v1/sensors/big/readings" -o "$WORK/big.out"
after=$(rss)
curl -s "$BASE/v1/sensors/big/readings" -o /dev/null
again=$(rss)
lines=$(wc -l <"$WORK/big.out")
[[ $lines == 1000001 ]] && pass "1M readings streamed (header + 1,000,000 rows)" || fail "big: $lines lines"
cmp -s <(tail -n +2 "$WORK/big.out" | cut -d, -f2-) <(tail -n +2 "$WORK/big.csv") &&
  pass "1M readings: the very values ingested, in order" || fail "big: values differ"
grow=$(((after - before) / 1024))
size=$(($(stat -c %s "$WORK/big.out") / 1048576))
if [[ "${AQ_SANITIZED:-0}" == 1 ]]; then
  echo "memory: RSS +${grow} MiB for a ${size} MiB body (not asserted: the sanitizers' allocator keeps freed memory)"
else
  [[ $grow -lt 16 ]] && pass "memory flat: RSS +${grow} MiB for a ${size} MiB body" ||
    fail "memory grew ${grow} MiB for a ${size} MiB body"
  [[ $(((again - after) / 1024)) -lt 2 ]] && pass "memory flat: a second full stream adds $(((again - after) / 1024)) MiB" ||
    fail "a second full stream grew the server by $(((again - after) / 1024)) MiB"
fi
pts=$(curl -s "$BASE/v1/sensors/big/readings?points=1000" | tail -n +2 | wc -l)
[[ $pts -le 2000 && $pts -ge 1000 ]] && pass "points=1000: $pts rows (min+max per bucket)" || fail "points: $pts"
stop_server || true
finish
