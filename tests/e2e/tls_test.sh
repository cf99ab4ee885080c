#!/usr/bin/env bash
# End-to-end test of `serve --tls-cert/--tls-key` (issue 14, docs/http.md "TLS"):
# a CA and two server certificates made here with openssl; curl --cacert gets
# the same answers over TLS as from a plain server on the same data; uploads,
# limits, keep-alive and the readings stream work over TLS; plain HTTP on the
# TLS port gets a plain 400 and the server lives; stalled and broken handshakes
# are closed within the header timeout and logged at a rate; SIGHUP loads a new
# certificate for new connections (open ones keep theirs) and a garbage one is
# refused with the old one kept; bad files at start-up exit 2.
#   Usage: AQ=path/to/aquasense tls_test.sh
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=hostile/lib.sh
source "$HERE/hostile/lib.sh"

PKI=$WORK/pki
mkdir -p "$PKI"
# make_cert NAME SERIAL: a P-256 server certificate for 127.0.0.1/localhost,
# signed by the test CA.
make_cert() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
    -keyout "$PKI/$1.key" -out "$PKI/$1.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$PKI/ext"
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -set_serial "$2" \
    -days 2 -extfile "$PKI/ext" -out "$PKI/$1.pem" 2>/dev/null
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=aq test CA" \
  -days 2 -keyout "$PKI/ca.key" -out "$PKI/ca.pem" 2>/dev/null
make_cert first 0x1001
make_cert second 0x2002
CERT=$WORK/server.pem
KEY=$WORK/server.key
cp "$PKI/first.pem" "$CERT"
cp "$PKI/first.key" "$KEY"

DATA=$WORK/data
"$AQ" --data "$DATA" ingest --quiet "$ROOT/examples/readings.csv" >/dev/null

# start_tls DATA [flags...]: like start_server, for the https listener.
start_tls() {
  local data=$1; shift
  TLS_LOG="$WORK/tls.$RANDOM.log"
  "$AQ" --data "$data" serve --listen 127.0.0.1:0 "$@" 2>"$TLS_LOG" &
  TLS_PID=$!
  PIDS+=("$TLS_PID")
  TLS_PORT=""
  for _ in $(seq 1 200); do
    TLS_PORT=$(grep -o 'listening on https://127.0.0.1:[0-9]*' "$TLS_LOG" | sed 's/.*://' || true)
    [[ -n "$TLS_PORT" ]] && break
    kill -0 "$TLS_PID" 2>/dev/null || { cat "$TLS_LOG" >&2; echo "TLS server did not start" >&2; exit 1; }
    sleep 0.05
  done
  [[ -n "$TLS_PORT" ]] || { cat "$TLS_LOG" >&2; exit 1; }
  TLS_BASE="https://127.0.0.1:$TLS_PORT"
}
tcurl() { curl -s --cacert "$PKI/ca.pem" --max-time 10 "$@"; }
tls_alive() {
  local code
  code=$(tcurl -o /dev/null -w '%{http_code}' "$TLS_BASE/health" || true)
  if kill -0 "$TLS_PID" 2>/dev/null && [[ "$code" == 200 ]]; then pass "$1: TLS server alive"
  else fail "$1: TLS server /health answered '$code'"; fi
}
# served_serial: the serial of the certificate a new connection sees.
served_serial() {
  openssl s_client -connect "127.0.0.1:$TLS_PORT" -CAfile "$PKI/ca.pem" </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null | sed 's/serial=//'
}

# --- bad files at start-up ----------------------------------------------------
rc=0; "$AQ" --data "$DATA" serve --listen 127.0.0.1:0 --tls-cert "$WORK/nope.pem" --tls-key "$KEY" \
  2>"$WORK/err" || rc=$?
if [[ $rc == 2 ]] && grep -q "cannot read the TLS certificate file $WORK/nope.pem: No such file" "$WORK/err"
then pass "missing certificate -> exit 2, named"; else fail "missing certificate: rc $rc: $(cat "$WORK/err")"; fi
rc=0; "$AQ" --data "$DATA" serve --listen 127.0.0.1:0 --tls-cert "$CERT" --tls-key "$PKI/second.key" \
  2>"$WORK/err" || rc=$?
if [[ $rc == 2 ]] && grep -q "does not match the certificate" "$WORK/err"
then pass "key of another certificate -> exit 2"; else fail "mismatched key: rc $rc: $(cat "$WORK/err")"; fi
printf '{"serve": {"tls_cert": "%s", "tls_key": "%s"}}' "$WORK/none.pem" "$KEY" >"$WORK/tls.json"
rc=0; "$AQ" --data "$DATA" --config "$WORK/tls.json" serve --listen 127.0.0.1:0 2>"$WORK/err" || rc=$?
if [[ $rc == 2 ]] && grep -q "cannot read the TLS certificate file $WORK/none.pem" "$WORK/err"
then pass "config \"tls_cert\" read, missing file -> exit 2"; else fail "config tls_cert: rc $rc: $(cat "$WORK/err")"; fi
rc=0; "$AQ" --data "$DATA" serve --listen 127.0.0.1:0 --tls-cert "$CERT" 2>"$WORK/err" || rc=$?
if [[ $rc == 1 ]] && grep -q -- "--tls-cert and --tls-key go together" "$WORK/err"
then pass "--tls-cert without --tls-key -> exit 1"; else fail "cert only: rc $rc: $(cat "$WORK/err")"; fi

