#!/usr/bin/env bash
# Every command unchanged on the cloud URLs, on a stateless host (issue 13
# §3 "every other command", SPEC §9): `ingest` from local files, `export`,
# `months`, `readings`, `rebuild`, `alerts` and `alerts deliver` with
# --store s3://... --meta dynamodb://... and NO --data, run from a directory
# without ./aquasense-data: each gives what the same command gives on a
# local data directory, and none creates a data directory or an
# outbox.lock (the hosts share no directory; ClaimDelivery's conditional
# write is what keeps an alert from being sent twice). moto runs on
# 127.0.0.1 and is stopped by its PID. Needs python3 with moto and boto3 on
# PATH: without them the test fails, saying so.
#   AQ=build/src/cli/aquasense tests/e2e/cloud/commands_test.sh
source "$(cd "$(dirname "$0")" && pwd)/lib.sh" || exit 1
AQ=$(realpath "$AQ")
moto_start
aws_test_env AWS_ENDPOINT_URL
unset AQUASENSE_DATA AQUASENSE_STORE AQUASENSE_META AQUASENSE_QUEUE
STORE="s3://aq-cmd/site"
META="dynamodb://aq-cmd"
# setup-aws makes the bucket and the table (no queue: none is needed here).
"$AQ" --store "$STORE" --meta "$META" setup-aws --meta "$META" > "$WORK/setup.out" 2>&1 ||
  { echo "FAIL: setup-aws"; cat "$WORK/setup.out"; exit 1; }

F=$ROOT/tests/fixtures/sensors
mkdir -p "$WORK/host"  # the stateless host's working directory: no aquasense-data
local_run() { "$AQ" --data "$WORK/local" "$@"; }
cloud_run() { (cd "$WORK/host" && "$AQ" --store "$STORE" --meta "$META" "$@"); }
run_both() { # the same command on a local data directory and on the cloud URLs
  local_run "$@" > "$WORK/out.local" 2> "$WORK/err.local"; echo $? > "$WORK/rc.local"
  cloud_run "$@" > "$WORK/out.cloud" 2> "$WORK/err.cloud"; echo $? > "$WORK/rc.cloud"
}
same() { # same [FILTER]: equal outputs (after FILTER) and exit codes, and exit 0
  local filter=${1:-cat}
  [[ $(cat "$WORK/rc.cloud") == 0 && $(cat "$WORK/rc.local") == 0 ]] &&
    [[ "$($filter < "$WORK/out.local")" == "$($filter < "$WORK/out.cloud")" ]] ||
    { diff <($filter < "$WORK/out.local") <($filter < "$WORK/out.cloud") | head -5; cat "$WORK/err.cloud"; return 1; }
}
no_seconds() { sed -E 's/"seconds":[0-9.e-]+//'; }
# What an alert list says that does not depend on the store's ids or clock.
alert_facts() {
  python3 -c '
import json, sys
for a in json.load(sys.stdin)["alerts"]:
    print(a["kind"], a["sensor"], a["file_sha256"], a["counts"],
          sorted((d["channel"], d["state"]) for d in a.get("deliveries", [])))' | sort
}
stateless() { # nothing under the host's directory: no data dir, no lock file
  [[ -z $(ls -A "$WORK/host") ]] || { ls -AR "$WORK/host" | head; return 1; }
}

run_both ingest --quiet --json "$F/multi.csv" "$F/hdr.csv"
check "N1: ingest of local files with no --data gives the local summary" same no_seconds
check "N1: ingest on the cloud URLs creates no ./aquasense-data (nor an outbox.lock)" stateless
run_both ingest --quiet --json --sensor buoy-1 "$F/plain.csv"
check "N2: a second ingest (another default sensor) gives the local summary" same no_seconds
for fmt in csv json; do
  run_both export --format "$fmt"
  check "N3: export --format $fmt with no --data is byte-identical to the local one" same
done
run_both months --sensor buoy-1
check "N4: months with no --data reads the same metrics" same
SENSOR=$(head -2 "$F/multi.csv" | tail -1 | cut -d, -f1)
run_both readings --sensor "$SENSOR"
check "N5: readings with no --data gives the same readings" same
run_both alerts --json
check "N6: alerts with no --data lists the same alerts and deliveries" same alert_facts
run_both alerts deliver --json
check "N7: alerts deliver with no --data runs (no lock file under a missing --data)" same
check "N7: alerts deliver leaves the host's directory empty" stateless
run_both rebuild --json
check "N8: rebuild with no --data gives the local summary" same no_seconds
run_both export
check "N9: export after rebuild is still byte-identical" same
check "N10: after every command the stateless host has no data directory" stateless

# A read on the cloud URLs with a --data that does not exist is not an error
# either (the directory holds nothing of the cloud store).
(cd "$WORK/host" && "$AQ" --data "$WORK/missing" --store "$STORE" --meta "$META" export) \
  > "$WORK/out.missing" 2> "$WORK/err.missing"
check "N11: export with a --data that does not exist reads the cloud store" \
  cmp -s "$WORK/out.missing" "$WORK/out.local"
# Only --store on S3 (tables in SQLite) still needs the directory: a typo is an error.
(cd "$WORK/host" && "$AQ" --data "$WORK/missing" --store "$STORE" export) > /dev/null 2> "$WORK/err.half"
check "N12: --store s3:// without --meta keeps SQLite in --data: a missing one is exit 1" test $? -eq 1

finish
