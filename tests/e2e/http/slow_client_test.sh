#!/usr/bin/env bash
# Slow clients (issue 3, "Must show" 4): 500 connections that send their
# header one byte per second, plus 100 that connect and send nothing, do not
# stop normal requests from being served promptly; the header and idle
# timeouts close them. Then --max-connections: connections beyond the limit
# get an immediate 503 instead of a hang.
#   Usage: AQ=path/to/aquasense slow_client_test.sh
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
source "$HERE/common.sh"

DATA=$WORK/data
"$AQ" --data "$DATA" ingest --quiet "$ROOT/examples/readings.csv" >/dev/null
start_server "$DATA" --header-timeout 3 --idle-timeout 3

python3 - "$PORT" <<'PY' && pass "normal requests served beside 600 slow / silent connections, which timed out" || fail "slow clients"
import http.client, socket, sys, time
port = int(sys.argv[1])
line = b"GET /temp?year=2024&month=1 HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 64 + b"\r\n\r\n"
slow = []
for _ in range(500):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(False)
    slow.append(s)
silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(100)]
start = time.monotonic()
sent, worst, served, closed = 0, 0.0, 0, set()
while time.monotonic() - start < 6:
    # one more byte on every slow connection, once a second
    if time.monotonic() - start >= sent:
        for i, s in enumerate(slow):
            if i in closed:
                continue
            try:
                s.send(line[sent:sent + 1])
            except OSError:
                closed.add(i)
        sent += 1
    # a normal client, new connection each time, must get its answer quickly
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    c.request("GET", "/temp?year=2024&month=1")
    r = c.getresponse()
    assert r.status == 200, r.status
    r.read()
    c.close()
    worst = max(worst, time.monotonic() - t0)
    served += 1
    time.sleep(0.02)
# after the header timeout (3 s) every slow connection has been closed by the server
for i, s in enumerate(slow):
    try:
        if s.recv(1) == b"":
            closed.add(i)
    except BlockingIOError:
        pass
    except OSError:
        closed.add(i)
silent_closed = 0
for s in silent:
    s.settimeout(0.5)
    try:
        if s.recv(1) == b"":
            silent_closed += 1
    except OSError:
        pass
print("served %d normal requests, slowest %.1f ms; %d/500 slow and %d/100 silent connections closed"
      % (served, worst * 1000, len(closed), silent_closed))
assert served > 50, served
assert worst < 1.0, worst   # well within the 3 s timeout, even on a loaded CI machine
assert len(closed) == 500, len(closed)
assert silent_closed == 100, silent_closed
PY
curl -s "$BASE/metrics" > "$WORK/metrics"
grep -q '^aquasense_http_timeouts_total [1-9][0-9][0-9]' "$WORK/metrics" && pass "timeouts counted in /metrics" || fail "timeouts not counted: $(grep timeouts "$WORK/metrics")"
stop_server || fail "server exit status"

start_server "$DATA" --max-connections 50
python3 - "$PORT" <<'PY' && pass "--max-connections: the 51st connection gets 503" || fail "max connections"
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(50)]
time.sleep(0.2)
extra = socket.create_connection(("127.0.0.1", port), timeout=5)
extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
data = extra.recv(4096)
assert data.startswith(b"HTTP/1.1 503"), data
for s in held: s.close()
time.sleep(0.3)
ok = socket.create_connection(("127.0.0.1", port), timeout=5)
ok.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
assert ok.recv(4096).startswith(b"HTTP/1.1 200")
PY
stop_server || fail "server exit status"
finish
