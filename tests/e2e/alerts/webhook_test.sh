#!/usr/bin/env bash
# Webhook channel against a local receiver: the body, the Idempotency-Key
# and the HMAC-SHA256 signature; filters; and re-ingesting the same file
# sends nothing new (issue 4, items 2 and 5). One alert per file and kind
# (SPEC §6, M7): the file's two sensors above the limit share one alert.
source "$(dirname "$0")/lib.sh"

start_webhook hook
cat > "$WORK/config.json" <<JSON
{"alerts": {"sd_limit": 0.5, "channels": [
  {"type": "log", "path": "$WORK/log.jsonl"},
  {"name": "ops-hook", "type": "webhook", "url": "http://127.0.0.1:$hook_PORT/hook",
   "secret": "s3cret", "timeout_ms": 3000},
  {"name": "s2-hook", "type": "webhook", "url": "http://127.0.0.1:$hook_PORT/s2",
   "kinds": ["deviation"], "sensors": ["s2"]}]}}
JSON
readings "$WORK/readings.csv" 1
aq ingest --quiet "$WORK/readings.csv" > /dev/null
aq alerts deliver --until-empty --max-seconds 20 > "$WORK/deliver.txt"
aq alerts --json > "$WORK/alerts.json"

$PY - "$WORK" <<'PY'
import hashlib, hmac, json, sys
work = sys.argv[1]
reqs = [json.loads(l) for l in open(f"{work}/hook.jsonl")]
alerts = json.load(open(f"{work}/alerts.json"))["alerts"]
assert len(alerts) == 2, alerts
by_key = {a["idempotency_key"]: a for a in alerts}

ops = [r for r in reqs if r["path"] == "/hook"]
s2 = [r for r in reqs if r["path"] == "/s2"]
assert len(ops) == 2, f"ops-hook got {len(ops)} requests"
assert len(s2) == 1, f"s2-hook got {len(s2)} requests"
keys = [r["headers"]["Idempotency-Key"] for r in ops]
assert sorted(keys) == sorted(by_key), (keys, list(by_key))

for r in ops:
    h, raw = r["headers"], r["body"]
    assert h["Content-Type"] == "application/json", h
    want = "sha256=" + hmac.new(b"s3cret", raw.encode(), hashlib.sha256).hexdigest()
    assert h["X-AquaSense-Signature"] == want, (h, want)
    body = json.loads(raw)
    assert body["idempotency_key"] == h["Idempotency-Key"]
    for field in ("id", "kind", "sensor", "file", "counts", "examples", "time"):
        assert field in body, (field, body)
    assert body["file"].endswith("readings.csv"), body
    assert body["time"].endswith("Z") and body["time"][4] == "-", body["time"]
    if body["kind"] == "deviation":
        assert body["sensor"] == "", body  # about two sensors
        assert body["sensors"] == {"count": 2, "first": ["s1", "s2"]}, body
        assert body["counts"] == {"readings_above_limit": 2, "sensors": 2}, body
        assert body["sd_limit"] == 0.5, body
        ex = body["examples"]
        assert len(ex) == 2 and all(e["sd"] > 0.5 for e in ex), ex
        assert ex[0] == {"line": 3, "sensor": "s1", "date": "2024-01-02", "temperature": 13.1, "sd": 0.7}, ex
        assert ex[1]["sensor"] == "s2", ex
    else:
        assert body["kind"] == "data_quality", body
        assert body["counts"]["invalid"] == 2 and body["counts"]["rows"] == 6, body
        assert body["sensors"] == {"count": 2, "first": ["s1", "s2"]}, body
        assert body["counts"]["reasons"] == {"bad_date": 1, "bad_number": 1}, body
        assert [e["line"] for e in body["examples"]] == [6, 7], body["examples"]
        assert {e["reason"] for e in body["examples"]} == {"bad_date", "bad_number"}

r = s2[0]
assert "X-AquaSense-Signature" not in r["headers"], r["headers"]
b = json.loads(r["body"])
assert b["kind"] == "deviation" and "s2" in b["sensors"]["first"], b

# Delivery state per channel.
for a in alerts:
    states = {d["channel"]: d["state"] for d in a["deliveries"]}
    want_s2 = "delivered" if a["kind"] == "deviation" else "skipped"
    assert states == {"log": "delivered", "ops-hook": "delivered", "s2-hook": want_s2}, (a, states)
log = [json.loads(l) for l in open(f"{work}/log.jsonl")]
assert sorted(l["idempotency_key"] for l in log) == sorted(by_key)
print("webhook: body, key, signature, filters ok")
PY

# Item 5: the same bytes again (same name, another name) send nothing new.
cp "$WORK/readings.csv" "$WORK/copy.csv"
aq ingest --json "$WORK/readings.csv" "$WORK/copy.csv" > "$WORK/again.json"
grep -q '"files":0' "$WORK/again.json" || fail "re-ingest was not a no-op: $(cat "$WORK/again.json")"
aq alerts deliver --until-empty --max-seconds 10 > /dev/null
[[ $(wc -l < "$WORK/hook.jsonl") -eq 3 ]] || fail "re-ingest sent something: $(wc -l < "$WORK/hook.jsonl") requests"
[[ $(aq alerts --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["alerts"]))') -eq 2 ]] ||
  fail "re-ingest created alerts"
aq rebuild > /dev/null
aq alerts deliver --until-empty --max-seconds 10 > /dev/null
[[ $(wc -l < "$WORK/hook.jsonl") -eq 3 ]] || fail "rebuild sent alerts again"
echo "webhook: re-ingest and rebuild send nothing new"