# --- the same answers as plain HTTP -----------------------------------------------
TOKEN=tok-$RANDOM$RANDOM
start_server "$DATA" --header-timeout 2
# The variables are the flags' equivalents (AQUASENSE_TLS_CERT / _KEY).
AQUASENSE_TOKEN=$TOKEN AQUASENSE_TLS_CERT=$CERT AQUASENSE_TLS_KEY=$KEY \
  start_tls "$DATA" --header-timeout 1 --max-upload 4000 --max-header-bytes 4096
echo "plain $BASE, TLS $TLS_BASE"
expect_status "TLS: /health with the test CA" 200 --cacert "$PKI/ca.pem" "$TLS_BASE/health"
for path in "/v1/sensors" "/v1/sensors/default/months?from=2017-01&to=2017-12" \
  "/temp?year=2017&month=3" "/maxdiff?year=2017&month=5" "/v1/sensors/default/readings"; do
  plain=$(curl -s --max-time 10 "$BASE$path" | sha256sum)
  tls=$(tcurl "$TLS_BASE$path" | sha256sum)
  if [[ "$plain" == "$tls" && "$plain" != "$(printf '' | sha256sum)" ]]; then pass "TLS $path == plain"
  else fail "TLS $path differs from plain"; fi
done
n=$(tcurl "$TLS_BASE/v1/sensors/default/readings" | wc -l)
if [[ $n -gt 100 ]]; then pass "readings stream over TLS: $n lines"; else fail "readings over TLS: $n lines"; fi
conns=$(tcurl -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' "$TLS_BASE/health" \
  "$TLS_BASE/v1/sensors" "$TLS_BASE/health" | paste -sd' ')
if [[ "$conns" == "1 0 0" ]]; then pass "keep-alive over TLS: 3 requests, 1 connection"
else fail "keep-alive over TLS: connects per request '$conns'"; fi
if curl -s --max-time 5 -o /dev/null "https://127.0.0.1:$TLS_PORT/health"; then
  fail "curl without the CA accepted the certificate"; else pass "curl without the CA refuses it"; fi
if curl -s --max-time 5 -o /dev/null --cacert "$PKI/ca.pem" --tls-max 1.1 "$TLS_BASE/health"; then
  fail "TLS 1.1 accepted"; else pass "TLS 1.1 refused"; fi

# --- uploads and limits over TLS -----------------------------------------------------
printf 'date,temperature,sd\n2023-12-01,10,0.1\n2023-12-02,12,0.3\n' >"$WORK/up.csv"
expect_status "TLS upload" 200 --cacert "$PKI/ca.pem" -H "Authorization: Bearer $TOKEN" \
  --data-binary @"$WORK/up.csv" "$TLS_BASE/v1/ingest?sensor=up1"
expect_status "TLS upload visible at once" 200 --cacert "$PKI/ca.pem" \
  "$TLS_BASE/v1/sensors/up1/months?from=2023-12&to=2023-12"
expect_status "TLS upload with Expect: 100-continue" 200 --cacert "$PKI/ca.pem" \
  -H "Authorization: Bearer $TOKEN" -H "Expect: 100-continue" \
  --data-binary @"$WORK/up.csv" "$TLS_BASE/v1/ingest?sensor=up2&on_conflict=replace"
head -c 9000 /dev/zero | tr '\0' 'x' >"$WORK/big.csv"
expect_status "TLS upload over --max-upload -> 413" 413 --cacert "$PKI/ca.pem" \
  -H "Authorization: Bearer $TOKEN" --data-binary @"$WORK/big.csv" "$TLS_BASE/v1/ingest?sensor=big"
expect_status "TLS upload without token -> 401" 401 --cacert "$PKI/ca.pem" \
  --data-binary @"$WORK/up.csv" "$TLS_BASE/v1/ingest?sensor=x"
expect_status "TLS header over --max-header-bytes -> 431" 431 --cacert "$PKI/ca.pem" \
  -H "X-Big: $(head -c 6000 /dev/zero | tr '\0' 'a')" "$TLS_BASE/health"
expect_status "TLS Content-Length + Transfer-Encoding -> 400 (CheckFraming)" 400 \
  --cacert "$PKI/ca.pem" -H "Transfer-Encoding: chunked" -H "Content-Length: 5" \
  --data-binary @"$WORK/up.csv" "$TLS_BASE/v1/sensors"
tls_alive "after the limits"

# --- plain HTTP and junk on the TLS port ------------------------------------------
line=$(raw_send "$TLS_PORT" 'b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"')
if [[ "$line" == "HTTP/1.1 400 Bad Request" ]]; then pass "plain GET on the TLS port -> 400"
else fail "plain GET on the TLS port: '$line'"; fi
body=$(curl -s --max-time 5 "http://127.0.0.1:$TLS_PORT/v1/sensors" || true)
if [[ "$body" == *"this port speaks TLS"* ]]; then pass "curl http:// on the TLS port sees 'this port speaks TLS'"
else fail "curl http:// on the TLS port: '$body'"; fi
line=$(raw_send "$TLS_PORT" 'b"POST /v1/ingest HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000')
if [[ "$line" == "HTTP/1.1 400 Bad Request" ]]; then pass "plain POST with a body on the TLS port -> 400"
else fail "plain POST on the TLS port: '$line'"; fi
tls_alive "after plain HTTP"
# Stalled and broken handshakes: closed within the header timeout (1 s).
/usr/bin/python3 - "$TLS_PORT" >"$WORK/stall" <<'PY'
import socket, sys, time
out = []
for first in (b"", b"\x16", b"\x16\x03\x01\x00\x05hello"):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=8)
    t0 = time.monotonic()
    if first: s.sendall(first)
    try:
        data = s.recv(4096)
        while data and data[0] == 0x15:  # a TLS alert, then the close
            data = s.recv(4096)
    except (ConnectionResetError, socket.timeout) as e:
        data = type(e).__name__.encode()
    out.append("%d:%s:%.1f" % (len(first), data[:20], time.monotonic() - t0))
