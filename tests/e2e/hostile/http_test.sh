#!/usr/bin/env bash
# Hostile HTTP tests (issue 10; reliability review §3: C1, H3, M1, M6, L1, L2,
# L7): the review's reproductions and variations of them against a real
# `aquasense serve` on 127.0.0.1. After each group the server must still be
# alive and answering; at the end the store is consistent and nothing was
# written outside the work directory.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

# probe PORT PY_BYTES [SECONDS [PIECE]]: sends the bytes on one connection (in
# PIECE-byte writes 20 ms apart when given), half-closes
# it and prints "<status of every response, space-separated, or none> <EOF|OPEN|RESET>".
cat >"$WORK/probe.py" <<'PY'
import re, socket, sys, time
port, data = int(sys.argv[1]), eval(sys.argv[2])
wait = float(sys.argv[3]) if len(sys.argv) > 3 else 5
piece = int(sys.argv[4]) if len(sys.argv) > 4 else 0  # send in pieces, 20 ms apart
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
except OSError as e:
    sys.exit(print("none", type(e).__name__))
out, state = b"", "OPEN"
try:
    for i in range(0, len(data), piece or len(data) or 1):
        s.sendall(data[i:i + (piece or len(data))])
        if piece:
            time.sleep(0.02)
    s.shutdown(socket.SHUT_WR)
    while True:
        c = s.recv(65536)
        if not c:
            state = "EOF"
            break
        out += c
except socket.timeout:
    pass
except (ConnectionResetError, BrokenPipeError):
    state = "RESET"
codes = [c.decode() for c in re.findall(rb"HTTP/1\.1 (\d{3}) ", out)]
print(" ".join(codes) or "none", state)
PY
count_landing() { { find "$D/landing" -type f 2>/dev/null || true; } | wc -l; }
probe() { /usr/bin/python3 "$WORK/probe.py" "$@"; }
# expect_probe WHAT WANT PY_BYTES: WANT is the exact probe output (e.g. "431 EOF").
expect_probe() {
  local what=$1 want=$2 got
  got=$(probe "$PORT" "$3" "${4:-5}" "${5:-0}" 2>&1 || true)
  if [[ "$got" == "$want" ]]; then pass "$what -> $got"; else fail "$what: got '$got', want '$want'"; fi
}
# expect_usage WHAT NEEDLE [env...] -- serve args...: serve must exit 1 at
# start-up, naming NEEDLE in its message.
expect_usage() {
  local what=$1 needle=$2 rc=0; shift 2
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" timeout 20 "$AQ" --data "$WORK/usage-data" "$@" >"$WORK/usage.out" 2>&1 || rc=$?
  if [[ $rc == 1 ]] && grep -qF -- "$needle" "$WORK/usage.out"; then
    pass "$what -> rc 1: $(head -c 160 "$WORK/usage.out")"
  else
    fail "$what: rc $rc, want 1 naming '$needle': $(head -c 300 "$WORK/usage.out")"
  fi
}

mark_outside
D="$WORK/data"
echo 's3cret' >"$WORK/token"
ACCESS="$WORK/access.log"
MAIN_ARGS=(--token-file "$WORK/token" --access-log "$ACCESS" --header-timeout 2)
start_server "$D" "${MAIN_ARGS[@]}"
# alive WHAT: check_alive, then (if the server died) a fresh one for the next
# group, so that every group is judged on its own.
alive() {
  check_alive "$1"
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "(server restarted for the next checks)"
    start_server "$D" "${MAIN_ARGS[@]}"
  fi
}
AUTH="Authorization: Bearer s3cret"
big_trailer='b"0\r\nX-T: " + b"a" * 70000 + b"\r\n\r\n"'

# --- C1: a chunked trailer field over 64 KiB (Beast's basic_fields throws) ---
expect_probe "C1: GET /health, chunked, 70,000-byte trailer" "431 EOF" \
  "b\"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\" + $big_trailer"
expect_probe "C1: POST /no/such/path, 70,000-byte trailer" "431 EOF" \
  "b\"POST /no/such/path HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\" + $big_trailer"
expect_probe "C1: no path (POST *), 70,000-byte trailer" "431 EOF" \
  "b\"POST * HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\" + $big_trailer"
landing_before=$(count_landing)
expect_probe "C1: POST /v1/ingest with a valid token, body then a 70,000-byte trailer" "431 EOF" \
  "b\"POST /v1/ingest?sensor=c1 HTTP/1.1\r\nHost: x\r\n$AUTH\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\ndate,temperature,sd\n2024-0\r\n\" + $big_trailer"
