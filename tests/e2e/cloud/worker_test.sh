#!/usr/bin/env bash
# `aquasense setup-aws` and `aquasense worker` on moto (issue 13 §3, SPEC §9):
# files PUT into inbox/ by an independent client (boto3), 3 workers sharing
# one local --data (SQLite tables) and the S3 store, one of them killed -9
# and restarted mid-run. Checks (named after the behaviour they guard):
#   W1 setup-aws is idempotent and sets the redrive policy (DLQ, 5 receives)
#   W2 every message is consumed (queue empty) and the poison file's is in the DLQ
#   W3 export is byte-identical to a local ingest of the same files in arrival order
#      (exact duplicates, a multipart upload's two events, redeliveries: counted once;
#      a conflict: the file that reached the bucket first wins)
#   W4 the poison file raised exactly one data-quality alert
#   W5 SIGTERM: every worker exits 0
#   W6 the inbox keeps only the poison file; landing/ has the ingested bytes
# moto runs on 127.0.0.1 and is stopped by its PID, as every worker is.
#   AQ=build/src/cli/aquasense tests/e2e/cloud/worker_test.sh
source "$(cd "$(dirname "$0")" && pwd)/lib.sh" || exit 1
moto_start
moto_reset
aws_test_env AWS_ENDPOINT_URL
STORE="s3://aq-worker/station"
QUEUE=aq-inbox
export AQUASENSE_STORE=$STORE AQUASENSE_QUEUE=$QUEUE

# W1: twice, the same result; the redrive policy and the notification as named.
"$AQ" --data "$WORK/meta" setup-aws > "$WORK/setup1.txt" 2>&1; rc1=$?
"$AQ" --data "$WORK/meta" setup-aws > "$WORK/setup2.txt" 2>&1; rc2=$?
if [[ $rc1 == 0 && $rc2 == 0 ]] && python3 - <<'PY'
import boto3, json
sqs, s3 = boto3.client("sqs"), boto3.client("s3")
url = sqs.get_queue_url(QueueName="aq-inbox")["QueueUrl"]
a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
r = json.loads(a["RedrivePolicy"])
assert r["deadLetterTargetArn"].endswith(":aq-inbox-dlq") and int(r["maxReceiveCount"]) == 5, r
assert "s3.amazonaws.com" in a["Policy"], a["Policy"]
n = s3.get_bucket_notification_configuration(Bucket="aq-worker")["QueueConfigurations"]
assert len(n) == 1 and n[0]["QueueArn"].endswith(":aq-inbox"), n
rules = n[0]["Filter"]["Key"]["FilterRules"]
assert rules == [{"Name": "Prefix", "Value": "station/inbox/"}] or \
       rules == [{"Name": "prefix", "Value": "station/inbox/"}], rules
loc = s3.get_bucket_location(Bucket="aq-worker")["LocationConstraint"]
assert loc == "eu-west-1", loc
PY
then pass "W1: setup-aws twice: rc 0, redrive to aq-inbox-dlq after 5, inbox/ notification, bucket in eu-west-1"
else fail "W1: setup-aws idempotent ($rc1 $rc2)"; cat "$WORK/setup1.txt" "$WORK/setup2.txt"; fi

# The files, and the order in which they reach the bucket (arrival.txt:
# sensor <TAB> path). Per sensor, keys sort in upload order too, since S3's
# LastModified has one-second resolution (ties go by key, docs/aws.md).
mkdir -p "$WORK/files"
python3 - "$WORK/files" <<'PY'
import random, sys, os
out = sys.argv[1]
rnd = random.Random(13)
arrival = []
def write(name, text):
    p = os.path.join(out, name)
    open(p, "w").write(text)
    return p
for s in range(10):
    sensor = f"s{s:02d}"
    for f in range(3):
        rows = ["date,temperature,sd"]
        for d in range(1, 15):
            rows.append(f"2024/{f * 4 + 1:02d}/{d:02d},{rnd.uniform(5, 25):.2f},{rnd.uniform(0, 0.8):.2f}")
        arrival.append((sensor, f"f{f}.csv", write(f"{sensor}-f{f}.csv", "\n".join(rows) + "\n")))
# Exact duplicates: the same bytes again under another key of the same sensor.
arrival.append(("s00", "f3-dup.csv", arrival[0][2]))
arrival.append(("s05", "f3-dup.csv", arrival[15][2]))
# A conflict: same days, other values; the earlier upload must win.
early = "date,temperature,sd\n2024/06/01,10.00,0.1\n2024/06/02,11.00,0.1\n"
late = "date,temperature,sd\n2024/06/01,20.00,0.1\n2024/06/02,21.00,0.1\n2024/06/03,22.00,0.1\n"
arrival.append(("s07", "g1-early.csv", write("s07-early.csv", early)))
arrival.append(("s07", "g2-late.csv", write("s07-late.csv", late)))
# Over 5 MiB, uploaded in parts: S3 announces it twice.
rows = ["date,temperature,sd"] + [f"2023-{m:02d}-{d:02d}T{h:02d}:{mi:02d},{10 + (m * d + h + mi) % 7}.5,0.2"
        for m in range(1, 13) for d in range(1, 29) for h in range(24) for mi in range(0, 60, 3)]
arrival.append(("s09", "h-big.csv", write("s09-big.csv", "\n".join(rows) + "\n")))
with open(os.path.join(out, "arrival.txt"), "w") as f:
    for sensor, key, path in arrival:
        f.write(f"{sensor}\t{key}\t{path}\n")
write("poison.csv", "date,temperature,sd\n2024/01/01,10,0.1\n")
PY