print(" ".join(out))
PY
read -r -a stalls <"$WORK/stall"
for s in "${stalls[@]}"; do
  secs=${s##*:}
  if [[ "$s" != *timeout* ]] && awk -v t="$secs" 'BEGIN{exit !(t < 4)}'; then pass "handshake '$s' closed in time"
  else fail "handshake not closed within the header timeout: $s"; fi
done
for _ in $(seq 1 40); do
  printf '\x16\x03\x01\x00\x05hello' | timeout 3 /usr/bin/python3 -c '
import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read()); s.recv(100)' "$TLS_PORT" 2>/dev/null || true
done
n=$(grep -c "TLS handshake failed" "$TLS_LOG" || true)
if [[ $n -ge 1 && $n -le 4 ]]; then pass "41 broken handshakes logged in $n line(s)"
else fail "broken handshakes logged in $n lines"; fi
tls_alive "after broken handshakes"

# --- SIGHUP reload -------------------------------------------------------------
before=$(served_serial)
if [[ "$before" == 1001 ]]; then pass "served serial 1001"; else fail "served serial '$before'"; fi
cp "$PKI/second.pem" "$CERT"
cp "$PKI/second.key" "$KEY"
# An open keep-alive connection made before the reload keeps working with its
# certificate; a new one gets the new serial.
/usr/bin/python3 - "$TLS_PORT" "$PKI/ca.pem" "$TLS_PID" "$TLS_LOG" >"$WORK/hup" <<'PY'
import os, signal, socket, ssl, sys, time
port, ca, pid, log = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
def get(conn):
    conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(body) < n:
        body += conn.recv(4096)
    return head.split(b"\r\n")[0].decode()
old = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
first = get(old)
os.kill(pid, signal.SIGHUP)
for _ in range(100):
    if "TLS reloaded" in open(log).read(): break
    time.sleep(0.05)
new = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
print(first, old.getpeercert()["serialNumber"], get(old), new.getpeercert()["serialNumber"], get(new))
PY
hup=$(cat "$WORK/hup")
if [[ "$hup" == "HTTP/1.1 200 OK 1001 HTTP/1.1 200 OK 2002 HTTP/1.1 200 OK" ]]; then
  pass "SIGHUP: new connections see serial 2002, the open one keeps 1001 and works"
else fail "SIGHUP reload: '$hup' $(tail -3 "$TLS_LOG")"; fi
after=$(served_serial)
if [[ "$after" == 2002 ]]; then pass "served serial 2002 after SIGHUP"; else fail "after SIGHUP: '$after'"; fi
printf -- '-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n' >"$CERT"
kill -HUP "$TLS_PID"
for _ in $(seq 1 100); do grep -q "TLS reload failed" "$TLS_LOG" && break; sleep 0.05; done
if grep -q "SIGHUP: TLS reload failed: the TLS certificate file $CERT.*the current certificate stays in use" "$TLS_LOG"
then pass "garbage certificate on SIGHUP logged"; else fail "no reload failure logged: $(tail -3 "$TLS_LOG")"; fi
kept=$(served_serial)
if [[ "$kept" == 2002 ]]; then pass "garbage certificate on SIGHUP: serial 2002 stays"; else fail "after garbage: '$kept'"; fi
tls_alive "after a failed reload"

kill -TERM "$TLS_PID"
rc=0; wait "$TLS_PID" || rc=$?
if [[ $rc == 0 ]]; then pass "TLS server exits 0 on SIGTERM"; else fail "TLS server exit $rc: $(tail -3 "$TLS_LOG")"; fi
stop_server || true
finish
