#!/usr/bin/env bash
# Consistency (issue 3, "Must show" 2): while clients hammer
# /v1/sensors/c/months, another process (`aquasense ingest`) applies batches
# that each change six months at once. Batch k adds one reading to each of the
# six months, so after it every month has exactly k readings: a response that
# shows months with different counts (or only some of the six) would be a
# half-applied batch. Every response must show each batch wholly or not at all.
#   Usage: AQ=path/to/aquasense consistency_test.sh
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"

DATA=$WORK/data
export BATCHES=20
for k in $(seq 1 $BATCHES); do
  for m in 1 2 3 4 5 6; do printf '2020-%02d-%02d,%d.%d,0.1\n' "$m" "$k" $((10 + k)) "$m"; done > "$WORK/batch$k.csv"
done
start_server "$DATA" --refresh-interval 0.02

python3 - "$PORT" "$WORK/stop" > "$WORK/client.out" 2>&1 <<'PY' &
import http.client, json, os, sys, threading
port, stop = int(sys.argv[1]), sys.argv[2]
errors, seen, counts = [], set(), [0, 0]
lock = threading.Lock()

def hammer(i):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    last = 0
    while True:
        done = os.path.exists(stop)   # read before the request: the last one sees the final state
        conn.request("GET", "/v1/sensors/c/months?from=2020-01&to=2020-12")
        r = conn.getresponse()
        body = r.read()
        counts[i] += 1
        if r.status == 404:
            k = 0
        elif r.status == 200:
            months = json.loads(body)["months"]
            ks = {m["readings"] for m in months}
            if len(months) != 6 or len(ks) != 1:
                errors.append("half-applied batch: %s" % body[:400])
                break
            k = ks.pop()
            # the mean of month m after k batches: readings 11.m .. (10+k).m
            for m in months:
                want = sum(float("%d.%d" % (10 + j, m["month"])) for j in range(1, k + 1)) / k
                if abs(m["mean_temp"] - want) > 1e-9:
                    errors.append("month %d mean %r, want %r after %d batches" % (m["month"], m["mean_temp"], want, k))
        else:
            errors.append("status %d: %s" % (r.status, body[:200]))
            break
        if k < last:
            errors.append("went back from %d to %d batches" % (last, k))
        last = k
        with lock:
            seen.add(k)
        if done:
            if k != int(os.environ.get("BATCHES", "20")):
                errors.append("final state shows %d batches" % k)
            return

ts = [threading.Thread(target=hammer, args=(i,)) for i in range(2)]
for t in ts: t.start()
for t in ts: t.join()
print("responses:", sum(counts), "states seen:", sorted(seen))
if errors:
    print("\n".join(errors[:10]))
    sys.exit(1)
if len(seen) < 4:
    print("too few intermediate states seen to mean anything")
    sys.exit(1)
PY
CLIENT=$!
PIDS+=("$CLIENT")
sleep 0.3
for k in $(seq 1 $BATCHES); do
  "$AQ" --data "$DATA" ingest --quiet --sensor c "$WORK/batch$k.csv" >/dev/null
  sleep 0.05
done
sleep 0.3   # let the snapshot catch up with the last batch
touch "$WORK/stop"
if wait "$CLIENT"; then pass "every response showed whole batches: $(cat "$WORK/client.out")"; else fail "$(cat "$WORK/client.out")"; fi
stop_server || fail "server exit status"
finish
