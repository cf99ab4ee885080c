#!/usr/bin/env bash
# The real binary with its objects on S3 and its tables on DynamoDB (moto;
# issue 13 §1-2, SPEC §9): `ingest`, `export`, `months` and `rebuild` on
# --store s3://BUCKET/PREFIX --meta dynamodb://PREFIX give byte for byte what
# the same commands give on a local directory, and a boto3 client reading
# the metrics items (docs/aws.md, "DynamoDB items") finds what `export`
# prints. moto runs on 127.0.0.1 and is stopped by its PID. Needs python3
# with moto and boto3 on PATH: without them the test fails, saying so.
#   AQ=build/src/cli/aquasense tests/e2e/cloud/dynamo_test.sh
source "$(cd "$(dirname "$0")" && pwd)/lib.sh" || exit 1
moto_start
aws_test_env AWS_ENDPOINT_URL
BUCKET=aq-e2e
STORE="s3://$BUCKET/station/eu"
PREFIX=aq-e2e
META="dynamodb://$PREFIX"
# The bucket, and the table as docs/aws.md describes it (setup-aws makes
# both in production; here an independent client does).
python3 - "$AWS_ENDPOINT_URL" "$BUCKET" "$PREFIX-meta" <<'PY'
import sys, boto3
endpoint, bucket, table = sys.argv[1:]
boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1").create_bucket(
    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1").create_table(
    TableName=table, BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                          {"AttributeName": "sk", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
               {"AttributeName": "sk", "KeyType": "RANGE"}])
PY

F=$ROOT/tests/fixtures/sensors
# 2 sensors x 11 years of daily readings: 131 months each, so each
# sensor's first commit (263 items) spans three DynamoDB transactions.
python3 - "$WORK/long.csv" <<'PY'
import datetime, sys
start = datetime.date(1990, 1, 1)
with open(sys.argv[1], "w") as f:
    f.write("sensor,date,temperature,sd\n")
    for i in range(8000):
        d = start + datetime.timedelta(days=i // 2)
        f.write(f"long-{i % 2},{d:%Y/%m/%d},{10 + (i * 7919 % 1000) / 100:.2f},0.{i % 6}\n")
PY
run_both() { # the same command on the local pair and on S3 + DynamoDB
  "$AQ" --data "$WORK/local" "$@" > "$WORK/out.local" 2> "$WORK/err.local"
  echo $? > "$WORK/rc.local"
  mkdir -p "$WORK/cloud"
  "$AQ" --data "$WORK/cloud" --store "$STORE" --meta "$META" "$@" > "$WORK/out.cloud" 2> "$WORK/err.cloud"
  echo $? > "$WORK/rc.cloud"
}
same_output() {
  cmp -s "$WORK/out.local" "$WORK/out.cloud" && cmp -s "$WORK/rc.local" "$WORK/rc.cloud" ||
    { diff "$WORK/out.local" "$WORK/out.cloud" | head -5; cat "$WORK/err.cloud"; return 1; }
}
strip_seconds() { sed -E 's/"seconds":[0-9.e-]+//' "$1"; }
same_summary() {
  [[ $(cat "$WORK/rc.cloud") == 0 ]] && [[ "$(strip_seconds "$WORK/out.local")" == "$(strip_seconds "$WORK/out.cloud")" ]] ||
    { cat "$WORK/out.local" "$WORK/out.cloud" "$WORK/err.cloud"; return 1; }
}

run_both ingest --quiet --json "$F/multi.csv" "$F/hdr.csv"
check "D1: ingest with --meta dynamodb:// gives the local summary" same_summary
run_both ingest --quiet --json --sensor buoy-1 "$F/plain.csv"
check "D2: second batch (another sensor) on DynamoDB gives the local summary" same_summary
run_both ingest --quiet --json "$WORK/long.csv"
check "D3: 2 sensors x 131 months (multi-transaction sensor commits) give the local summary" same_summary
run_both ingest --quiet --json "$F/multi.csv"
check "D4: re-ingesting the same bytes is a no-op on DynamoDB too (the ledger item)" \
  grep -q already_ingested "$WORK/out.cloud"
for fmt in csv json; do
  run_both export --format "$fmt"
  check "D5: export --format $fmt is byte-identical to the local one" same_output
done
run_both months --sensor buoy-1
check "D6: months reads the same metrics" same_output

# boto3 reads the metrics items as docs/aws.md describes them and checks
# them against `export`.
run_both export --format csv
python3 - "$AWS_ENDPOINT_URL" "$PREFIX-meta" "$WORK/out.cloud" > "$WORK/boto3.txt" 2>&1 <<'PY'
import csv, sys, boto3
from boto3.dynamodb.conditions import Key
endpoint, table_name, export = sys.argv[1:]
table = boto3.resource("dynamodb", endpoint_url=endpoint, region_name="eu-west-1").Table(table_name)
def query(**kw):
    items, start = [], {}
    while True:
        page = table.query(ConsistentRead=True, **kw, **start)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
sensors = [i["sk"] for i in query(KeyConditionExpression=Key("pk").eq("sensors")) if i.get("metrics") == 1]
got = []
for s in sensors:
    for i in query(KeyConditionExpression=Key("pk").eq("S#" + s) & Key("sk").begins_with("M#")):
        diff = i.get("max_temp_diff")
        got.append((s, int(i["year"]), int(i["month"]), float(i["mean_temp"]), float(i["max_temp"]),
                    float(i["max_sd"]), None if diff is None else float(diff), int(i["readings"])))
want = []
with open(export) as f:
    for r in csv.DictReader(f):
        want.append((r["sensor"], int(r["year"]), int(r["month"]), float(r["mean_temp"]),
                     float(r["max_temp"]), float(r["max_sd"]),
                     None if r["max_temp_diff"] == "" else float(r["max_temp_diff"]), int(r["readings"])))
assert got == want, [x for x in zip(got, want) if x[0] != x[1]][:3] or (len(got), len(want))
print(f"{len(got)} metrics items equal export")
PY
check "D7: boto3 reads the metrics items and finds exactly what export prints" \
  grep -q "metrics items equal export" "$WORK/boto3.txt" || cat "$WORK/boto3.txt"

run_both rebuild --json
check "D8: rebuild (ResetDerived item by item) gives the local summary" same_summary
run_both export
check "D9: export after rebuild is still byte-identical" same_output

AQUASENSE_META="$META" AQUASENSE_STORE="$STORE" "$AQ" --data "$WORK/cloud" export > "$WORK/out.env"
check "D10: AQUASENSE_META + AQUASENSE_STORE reach the same table" cmp -s "$WORK/out.env" "$WORK/out.local"

# Failures: one line on stderr and the SPEC §7 exit codes.
"$AQ" --data "$WORK/cloud" --store "$STORE" --meta "mysql://x" export > /dev/null 2> "$WORK/err"
check "D11: an unsupported --meta scheme is a usage error (exit 1)" test $? -eq 1
"$AQ" --data "$WORK/cloud" --store "$STORE" --meta "dynamodb://no-such" export > /dev/null 2> "$WORK/err"
rc=$?
check "D12: a table that does not exist: exit 3, one line naming it" \
  test "$rc" -eq 3 -a "$(wc -l < "$WORK/err")" -eq 1
grep -q "no-such-meta" "$WORK/err" || { fail "D12: the message names the table"; cat "$WORK/err"; }

finish
