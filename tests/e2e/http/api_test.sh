#!/usr/bin/env bash
# End-to-end test of every endpoint and error path of SPEC §8 against the real
# server on 127.0.0.1: reads, 400/401/403/404/405/413/431, HEAD, keep-alive,
# /metrics, /openapi.json, uploads visible right after their response,
# --watch, the access log, /health 503 while the store cannot be read, and a
# clean exit on SIGTERM.   Usage: AQ=path/to/aquasense api_test.sh
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
source "$HERE/common.sh"

DATA=$WORK/data
"$AQ" --data "$DATA" ingest --quiet "$ROOT/examples/readings.csv" >/dev/null
printf 'date,temperature,sd\n2023-12-01,10,0.1\n2023-12-02,12,0.3\n' > "$WORK/s2.csv"
"$AQ" --data "$DATA" ingest --quiet --sensor s2 "$WORK/s2.csv" >/dev/null
"$AQ" --data "$DATA" export --format json > "$WORK/export.json"

# expected VALUE of FIELD for SENSOR YEAR MONTH, from `export --format json`
expected() {
  python3 - "$WORK/export.json" "$@" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
sensor, year, month, field = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
for r in rows:
    if r["sensor"] == sensor and r["year"] == year and r["month"] == month:
        print(json.dumps(r[field])); break
else:
    print("MISSING")
PY
}
# The raw numbers as `export` prints them (docs/contract.md format).
num() { grep -o "\"sensor\":\"$1\",\"year\":$2,\"month\":$3,[^}]*" "$WORK/export.json" | grep -o "\"$4\":[^,}]*" | cut -d: -f2; }

TOKEN=tok-$RANDOM$RANDOM
# The WAL outlives commands: move everything into the main file for the
# /health test below.
sqlite3 "$DATA/aquasense.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
AQUASENSE_TOKEN=$TOKEN start_server "$DATA" --watch --watch-interval 0.1 --max-upload 2000 \
  --access-log "$WORK/access.log" --header-timeout 5
echo "server on $BASE"

# --- reads
expect_status "GET /health" 200 "$BASE/health"
[[ $(body_field status) == ok ]] && pass "health status ok" || fail "health body: $(cat "$WORK/body")"
expect_body "/temp 2024-01" "{\"sensor\":\"default\",\"year\":2024,\"month\":1,\"mean_temp\":$(num default 2024 1 mean_temp)}" "$BASE/temp?year=2024&month=1"
expect_body "/sd 2024-01" "{\"sensor\":\"default\",\"year\":2024,\"month\":1,\"max_sd\":$(num default 2024 1 max_sd)}" "$BASE/sd?year=2024&month=01"
expect_body "/maxdiff 2024-02" "{\"sensor\":\"default\",\"year\":2024,\"month\":2,\"max_temp_diff\":$(num default 2024 2 max_temp_diff)}" "$BASE/maxdiff?year=2024&month=2"
expect_body "/maxdiff first month is null" '{"sensor":"default","year":2017,"month":1,"max_temp_diff":null}' "$BASE/maxdiff?year=2017&month=1"
expect_body "/temp sensor=s2" '{"sensor":"s2","year":2023,"month":12,"mean_temp":11}' "$BASE/temp?year=2023&month=12&sensor=s2"
[[ $(expected default 2024 1 mean_temp) == "$(num default 2024 1 mean_temp)" ]] && pass "export json agrees" || fail "export json parse"

# --- /health 503 while the store cannot be read; reads keep the last snapshot.
# (Done before this server writes anything, so the whole database is in the
# main file (checkpointed before the server started), which the test
# truncates and then restores byte for byte.)
cp "$DATA/aquasense.db" "$WORK/db.bak"
truncate -s 0 "$DATA/aquasense.db"
ok=""
for _ in $(seq 1 50); do
  [[ $(curl -s -o "$WORK/body" -w '%{http_code}' "$BASE/health") == 503 ]] && { ok=1; break; }
  sleep 0.05
done
[[ -n "$ok" ]] && pass "/health 503 while the store is unreadable" || fail "/health did not turn 503"
[[ $(body_field error) == unavailable ]] && pass "503 body" || fail "503 body: $(cat "$WORK/body")"
expect_status "reads still served from the snapshot" 200 "$BASE/temp?year=2024&month=1"
cat "$WORK/db.bak" > "$DATA/aquasense.db"
ok=""
for _ in $(seq 1 50); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/health") == 200 ]] && { ok=1; break; }
  sleep 0.05
done
[[ -n "$ok" ]] && pass "/health back to 200" || fail "/health did not recover"

