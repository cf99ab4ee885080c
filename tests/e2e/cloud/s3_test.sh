#!/usr/bin/env bash
# The real binary with its objects on S3 (moto) and its tables in a local
# SQLite file (issue 13 §2): `ingest`, `export`, `months` and `rebuild` on
# --store s3://BUCKET/PREFIX give byte for byte what the same commands give
# on a local directory, and the objects in the bucket are the local files.
# moto runs on 127.0.0.1 and is stopped by its PID. Needs python3 with moto
# and boto3 on PATH: without them the test fails, saying so.
#   AQ=build/src/cli/aquasense tests/e2e/cloud/s3_test.sh
source "$(cd "$(dirname "$0")" && pwd)/lib.sh" || exit 1
moto_start
aws_test_env AWS_ENDPOINT_URL_S3
BUCKET=aq-e2e
STORE="s3://$BUCKET/station/eu"
python3 - "$AWS_ENDPOINT_URL_S3" "$BUCKET" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="eu-west-1")
s3.create_bucket(Bucket=sys.argv[2], CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
PY

F=$ROOT/tests/fixtures/sensors
# A file over the 8 MiB part size: its landing copy is a multipart upload.
python3 - "$WORK/big.csv" <<'PY'
import datetime, sys
start = datetime.date(1990, 1, 1)
with open(sys.argv[1], "w") as f:
    f.write("sensor,date,temperature,sd\n")
    for i in range(400000):
        d = start + datetime.timedelta(days=i // 20)
        f.write(f"big-{i % 20},{d:%Y/%m/%d},{10 + (i * 7919 % 1000) / 100:.2f},0.{i % 6}\n")
PY
run_both() { # the same command on the local pair and on S3 + local SQLite
  "$AQ" --data "$WORK/local" "$@" > "$WORK/out.local" 2> "$WORK/err.local"
  echo $? > "$WORK/rc.local"
  "$AQ" --data "$WORK/meta" --store "$STORE" "$@" > "$WORK/out.s3" 2> "$WORK/err.s3"
  echo $? > "$WORK/rc.s3"
}
same_output() {
  cmp -s "$WORK/out.local" "$WORK/out.s3" && cmp -s "$WORK/rc.local" "$WORK/rc.s3" ||
    { diff "$WORK/out.local" "$WORK/out.s3" | head -5; cat "$WORK/err.s3"; return 1; }
}
strip_seconds() { sed -E 's/"seconds":[0-9.e-]+//' "$1"; }
same_summary() {
  [[ $(cat "$WORK/rc.s3") == 0 ]] && [[ "$(strip_seconds "$WORK/out.local")" == "$(strip_seconds "$WORK/out.s3")" ]] ||
    { cat "$WORK/out.local" "$WORK/out.s3" "$WORK/err.s3"; return 1; }
}

run_both ingest --quiet --json "$F/multi.csv" "$F/hdr.csv"
check "S1: ingest with --store s3:// gives the local summary" same_summary
run_both ingest --quiet --json --sensor buoy-1 "$F/plain.csv"
check "S2: second batch (another sensor) on S3 gives the local summary" same_summary
run_both ingest --quiet --json "$WORK/big.csv"
check "S3: an 11 MB file (multipart landing copy) gives the local summary" same_summary
run_both ingest --quiet --json "$F/multi.csv"
check "S4: re-ingesting the same bytes is a no-op on S3 too" \
  grep -q already_ingested "$WORK/out.s3"
for fmt in csv json; do
  run_both export --format "$fmt"
  check "S5: export --format $fmt is byte-identical to the local one" same_output
done
run_both months --sensor buoy-1
check "S6: months reads the same table" same_output

# The objects in the bucket are the local files, byte for byte, under the
# prefix; nothing is left under .tmp/ and no multipart upload is pending.
python3 - "$AWS_ENDPOINT_URL_S3" "$BUCKET" "station/eu/" "$WORK/local" > "$WORK/objects.txt" 2>&1 <<'PY'
import os, sys, boto3
endpoint, bucket, prefix, local = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
remote = {}
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
    for o in page.get("Contents", []):
        assert o["Key"].startswith(prefix), o["Key"]
        remote[o["Key"][len(prefix):]] = o["Key"]
files = {}
for d, _, names in os.walk(local):
    for n in names:
        rel = os.path.relpath(os.path.join(d, n), local)
        if not rel.startswith((".tmp", "aquasense.db", "outbox")):
            files[rel] = os.path.join(d, n)
assert not [k for k in remote if k.startswith(".tmp/")], "temp objects left"
assert set(remote) == set(files), (sorted(set(remote) ^ set(files)))[:10]
for rel, path in files.items():
    body = s3.get_object(Bucket=bucket, Key=remote[rel])["Body"].read()
    assert body == open(path, "rb").read(), rel
assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"), "multipart uploads left"
print(f"{len(files)} objects identical")
PY
check "S7: every object on S3 equals its local file; no temp object or open upload left" \
  grep -q "objects identical" "$WORK/objects.txt" || cat "$WORK/objects.txt"

run_both rebuild --json
check "S8: rebuild from landing/ on S3 gives the local summary" same_summary
run_both export
check "S9: export after rebuild is still byte-identical" same_output

# AQUASENSE_STORE and a shared-credentials profile instead of flags and keys.
printf '[e2e]\naws_access_key_id = testing\naws_secret_access_key = testing\n' > "$WORK/credentials"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=e2e AWS_SHARED_CREDENTIALS_FILE="$WORK/credentials" \
  AQUASENSE_STORE="$STORE" "$AQ" --data "$WORK/meta" export > "$WORK/out.env"
check "S10: AQUASENSE_STORE + AWS_PROFILE from the shared file reach the same bucket" \
  cmp -s "$WORK/out.env" "$WORK/out.local"

# Failures: one sentence on stderr and the SPEC §7 exit codes.
"$AQ" --data "$WORK/meta" --store "s3://Bad_Bucket" export > /dev/null 2> "$WORK/err"
check "S11: an invalid bucket name is a usage error (exit 1)" test $? -eq 1
AWS_ENDPOINT_URL_S3=http://127.0.0.1:1 AWS_MAX_ATTEMPTS=2 \
  "$AQ" --data "$WORK/meta2" --store "$STORE" ingest --quiet "$F/hdr.csv" > /dev/null 2> "$WORK/err"
rc=$?
check "S12: S3 unreachable: ingest exits 3 with one line on stderr" \
  test "$rc" -eq 3 -a "$(wc -l < "$WORK/err")" -eq 1
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=nobody \
  "$AQ" --data "$WORK/meta3" --store "$STORE" ingest --quiet "$F/hdr.csv" > /dev/null 2> "$WORK/err"
check "S13: AWS_PROFILE naming no profile is reported, not ignored" grep -q "nobody" "$WORK/err"

finish
