#!/usr/bin/env bash
# SNS channel against a local receiver that checks each request against the
# AWS API reference: Publish form fields and a SigV4 Authorization header it
# recomputes (issue 4, item 3). Credentials from the environment (with a
# session token), then from a shared credentials file profile.
source "$(dirname "$0")/lib.sh"

# No credentials unless a step gives them (a developer's own must not leak in).
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
export AWS_SHARED_CREDENTIALS_FILE="$WORK/none"
ARN=arn:aws:sns:eu-west-1:123456789012:SD_LIMIT
rm -f "$WORK/sns.port"
$PY "$HERE/receivers.py" sns --port-file "$WORK/sns.port" --out "$WORK/sns.jsonl" \
  --access-key AKIDAQUASENSETEST --secret-key "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" \
  --topic-arn "$ARN" --region eu-west-1 &
PIDS+=($!)
wait_file "$WORK/sns.port"
PORT=$(cat "$WORK/sns.port")

cat > "$WORK/config.json" <<JSON
{"alerts": {"log": false, "channels": [
  {"name": "sns", "type": "sns", "topic_arn": "$ARN", "endpoint": "http://127.0.0.1:$PORT/",
   "profile": "aquasense"}]}}
JSON
# The profile only matters when the environment has no keys.
cat > "$WORK/credentials" <<'INI'
[default]
aws_access_key_id = WRONG
aws_secret_access_key = WRONG
[aquasense]
aws_access_key_id = AKIDAQUASENSETEST
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
INI

readings "$WORK/a.csv" 1
readings "$WORK/b.csv" 2
aq ingest --quiet "$WORK/a.csv" > /dev/null
env AWS_ACCESS_KEY_ID=AKIDAQUASENSETEST AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" \
  AWS_SESSION_TOKEN=session-token-1 \
  "$AQ" --data "$WORK/data" --config "$WORK/config.json" alerts deliver --until-empty --max-seconds 20 > /dev/null
aq ingest --quiet "$WORK/b.csv" > /dev/null
env AWS_SHARED_CREDENTIALS_FILE="$WORK/credentials" \
  "$AQ" --data "$WORK/data" --config "$WORK/config.json" alerts deliver --until-empty --max-seconds 20 > /dev/null
aq alerts --json > "$WORK/alerts.json"

$PY - "$WORK" "$ARN" <<'PY'
import json, sys, urllib.parse
work, arn = sys.argv[1], sys.argv[2]
reqs = [json.loads(l) for l in open(f"{work}/sns.jsonl")]
assert len(reqs) == 4, f"{len(reqs)} SNS requests"  # one per file and kind (M7)
for i, r in enumerate(reqs):
    assert r["problems"] == [], r["problems"]
    h = r["headers"]
    assert h["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDAQUASENSETEST/"), h
    assert "/eu-west-1/sns/aws4_request, SignedHeaders=" in h["Authorization"], h
    token = h.get("X-Amz-Security-Token")
    assert token == ("session-token-1" if i < 2 else None), (i, token)
    form = urllib.parse.parse_qs(r["body"], strict_parsing=True)
    assert form["Action"] == ["Publish"] and form["Version"] == ["2010-03-31"], form
    assert form["TopicArn"] == [arn], form
    assert form["Subject"][0].startswith("[AquaSense] "), form
    assert "AquaSense alert: " in form["Message"][0], form
subjects = sorted(urllib.parse.parse_qs(r["body"])["Subject"][0] for r in reqs)
assert subjects[0].startswith("[AquaSense] data quality: 2 of 6 rows invalid in a.csv"), subjects
assert "[AquaSense] deviation: 2 sensors (s1, s2), 2 readings with sd > 0.5 in b.csv" in subjects, subjects
alerts = json.load(open(f"{work}/alerts.json"))["alerts"]
assert len(alerts) == 4 and all(d["state"] == "delivered" for a in alerts for d in a["deliveries"])
print("sns: Publish form fields and SigV4 signatures ok (env and shared-file credentials)")
PY

# Without credentials the delivery stays pending with a clear error.
readings "$WORK/c.csv" 3
aq ingest --quiet "$WORK/c.csv" > /dev/null
HOME="$WORK" "$AQ" --data "$WORK/data" --config "$WORK/config.json" alerts deliver --max-seconds 5 > /dev/null
aq alerts > "$WORK/list.txt"
# (The SDK chain of src/common/aws names the channel's profile that no file defines.)
grep -Eq "pending .*(no AWS credentials|AWS_PROFILE=aquasense: no such profile)" "$WORK/list.txt" || fail "expected a pending delivery: $(cat "$WORK/list.txt")"
echo "sns: missing credentials leave the alert pending"