# --- 400
for q in "" "year=2024" "month=1" "year=2024&month=1abc" "year=2024&month=13" "year=2024&month=0" \
         "year=-1&month=1" "year=%2B2024&month=1" "year=99999999999999999999&month=1" "year=2024&month=4294967297" \
         "year=2024&month=1&month=2" "year=2024&month=1&sensor=a%20b" "year=2024&month=%ZZ" "year=2024.0&month=1"; do
  expect_status "/temp?$q" 400 "$BASE/temp?$q"
  [[ $(body_field error) == bad_request ]] || fail "400 body for '$q': $(cat "$WORK/body")"
done
expect_status "/sd bad month" 400 "$BASE/sd?year=2024&month=x"
expect_status "/maxdiff missing year" 400 "$BASE/maxdiff?month=1"
expect_status "months bad from" 400 "$BASE/v1/sensors/default/months?from=2024-1"
expect_status "months from after to" 400 "$BASE/v1/sensors/default/months?from=2024-03&to=2024-01"
expect_status "months bad sensor id" 400 "$BASE/v1/sensors/a%2Fb/months"

# --- 404
expect_status "/temp month without data" 404 "$BASE/temp?year=2000&month=1"
[[ $(body_field error) == not_found ]] && pass "404 body" || fail "404 body: $(cat "$WORK/body")"
expect_status "/temp unknown sensor" 404 "$BASE/temp?year=2024&month=1&sensor=nope"
expect_status "unknown path" 404 "$BASE/nope"
[[ $(body_field error) == not_found ]] && pass "unknown path body" || fail "unknown path body: $(cat "$WORK/body")"
expect_status "unknown sensor months" 404 "$BASE/v1/sensors/nope/months"

# --- 405
expect_status "POST /temp" 405 -X POST "$BASE/temp?year=2024&month=1"
[[ $(body_field error) == method_not_allowed ]] && pass "405 body" || fail "405 body: $(cat "$WORK/body")"
curl -s -D "$WORK/h" -o /dev/null -X DELETE "$BASE/health"
grep -qi '^Allow: GET, HEAD' "$WORK/h" && pass "405 Allow header" || fail "no Allow header: $(cat "$WORK/h")"
expect_status "GET /v1/ingest" 405 "$BASE/v1/ingest"

# --- v1
expect_status "/v1/sensors" 200 "$BASE/v1/sensors"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=[x["sensor"] for x in d["sensors"]]; assert s==["default","s2"], s; assert d["sensors"][0]["months"]==96' "$WORK/body" \
  && pass "/v1/sensors lists default and s2" || fail "/v1/sensors: $(cat "$WORK/body")"
expect_status "/v1/sensors/default/months" 200 "$BASE/v1/sensors/default/months?from=2024-01&to=2024-03"
python3 - "$WORK/body" "$WORK/export.json" <<'PY' && pass "months records equal export json" || fail "months body: $(cat "$WORK/body")"
import json, sys
got = json.load(open(sys.argv[1]))
rows = [r for r in json.load(open(sys.argv[2])) if r["sensor"] == "default" and r["year"] == 2024 and r["month"] <= 3]
assert got["sensor"] == "default" and got["months"] == rows, (got, rows)
PY

# --- HEAD, content types, keep-alive
curl -s -I "$BASE/health" > "$WORK/h"
grep -q '^HTTP/1.1 200' "$WORK/h" && grep -qi '^Content-Type: application/json' "$WORK/h" && pass "HEAD /health" || fail "HEAD: $(cat "$WORK/h")"
curl -s -D "$WORK/h" -o "$WORK/metrics" "$BASE/metrics"
grep -qi '^Content-Type: text/plain' "$WORK/h" && pass "/metrics is text/plain" || fail "/metrics headers: $(cat "$WORK/h")"
grep -q '^aquasense_http_requests_total{route="temp",code="200"} [0-9]' "$WORK/metrics" && pass "/metrics counts requests" || fail "metrics: no temp counter"
grep -q '^aquasense_http_request_duration_seconds_bucket{route="temp",le="+Inf"}' "$WORK/metrics" && pass "/metrics latency histogram" || fail "metrics: no histogram"
grep -q '^aquasense_snapshot_age_seconds ' "$WORK/metrics" && pass "/metrics snapshot age" || fail "metrics: no snapshot age"
expect_status "/openapi.json" 200 "$BASE/openapi.json"
[[ $(body_field openapi) == 3.0.3 ]] && pass "openapi document" || fail "openapi body"
python3 - "$PORT" <<'PY' && pass "keep-alive: 3 requests on one connection" || fail "keep-alive"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
for _ in range(3):
    c.request("GET", "/health"); r = c.getresponse(); r.read(); assert r.status == 200
    assert r.getheader("Connection") is None
PY