landing_after=$(count_landing)
if [[ $landing_after == "$landing_before" ]]; then pass "C1: the refused upload left nothing in landing/"
else fail "C1: landing/ went from $landing_before to $landing_after files"; fi
expect_probe "C1: 60,000-byte trailer (under 64 KiB, over the header limit)" "431 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + b"a" * 60000 + b"\r\n\r\n"'
expect_probe "C1: 200 trailer fields of 1 KB" "431 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"b" * 1000) for i in range(200)) + b"\r\n"'
expect_probe "C1: small trailer still accepted" "200 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: ok\r\n\r\n"'
expect_probe "C1: 70 KB chunk extension (fits the read buffer)" "200 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;e=" + b"x" * 70000 + b"\r\nabc\r\n0\r\n\r\n"'
expect_probe "C1: 100 KB chunk extension" "431 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;e=" + b"x" * 100000 + b"\r\nabc\r\n0\r\n\r\n"'
expect_probe "C1: 70,000-byte header value under the default limit" "431 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 70000 + b"\r\n\r\n"'
alive "C1"

# --- M1: Transfer-Encoding other than a final chunked; TE with CL (RFC 9112 §6.1) ---
smuggled='b"GET /smuggled HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"'
for te in xchunked gzip identity "chunked, identity" "chunked;x=1"; do
  expect_probe "M1: POST /health with Transfer-Encoding: $te and a smuggled GET" "400 EOF" \
    "b\"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: $te\r\n\r\n\" + $smuggled"
done
expect_probe "M1: Transfer-Encoding: gzip, chunked (final chunked, unsupported coding)" "501 EOF" \
  "b\"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n\" + $smuggled"
expect_probe "M1: xchunked + Content-Length carrying the smuggled GET" "400 EOF" \
  "b\"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 52\r\n\r\n\" + $smuggled"
expect_probe "M1: Content-Length + chunked" "400 EOF" \
  "b\"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n\" + $smuggled"
expect_probe "M1: Transfer-Encoding in HTTP/1.0" "400 EOF" \
  "b\"POST /health HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n\" + $smuggled"
landing_before=$(count_landing)
expect_probe "M1: POST /v1/ingest with a token and Transfer-Encoding: xchunked" "400 EOF" \
  "b\"POST /v1/ingest?sensor=m1 HTTP/1.1\r\nHost: x\r\n$AUTH\r\nTransfer-Encoding: xchunked\r\n\r\n\" + $smuggled"
landing_after=$(count_landing)
if [[ $landing_after == "$landing_before" ]]; then pass "M1: no empty upload was ingested"
else fail "M1: landing/ went from $landing_before to $landing_after files"; fi
sleep 0.2
if grep -q smuggled "$ACCESS"; then fail "M1: the access log shows a smuggled request: $(grep smuggled "$ACCESS" | head -1)"
else pass "M1: no /smuggled request in the access log ($(wc -l <"$ACCESS") requests logged)"; fi
if grep -q smuggled "$SERVER_LOG"; then fail "M1: the server log mentions /smuggled"
else pass "M1: no /smuggled in the server log"; fi
expect_probe "M1: a plain chunked POST to a read endpoint is still read whole" "405 EOF" \
  'b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"'
alive "M1"

# --- L1: the header limit is on the total ---
# Beast alone bounds each read window: 2,500 headers (23.9 KB) got 200.
expect_probe "L1: 2,500 small headers (23.9 KB) in one write, 16 KiB default" "431 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X%d: b\r\n" % i for i in range(2500)) + b"\r\n"'
expect_probe "L1: 2,500 small headers (23.9 KB) in 8 KB writes" "431 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X%d: b\r\n" % i for i in range(2500)) + b"\r\n"' 5 8192
expect_probe "L1: 3,000 small headers (~32 KB) in 4 KB writes" "431 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-A%d: b\r\n" % i for i in range(3000)) + b"\r\n"' 5 4096
expect_probe "L1: 800 small headers (~9 KB) still pass" "200 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-A%d: b\r\n" % i for i in range(800)) + b"\r\n"'
expect_probe "L1: a 15 KB request line passes, 17 KB does not (same total)" "200 431 EOF" \
  'b"GET /health?p=" + b"a" * 15000 + b" HTTP/1.1\r\nHost: x\r\n\r\nGET /health?p=" + b"a" * 17000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"'
alive "L1"

# --- L2: Host and absolute-form ---
expect_probe "L2: HTTP/1.1 without Host" "400 EOF" 'b"GET /health HTTP/1.1\r\n\r\n"'
expect_probe "L2: HTTP/1.1 with two Host headers" "400 EOF" 'b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"'
expect_probe "L2: HTTP/1.0 without Host is fine" "200 EOF" 'b"GET /health HTTP/1.0\r\n\r\n"'
expect_probe "L2: absolute-form target is served by its path" "200 EOF" \
  'b"GET http://evil.example/health HTTP/1.1\r\nHost: x\r\n\r\n"'