start_worker() { # start_worker I: worker I in the background (its PID in WPIDS[I])
  "$AQ" --data "$WORK/meta" worker --wait 1 --visibility-timeout 10 --retry-delay 1 --json \
    > "$WORK/worker$1.$2.out" 2> "$WORK/worker$1.$2.err" &
  WPIDS[$1]=$!
}
for i in 0 1 2; do start_worker $i 0; done

# The independent client: boto3, in arrival order, the poison file in the middle.
python3 - "$WORK/files" > "$WORK/upload.log" 2>&1 <<'PY' &
import boto3, sys, os, time
from boto3.s3.transfer import TransferConfig
s3 = boto3.client("s3")
lines = [l.rstrip("\n").split("\t") for l in open(os.path.join(sys.argv[1], "arrival.txt"))]
cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
for i, (sensor, key, path) in enumerate(lines):
    if i == len(lines) // 2:
        s3.put_object(Bucket="aq-worker", Key="station/inbox/bad sensor!/p.csv",
                      Body=open(os.path.join(sys.argv[1], "poison.csv"), "rb").read(),
                      ContentType="text/csv")
    k = f"station/inbox/{sensor}/{key}"
    if os.path.getsize(path) > (5 << 20):
        s3.upload_file(path, "aq-worker", k, Config=cfg, ExtraArgs={"ContentType": "text/csv"})
    else:
        s3.put_object(Bucket="aq-worker", Key=k, Body=open(path, "rb").read(), ContentType="text/csv")
    if key.startswith("g1"):
        time.sleep(1.1)  # the conflict's two files a second apart
print("uploaded", len(lines) + 1)
PY
UPLOADER=$!

# kill -9 a worker mid-run, three times, and restart it.
for round in 1 2 3; do
  sleep 2
  kill -9 "${WPIDS[1]}" 2>/dev/null; wait "${WPIDS[1]}" 2>/dev/null
  start_worker 1 "$round"
done
wait "$UPLOADER" || { fail "upload"; cat "$WORK/upload.log"; }

# W2: wait until the queue is empty and the poison message sits in the DLQ.
if wait_queue_drained aq-inbox aq-inbox-dlq 1 240 && python3 - <<'PY'
import boto3
sqs = boto3.client("sqs")
d = sqs.get_queue_url(QueueName="aq-inbox-dlq")["QueueUrl"]
m = sqs.receive_message(QueueUrl=d, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
assert len(m) == 1, m
assert "bad+sensor%21%2Fp.csv" in m[0]["Body"] or "bad%20sensor%21%2Fp.csv" in m[0]["Body"], m[0]["Body"]
PY
then pass "W2: every message consumed; the poison file's message is the one in aq-inbox-dlq"
else fail "W2: queue drained, poison in the DLQ"; tail -5 "$WORK"/worker*.err; fi

# W5: SIGTERM; each worker exits 0 (a long poll is 1 s here).
ok=1
for i in 0 1 2; do
  kill -TERM "${WPIDS[$i]}"
  wait "${WPIDS[$i]}"; rc=$?
  WPIDS[$i]=""
  [[ $rc == 0 ]] || { ok=0; echo "worker $i rc=$rc"; }
done
[[ $ok == 1 ]] && pass "W5: SIGTERM: the three workers (one restarted 3 times after kill -9) exit 0" \
  || fail "W5: SIGTERM exit codes"

# W3: the same files ingested locally, one by one, in arrival order.
local_ingest_in_order "$WORK/files/arrival.txt" "$WORK/local" "$WORK/local.csv" ||
  fail "W3: local ingest"
"$AQ" --data "$WORK/meta" export > "$WORK/cloud.csv"
if cmp -s "$WORK/local.csv" "$WORK/cloud.csv" && [[ $(wc -l < "$WORK/local.csv") -gt 30 ]] &&
   grep -q '^s07,2024,6,14.333' "$WORK/cloud.csv"; then
  pass "W3: export is byte-identical to a local ingest in arrival order ($(wc -l < "$WORK/cloud.csv") lines; s07's early file won the conflict)"
else
  fail "W3: export differs from the local ingest"; diff "$WORK/local.csv" "$WORK/cloud.csv" | head -20
fi

# W4: one data-quality alert for the poison file, raised once by any worker.
"$AQ" --data "$WORK/meta" alerts --json > "$WORK/alerts.json"
if python3 - "$WORK/alerts.json" <<'PY'
import json, sys
alerts = json.load(open(sys.argv[1]))["alerts"]
dead = [a for a in alerts if a["kind"] == "data_quality" and a["file"] == "inbox/bad sensor!/p.csv"]
assert len(dead) == 1, (len(dead), alerts[:3])
PY
then pass "W4: the poison file raised exactly one data-quality alert"
else fail "W4: one dead-letter alert"; head -c 2000 "$WORK/alerts.json"; fi

# W6: the inbox keeps only the poison file; landing/ holds each distinct file once.
if python3 - <<'PY'
import boto3
s3 = boto3.client("s3")
def keys(p):
    return [o["Key"] for o in s3.list_objects_v2(Bucket="aq-worker", Prefix=p).get("Contents", [])]
inbox = keys("station/inbox/")
assert inbox == ["station/inbox/bad sensor!/p.csv"], inbox
landing = keys("station/landing/")
assert len(landing) == 10 * 3 + 3, (len(landing), landing)  # duplicates kept once
PY
then pass "W6: inbox/ keeps only the poison file; landing/ has the 33 distinct files"
else fail "W6: inbox and landing contents"; fi

cat "$WORK"/worker*.out > "$WORK/summaries"
python3 - "$WORK/summaries" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
tot = {k: sum(x[k] for x in s) for k in ("messages", "files_ingested", "files_already_ingested",
                                        "files_gone", "failures", "dead_lettered")}
print("worker summaries (killed workers print none):", tot)
PY
finish