# --- protocol errors
python3 - "$PORT" <<'PY' && pass "malformed request -> 400" || fail "malformed request"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GARBAGE\x01 / HTTP/1.1\r\n\r\n")
data = s.recv(4096)
assert data.startswith(b"HTTP/1.1 400"), data
PY
expect_status "header over the limit -> 431" 431 -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$BASE/health"

# --- uploads
printf 'date,temperature,sd\n2031-03-01,20.5,0.2\n2031-03-02,21.5,0.2\n' > "$WORK/up.csv"
expect_status "upload without token -> 401" 401 --data-binary @"$WORK/up.csv" "$BASE/v1/ingest?sensor=up"
[[ $(body_field error) == unauthorized ]] && pass "401 body" || fail "401 body: $(cat "$WORK/body")"
curl -s -D "$WORK/h" -o /dev/null --data-binary @"$WORK/up.csv" "$BASE/v1/ingest?sensor=up"
grep -qi '^WWW-Authenticate: Bearer' "$WORK/h" && pass "401 WWW-Authenticate" || fail "no WWW-Authenticate"
expect_status "upload with another scheme -> 401" 401 -H "Authorization: Basic $TOKEN" --data-binary @"$WORK/up.csv" "$BASE/v1/ingest?sensor=up"
expect_status "upload with a wrong token -> 403" 403 -H "Authorization: Bearer x$TOKEN" --data-binary @"$WORK/up.csv" "$BASE/v1/ingest?sensor=up"
[[ $(body_field error) == forbidden ]] && pass "403 body" || fail "403 body: $(cat "$WORK/body")"
expect_status "upload bad sensor -> 400" 400 -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/up.csv" "$BASE/v1/ingest?sensor=a%2Fb"
expect_status "upload bad on_conflict -> 400" 400 -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/up.csv" "$BASE/v1/ingest?sensor=up&on_conflict=x"
expect_status "upload -> 200" 200 -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/up.csv" "$BASE/v1/ingest?sensor=up"
[[ $(body_field files) == 1 && $(body_field valid) == 2 ]] && pass "upload summary" || fail "upload summary: $(cat "$WORK/body")"
expect_body "upload visible right after its response" '{"sensor":"up","year":2031,"month":3,"mean_temp":21}' "$BASE/temp?year=2031&month=3&sensor=up"
expect_status "same upload again -> 200" 200 -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/up.csv" "$BASE/v1/ingest?sensor=up"
[[ $(body_field files) == 0 && $(body_field already_ingested) == 1 ]] && pass "re-upload is a no-op" || fail "re-upload: $(cat "$WORK/body")"
ls "$DATA"/landing/up/*.csv >/dev/null 2>&1 && pass "upload kept in landing/up/" || fail "no landing file"

# --- GET /v1/alerts, and the server's own delivery loop
printf '2031-04-01,20,0.9\n' > "$WORK/dev.csv"
expect_status "upload with a deviation -> 200" 200 -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/dev.csv" "$BASE/v1/ingest?sensor=devs"
expect_status "/v1/alerts?limit=abc -> 400" 400 "$BASE/v1/alerts?limit=abc"
expect_status "/v1/alerts?limit=0 -> 400" 400 "$BASE/v1/alerts?limit=0"
delivered=""
for _ in $(seq 1 50); do
  curl -s -o "$WORK/body" "$BASE/v1/alerts?limit=5"
  if python3 - "$WORK/body" <<'PY'
import json, sys
alerts = json.load(open(sys.argv[1]))["alerts"]
a = [x for x in alerts if x["kind"] == "deviation" and x["sensor"] == "devs"]
assert a, alerts
assert [d["state"] for d in a[0]["deliveries"] if d["channel"] == "log"] == ["delivered"], a[0]
PY
  then delivered=yes; break; fi
  sleep 0.2
done
[[ -n $delivered ]] && pass "/v1/alerts lists the upload's deviation alert, delivered by serve" || fail "/v1/alerts: $(cat "$WORK/body")"
printf '2031-04-01,5,0.1\n' > "$WORK/small.csv"
expect_status "upload with Expect: 100-continue" 200 -H "Expect: 100-continue" -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/small.csv" "$BASE/v1/ingest?sensor=up"
head -c 5000 /dev/zero | tr '\0' 'x' > "$WORK/big.csv"
expect_status "upload over --max-upload -> 413" 413 -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/big.csv" "$BASE/v1/ingest?sensor=big"
[[ $(body_field error) == payload_too_large ]] && pass "413 body" || fail "413 body: $(cat "$WORK/body")"
expect_status "chunked upload over --max-upload -> 413" 413 -H "Transfer-Encoding: chunked" -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/big.csv" "$BASE/v1/ingest?sensor=big"
[[ ! -d "$DATA/landing/big" ]] || [[ -z "$(ls -A "$DATA/landing/big")" ]] && pass "nothing kept of refused uploads" || fail "refused upload left files"
python3 - "$PORT" "$TOKEN" <<'PY' && pass "413 answered before the body is sent" || fail "413 before body"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(("POST /v1/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Content-Length: 999999999\r\n\r\n" % sys.argv[2]).encode())
data = s.recv(4096)   # no body bytes sent at all
assert data.startswith(b"HTTP/1.1 413"), data
PY

# --- --watch
mkdir -p "$DATA/inbox/w1"
printf '2032-05-01,7,0.1\n2032-05-02,9,0.1\n' > "$DATA/inbox/w1/.drop.tmp"
mv "$DATA/inbox/w1/.drop.tmp" "$DATA/inbox/w1/drop.csv"
printf '2032-06-01,3,0.1\n' > "$DATA/inbox/root.csv"
ok=""
for _ in $(seq 1 100); do
  if [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/temp?year=2032&month=5&sensor=w1") == 200 &&
        $(curl -s -o /dev/null -w '%{http_code}' "$BASE/temp?year=2032&month=6") == 200 ]]; then ok=1; break; fi
  sleep 0.1
done
[[ -n "$ok" ]] && pass "--watch ingested the dropped files" || fail "--watch: files not ingested: $(cat "$SERVER_LOG")"
expect_body "watched file's data" '{"sensor":"w1","year":2032,"month":5,"mean_temp":8}' "$BASE/temp?year=2032&month=5&sensor=w1"
for _ in $(seq 1 50); do [[ -e "$DATA/inbox/w1/drop.csv" || -e "$DATA/inbox/root.csv" ]] || break; sleep 0.1; done
[[ ! -e "$DATA/inbox/w1/drop.csv" && ! -e "$DATA/inbox/root.csv" ]] && pass "ingested files left the inbox" || fail "inbox files still there"
ls "$DATA"/landing/w1/*.csv >/dev/null 2>&1 && pass "watched file kept in landing/w1/" || fail "no landing/w1"

# --- another process ingests beside the server: the snapshot notices
printf '2033-01-01,1,0.1\n' > "$WORK/cli.csv"
"$AQ" --data "$DATA" ingest --quiet --sensor cli "$WORK/cli.csv" >/dev/null
ok=""
for _ in $(seq 1 50); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/temp?year=2033&month=1&sensor=cli") == 200 ]] && { ok=1; break; }
  sleep 0.05
done
[[ -n "$ok" ]] && pass "an ingest by another process shows up" || fail "cli ingest not visible"

# --- access log
grep -q '"route":"temp","status":200' "$WORK/access.log" && pass "access log lines" || fail "access log: $(head -3 "$WORK/access.log")"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$WORK/access.log" && pass "access log is JSON lines" || fail "access log not JSON"

# --- SIGTERM: clean exit
if stop_server; then pass "SIGTERM -> exit 0"; else fail "exit status $? after SIGTERM"; fi
grep -q "stopped" "$SERVER_LOG" && pass "server said stopped" || fail "log: $(cat "$SERVER_LOG")"

# --- a server without a token refuses uploads
start_server "$DATA"
expect_status "upload when no token is configured -> 403" 403 -H "Authorization: Bearer whatever" --data-binary @"$WORK/up.csv" "$BASE/v1/ingest?sensor=up"
grep -q "disabled" "$WORK/body" && pass "403 says uploads are disabled" || fail "403 body: $(cat "$WORK/body")"
stop_server || fail "second server exit"

# --- --auth-reads: reads need the token too, except /health
AQUASENSE_TOKEN=$TOKEN start_server "$DATA" --auth-reads
expect_status "--auth-reads: read without token -> 401" 401 "$BASE/temp?year=2024&month=1"
expect_status "--auth-reads: read with a wrong token -> 403" 403 -H "Authorization: Bearer nope" "$BASE/temp?year=2024&month=1"
expect_status "--auth-reads: read with the token -> 200" 200 -H "Authorization: Bearer $TOKEN" "$BASE/temp?year=2024&month=1"
expect_status "--auth-reads: /health stays open" 200 "$BASE/health"
stop_server || fail "third server exit"

# --- usage errors
"$AQ" --data "$DATA" serve --listen nonsense 2>/dev/null && fail "bad --listen accepted" || { [[ $? == 1 ]] && pass "bad --listen -> exit 1" || fail "bad --listen exit code"; }
"$AQ" --data "$DATA" serve --listen 127.0.0.1:0 --max-upload 12parsecs 2>/dev/null && fail "bad --max-upload accepted" || { [[ $? == 1 ]] && pass "bad --max-upload -> exit 1" || fail "bad --max-upload exit code"; }
finish