expect_probe "L2: absolute-form to an unknown path" "404 EOF" \
  'b"GET http://evil.example/nope HTTP/1.1\r\nHost: x\r\n\r\n"'
alive "L2"

# --- chunk sizes ---
expect_probe "chunks: valid body to a read endpoint" "200 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"'
expect_probe "chunks: bad hex" "400 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"'
expect_probe "chunks: negative size" "400 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nhello\r\n0\r\n\r\n"'
expect_probe "chunks: 20 hex digits" "400 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 20 + b"\r\nhello\r\n0\r\n\r\n"'
expect_probe "chunks: ffffffffffffffff to a read endpoint" "413 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n" + b"a" * 70000'
expect_probe "chunks: ffffffffffffffff upload" "413 EOF" \
  "b\"POST /v1/ingest?sensor=ch HTTP/1.1\r\nHost: x\r\n$AUTH\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc\""
expect_probe "chunks: size without CRLF, then EOF" "none EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5"'
expect_probe "chunks: a valid chunked upload" "200 EOF" \
  "b\"POST /v1/ingest?sensor=$MARK HTTP/1.1\r\nHost: x\r\n$AUTH\r\nTransfer-Encoding: chunked\r\n\r\n14\r\ndate,temperature,sd\n\r\n14\r\n2024-01-05,10.5,0.2\n\r\n0\r\nX-Trailer: fine\r\n\r\n\""
alive "chunks"

# --- random bytes and mutated requests ---
/usr/bin/python3 - "$PORT" >"$WORK/fuzz.out" 2>&1 <<'PY' || true
import random, socket, sys
port = int(sys.argv[1])
rnd = random.Random(20261204)
base = [b"GET /temp?year=2024&month=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/ingest?sensor=z HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n",
        b"GET /v1/sensors HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"]
junk = [b"\r", b"\n", b"\x00", b":", b" ", b"\xff", b"%", b",", b";", b"chunked", b"\r\n\r\n", b"a" * 5000]
answered = 0
for i in range(300):
    if i % 3 == 0:
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3000)))
    else:
        data = bytearray(rnd.choice(base))
        for _ in range(rnd.randint(1, 6)):
            p = rnd.randrange(len(data) + 1)
            if rnd.random() < 0.5:
                data[p:p] = rnd.choice(junk)
            elif p < len(data):
                data[p] = rnd.getrandbits(8)
        data = bytes(data)
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        if s.recv(64).startswith(b"HTTP/1.1 "):
            answered += 1
        s.close()
    except OSError:
        pass
print("answered", answered, "of 300")
PY
pass "random: $(cat "$WORK/fuzz.out")"
alive "random bytes"

# --- slowloris-lite: 40 clients dribbling a header, bounded by --header-timeout 2 ---
/usr/bin/python3 - "$PORT" >"$WORK/slow.out" 2>&1 <<'PY' || true
import socket, sys, time
port = int(sys.argv[1])
slow = []
for _ in range(40):
    s = socket.create_connection(("127.0.0.1", port), timeout=1)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    slow.append(s)
closed, ok, probes, start = set(), 0, 0, time.time()
while time.time() - start < 4:
    for i, s in enumerate(slow):
        if i in closed:
            continue
        try:
            s.sendall(b"X")
        except OSError:
            closed.add(i)
    p = socket.create_connection(("127.0.0.1", port), timeout=2)
    p.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    probes += 1
    ok += p.recv(64).startswith(b"HTTP/1.1 200")
    p.close()
    time.sleep(0.25)
print("closed", len(closed), "ok", ok, "probes", probes)
PY
read -r _ closed _ ok _ probes <"$WORK/slow.out" || true
if [[ "${closed:-}" == 40 && -n "${ok:-}" && "$ok" == "$probes" ]]; then
  pass "slowloris-lite: all 40 dribblers closed within 4 s, $ok/$probes probes answered 200"
else
  fail "slowloris-lite: $(cat "$WORK/slow.out")"
fi
check_alive "slowloris-lite"

