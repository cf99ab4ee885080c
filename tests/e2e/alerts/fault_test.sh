#!/usr/bin/env bash
# At-least-once delivery through the outbox (issue 4, item 4):
#  A. the webhook receiver is down during several ingests, then comes up:
#     every alert arrives, exactly once per idempotency key, and the log
#     channel was not held up meanwhile;
#  B. the sender is killed with -9 mid-delivery, several times: every alert
#     still arrives; a key may repeat only for a send cut off by a kill;
#  C. three senders at once (the outbox lock): every alert exactly once.
source "$(dirname "$0")/lib.sh"

FILES=5  # 2 alerts each: one deviation (s1 and s2), one data quality (M7)

write_config() {  # write_config PORT
  cat > "$WORK/config.json" <<JSON
{"alerts": {"retry": {"initial_ms": 200, "max_ms": 1000}, "channels": [
  {"type": "log", "path": "$WORK/log.jsonl"},
  {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:$1/hook", "secret": "k",
   "timeout_ms": 2000}]}}
JSON
}

# check_keys OUT_JSONL MAX_DUPLICATES: every alert's key arrived; duplicates bounded.
check_keys() {
  aq alerts --json --limit 1000 > "$WORK/alerts.json"
  $PY - "$1" "$2" "$WORK/alerts.json" "$FILES" <<'PY'
import collections, json, sys
out, max_dups, alerts_file, files = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
alerts = json.load(open(alerts_file))["alerts"]
want = {a["idempotency_key"] for a in alerts}
assert len(want) == 2 * files, f"{len(want)} alerts, expected {2 * files}"
reqs = [json.loads(l) for l in open(out)]
ok = [r for r in reqs if r["status"] == 200]
seen = collections.Counter(r["headers"]["Idempotency-Key"] for r in ok)
assert set(seen) == want, f"missing {want - set(seen)}, unexpected {set(seen) - want}"
dups = sum(n - 1 for n in seen.values())
assert dups <= max_dups, f"{dups} duplicate deliveries (allowed {max_dups}): {seen}"
bodies = collections.defaultdict(set)
for r in ok:
    bodies[r["headers"]["Idempotency-Key"]].add(r["body"])
assert all(len(b) == 1 for b in bodies.values()), "a repeated key carried another body"
for a in alerts:
    st = {d["channel"]: d["state"] for d in a["deliveries"]}
    assert st == {"log": "delivered", "hook": "delivered"}, (a["id"], st)
print(f"{len(seen)} alerts arrived, {dups} repeated key(s)")
PY
}

# --- A: receiver down, then up ------------------------------------------------
PORT=$(free_port)
write_config "$PORT"
for i in $(seq 1 $FILES); do
  readings "$WORK/r$i.csv" "$i"
  aq ingest --quiet "$WORK/r$i.csv" > /dev/null
  aq alerts deliver --max-seconds 3 > /dev/null  # the webhook fails, the log does not
done
aq alerts --json --limit 1000 > "$WORK/down.json"
$PY - "$WORK/down.json" "$FILES" <<'PY'
import json, sys
alerts = json.load(open(sys.argv[1]))["alerts"]
assert len(alerts) == 2 * int(sys.argv[2]), len(alerts)
tried = 0
for a in alerts:
    st = {d["channel"]: d for d in a["deliveries"]}
    assert st["log"]["state"] == "delivered", st
    hook = st["hook"]
    assert hook["state"] == "pending", st
    # L8: a row never tried shows no error; a tried one its own (M4: no path).
    assert bool(hook["last_error"]) == (hook["attempts"] > 0), st
    assert "/hook" not in hook["last_error"], hook
    tried += hook["attempts"] > 0
assert tried > 0, alerts
print("while the webhook is down: log delivered, webhook pending with its error")
PY
[[ $(wc -l < "$WORK/log.jsonl") -eq $((2 * FILES)) ]] || fail "log channel: $(wc -l < "$WORK/log.jsonl") lines"

start_webhook hook --port "$PORT"
aq alerts deliver --until-empty --max-seconds 30 > "$WORK/deliver.txt"
check_keys "$WORK/hook.jsonl" 0
aq alerts deliver --until-empty --max-seconds 5 > /dev/null
check_keys "$WORK/hook.jsonl" 0  # nothing acknowledged is sent again
echo "A: receiver down then up: every alert exactly once"

# --- B: kill -9 of the sender mid-delivery --------------------------------------
# (The receiver comes up only after the ingests, so that no ingest delivers.)
rm -rf "$WORK/data"
PORT=$(free_port)
write_config "$PORT"
for i in $(seq 1 $FILES); do aq ingest --quiet "$WORK/r$i.csv" > /dev/null; done
start_webhook slow --port "$PORT" --delay 0.25  # a quarter second per request: room to kill mid-send
KILLS=0
for delay in 1.5 1.2 1.0; do
  "$AQ" --data "$WORK/data" --config "$WORK/config.json" \
    alerts deliver --until-empty --max-seconds 30 > /dev/null 2>&1 &
  pid=$!  # the sender itself, not a subshell
  sleep "$delay"
  if kill -9 "$pid" 2> /dev/null; then KILLS=$((KILLS + 1)); fi
  wait "$pid" 2> /dev/null || true
done
[[ $KILLS -gt 0 ]] || fail "the sender finished before any kill"
aq alerts deliver --until-empty --max-seconds 40 > "$WORK/deliver2.txt"
grep -q "still pending 0" "$WORK/deliver2.txt" || fail "still pending: $(cat "$WORK/deliver2.txt")"
check_keys "$WORK/slow.jsonl" "$KILLS"
echo "B: $KILLS kill -9 mid-delivery: every alert arrived"

# --- C: concurrent senders ------------------------------------------------------
rm -rf "$WORK/data"
PORT=$(free_port)
write_config "$PORT"
for i in $(seq 1 $FILES); do aq ingest --quiet "$WORK/r$i.csv" > /dev/null; done
start_webhook busy --port "$PORT" --delay 0.05
SENDERS=()
for n in 1 2 3; do
  "$AQ" --data "$WORK/data" --config "$WORK/config.json" \
    alerts deliver --until-empty --max-seconds 30 > /dev/null &
  SENDERS+=($!)
done
for pid in "${SENDERS[@]}"; do wait "$pid" || fail "a concurrent sender failed"; done
check_keys "$WORK/busy.jsonl" 0
echo "C: three concurrent senders: every alert exactly once"
