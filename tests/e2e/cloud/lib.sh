#!/usr/bin/env bash
# Shared by the cloud e2e scripts (tests/e2e/cloud/*_test.sh): moto's server
# on 127.0.0.1 (start, wait, reset, stop by PID), the AWS variables a test
# sets (nothing of the developer's leaks in), pass/fail counting, and the
# local ingest in arrival order the cloud results are compared with.
#   source "$(dirname "$0")/lib.sh"; moto_start; aws_test_env AWS_ENDPOINT_URL
# Sets HERE, ROOT, AQ (default build/src/cli/aquasense), WORK (a temporary
# directory, kept when KEEP is set), FAILS. Every background process a test
# starts goes into PIDS (or WPIDS / RPIDS for workers and replicas, indexed
# so that one can be restarted); the EXIT trap stops them, then moto.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
AQ=${AQ:-$ROOT/build/src/cli/aquasense}
WORK=$(mktemp -d)
MOTO_PID=""
MOTO_PORT=""
FAILS=0
declare -a PIDS=() WPIDS=() RPIDS=()

cloud_cleanup() {
  local p _
  for p in "${WPIDS[@]}" "${RPIDS[@]}" "${PIDS[@]}"; do [[ -n $p ]] && kill "$p" 2>/dev/null; done
  for p in "${WPIDS[@]}" "${RPIDS[@]}" "${PIDS[@]}"; do [[ -n $p ]] && wait "$p" 2>/dev/null; done
  if [[ -n $MOTO_PID ]]; then  # moto may take a minute to exit after a big run: 5 s, then -9
    kill "$MOTO_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$MOTO_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$MOTO_PID" 2>/dev/null
    wait "$MOTO_PID" 2>/dev/null
  fi
  if [[ -n ${KEEP:-} ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cloud_cleanup EXIT
trap 'exit 143' TERM INT  # a CI timeout still stops every process

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; FAILS=$((FAILS + 1)); }
check() { # check NAME CMD...: passes when CMD succeeds
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts moto's server on a free port (MOTO_PORT, MOTO_PID, log WORK/moto.log)
# and waits up to 60 s for it; exits the test with a FAIL line when python3
# on PATH lacks moto/boto3 or moto does not come up.
moto_start() {
  python3 -c 'import moto, boto3' 2>/dev/null || {
    echo "FAIL: python3 on PATH lacks moto/boto3 (pip install 'moto[server]' boto3)"
    exit 1
  }
  MOTO_PORT=$(free_port)
  python3 -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" > "$WORK/moto.log" 2>&1 &
  MOTO_PID=$!
  local _
  for _ in $(seq 600); do
    curl -s -o /dev/null "http://127.0.0.1:$MOTO_PORT/" && return 0
    kill -0 "$MOTO_PID" 2>/dev/null || { echo "FAIL: moto exited"; cat "$WORK/moto.log"; exit 1; }
    sleep 0.1
  done
  echo "FAIL: moto did not answer on 127.0.0.1:$MOTO_PORT within 60 s"
  exit 1
}

# Forgets every bucket, queue and table (moto's own API).
moto_reset() {
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    "http://127.0.0.1:$MOTO_PORT/moto-api/reset"
}

# Only what the test sets: fixed credentials and region, no profiles, shared
# files or instance metadata, and moto's URL in the endpoint variable named
# (AWS_ENDPOINT_URL for every service, or e.g. AWS_ENDPOINT_URL_S3 alone).
aws_test_env() { # aws_test_env ENDPOINT_VARIABLE
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 \
    AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_SNS
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1
  export AWS_DEFAULT_REGION=eu-west-1 AWS_SHARED_CREDENTIALS_FILE="$WORK/none"
  export AWS_CONFIG_FILE="$WORK/none" AWS_EC2_METADATA_DISABLED=true
  export "$1=http://127.0.0.1:$MOTO_PORT"
}

# Waits until QUEUE has no message (visible or in flight) and its DLQ holds at
# least MIN_DLQ, printing progress every 15 s. Gives up after DEADLINE_S
# seconds, or when the number left has not gone down for STALL_S (default
# 240) seconds: slow progress on a loaded machine is waited for, a stuck
# queue is not. Prints the outcome; returns 1 when it gave up.
wait_queue_drained() { # wait_queue_drained QUEUE DLQ MIN_DLQ DEADLINE_S [STALL_S]
  python3 - "$@" <<'PY'
import boto3, sys, time
queue, dlq, min_dlq, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
stall = float(sys.argv[5]) if len(sys.argv) > 5 else 240
sqs = boto3.client("sqs")
q = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
d = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
t0 = shown = moved = time.time()
best = None
while True:
    a = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=names)["Attributes"]
    b = sqs.get_queue_attributes(QueueUrl=d, AttributeNames=names)["Attributes"]
    left = [int(a[n]) for n in names]
    dead = int(b["ApproximateNumberOfMessages"])
    now = time.time()
    if sum(left) == 0 and dead >= min_dlq:
        print(f"drained after {now - t0:.0f} s")
        break
    if best is None or sum(left) < best:
        best, moved = sum(left), now
    why = "deadline" if now - t0 > limit else "no progress for %.0f s" % stall if now - moved > stall else ""
    if why:
        print(f"not drained after {now - t0:.0f} s ({why}): {left[0]} visible, "
              f"{left[1]} in flight, dlq {dead}")
        sys.exit(1)
    if now - shown >= 15:
        shown = now
        print(f"  drain: {now - t0:.0f} s, {left[0]} visible, {left[1]} in flight", flush=True)
    time.sleep(1)
PY
}

# The reference: the files of LIST (lines "sensor<TAB>key<TAB>path", in the
# order they reached the bucket) ingested one by one into the local data
# directory DIR, with no cloud URL or config of the test; then DIR's export
# in OUT. Prints a line per file that failed; returns 1 if any did.
local_ingest_in_order() { # local_ingest_in_order LIST DIR OUT
  local sensor key path bad=0
  while IFS=$'\t' read -r sensor key path; do
    env -u AQUASENSE_STORE -u AQUASENSE_META -u AQUASENSE_QUEUE -u AQUASENSE_CONFIG \
      "$AQ" --data "$2" ingest --quiet --sensor "$sensor" "$path" > /dev/null 2>&1 ||
      { echo "local ingest of $path ($key) failed"; bad=1; }
  done < "$1"
  env -u AQUASENSE_STORE -u AQUASENSE_META -u AQUASENSE_QUEUE -u AQUASENSE_CONFIG \
    "$AQ" --data "$2" export > "$3"
  return $bad
}

# The test's last line and exit status.
finish() {
  echo "$FAILS failure(s)"
  [[ $FAILS == 0 ]]
}