# --- H3 / M6: limits the parser cannot honour and bad numbers are refused at start-up ---
mkdir -p "$WORK/usage-data"
expect_usage "H3: --max-header-bytes 100000" "--max-header-bytes" -- serve --listen 127.0.0.1:0 --max-header-bytes 100000
expect_usage "H3: --max-header-bytes 65537" "--max-header-bytes" -- serve --listen 127.0.0.1:0 --max-header-bytes 65537
expect_usage "H3: AQUASENSE_MAX_HEADER_BYTES=70000" "AQUASENSE_MAX_HEADER_BYTES" AQUASENSE_MAX_HEADER_BYTES=70000 -- serve --listen 127.0.0.1:0
cfg() { echo "$1" >"$WORK/cfg.json"; }
for kv in max_upload:-1 max_connections:-1 max_header_bytes:-1 max_header_bytes:4294967295 threads:1.5 \
  threads:0 header_timeout:-1 idle_timeout:0 drain_timeout:-5 max_connections:1e30 threads:'"4"' watch:'"yes"'; do
  key=${kv%%:*} val=${kv#*:}
  cfg "{\"serve\": {\"$key\": $val}}"
  expect_usage "M6: config serve.$key = $val" "\"$key\"" -- --config "$WORK/cfg.json" serve --listen 127.0.0.1:0
done
for kv in AQUASENSE_MAX_CONNECTIONS=-1 AQUASENSE_MAX_UPLOAD=abc AQUASENSE_MAX_UPLOAD=-1 AQUASENSE_THREADS=0 \
  AQUASENSE_THREADS=99999999999999999999 AQUASENSE_HEADER_TIMEOUT=nan AQUASENSE_BODY_TIMEOUT=-3 \
  AQUASENSE_MAX_HEADER_BYTES=-1; do
  expect_usage "M6: $kv" "${kv%%=*}" "$kv" -- serve --listen 127.0.0.1:0
done
expect_usage "M6: --max-connections -1 (the flag is named)" "--max-connections" -- serve --listen 127.0.0.1:0 --max-connections -1
expect_usage "M6: the flag wins over the variable and is the one named" "--threads" AQUASENSE_THREADS=4 -- serve --listen 127.0.0.1:0 --threads 0
# H3 at the largest accepted limit, set in the config file with other valid
# values (M6: they are accepted): a 65,476-byte header is served, more is 431.
stop_server || true
cfg '{"serve": {"max_header_bytes": 65536, "threads": 1, "max_upload": "1MiB", "drain_timeout": 0}}'
printf '#!/bin/bash\nexec "%s" --config "%s" "$@"\n' "$AQ" "$WORK/cfg.json" >"$WORK/aq-cfg"
chmod +x "$WORK/aq-cfg"
AQ="$WORK/aq-cfg" start_server "$D"
expect_probe "H3: 65,476-byte Cookie under --max-header-bytes 65536" "200 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 65476 + b"\r\n\r\n"'
expect_probe "H3: 70,000-byte Cookie under --max-header-bytes 65536" "431 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 70000 + b"\r\n\r\n"'
expect_probe "H3: 200,000 bytes of headers under --max-header-bytes 65536" "431 EOF" \
  'b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 900) for i in range(220)) + b"\r\n"'
check_alive "H3"
stop_server || true

# --- L7: connections capped by the open-file limit, answered 503 beyond ---
cat >"$WORK/aq-nofile" <<SH
#!/bin/bash
ulimit -n 64
exec "$AQ" "\$@"
SH
chmod +x "$WORK/aq-nofile"
AQ="$WORK/aq-nofile" start_server "$D" --threads 1
if grep -q 'at most 32 connections' "$SERVER_LOG"; then pass "L7: cap logged: $(grep -o 'at most.*' "$SERVER_LOG")"
else fail "L7: no cap in the log: $(cat "$SERVER_LOG")"; fi
/usr/bin/python3 - "$PORT" >"$WORK/nofile.out" 2>&1 <<'PY' || true
import socket, sys, time
port = int(sys.argv[1])
held, got503 = [], 0
for i in range(100):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    held.append(s)
time.sleep(0.5)
for s in held:
    s.setblocking(False)
    try:
        if s.recv(64).startswith(b"HTTP/1.1 503"):
            got503 += 1
    except BlockingIOError:
        pass
print("503", got503)
for s in held:
    s.close()
PY
n503=$(awk '{print $2}' "$WORK/nofile.out")
if [[ "$n503" == 68 ]]; then pass "L7: 100 connections under ulimit -n 64: 32 held, 68 answered 503"
else fail "L7: want 68 answers of 503, got: $(cat "$WORK/nofile.out")"; fi
sleep 0.5
check_alive "L7"
accept_lines=$(grep -c 'accept failed' "$SERVER_LOG" || true)
if ((accept_lines <= 1)); then pass "L7: $accept_lines 'accept failed' line(s) logged"
else fail "L7: 'accept failed' logged $accept_lines times"; fi
stop_server || true

check_store "http" "$D"
check_outside "http"
finish
