#!/usr/bin/env bash
# bench/aws: what the cloud path costs, counted by the binary itself (issue 13,
# "Must show" 4). moto on 127.0.0.1 stands in for S3, SQS and DynamoDB.
#   1. requests and bytes per service of ONE weekly file of one sensor
#      (`worker --json`: the per-service counters of src/common/aws/request_stats.h),
#      for a sensor's first file and for a later week, and the fixed cost of a
#      worker run that finds nothing (subtracted in the report);
#   2. files/s with 1 and 3 workers draining a pre-filled queue (moto is the
#      bottleneck: one Python process, every connection closed);
#   3. bench/aws/cost.py turns the counts into dollars (bench/aws/README.md).
# Each worker has its own empty --data: S3 + DynamoDB + SQS hold all shared state.
#   bench/aws/aws_bench.sh [FILES=60] [SENSORS=30]
# META=sqlite runs the tables in SQLite (--data, shared) instead of DynamoDB.
# Outputs: bench/out/aws/*.json, bench/out/aws/results.md. moto and every
# worker are stopped by PID.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
AQ=${AQ:-$ROOT/build/src/cli/aquasense}
FILES=${1:-60}
SENSORS=${2:-30}
META_KIND=${META:-dynamodb}
OUT=${OUT:-$ROOT/bench/out/aws}
WORK=$(mktemp -d)
MOTO_PID=""
declare -a WPIDS=()
mkdir -p "$OUT"
cleanup() {
  for p in "${WPIDS[@]}"; do [[ -n $p ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  if [[ -n $MOTO_PID ]]; then kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
[[ -x $AQ ]] || { echo "no binary at $AQ (build first)"; exit 1; }
python3 -c 'import moto, boto3' || { echo "python3 on PATH lacks moto/boto3"; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$PORT" > "$WORK/moto.log" 2>&1 &
MOTO_PID=$!
for _ in $(seq 600); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  sleep 0.1
done
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_SQS \
  AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_SNS
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export AWS_SHARED_CREDENTIALS_FILE="$WORK/none" AWS_CONFIG_FILE="$WORK/none"
export AWS_EC2_METADATA_DISABLED=true
BUCKET=aq-bench
export AQUASENSE_STORE="s3://$BUCKET/st" AQUASENSE_QUEUE=aq-bench-inbox
if [[ $META_KIND == dynamodb ]]; then export AQUASENSE_META="dynamodb://aq-bench"; fi

# Weekly files: 7 days at a 10-minute cadence (1,008 readings, ~27 KB), the
# week W of sensor S, deterministic.
python3 - "$WORK/files" "$SENSORS" 60 <<'PY'
import os, sys, random, datetime
out, sensors, weeks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
for s in range(sensors):
    rnd = random.Random(s)
    for w in range(weeks // max(1, sensors) + 3):
        start = datetime.datetime(2024, 1, 1) + datetime.timedelta(weeks=w)
        rows = ["date,temperature,sd"]
        for i in range(7 * 144):
            t = start + datetime.timedelta(minutes=10 * i)
            rows.append(f"{t:%Y-%m-%dT%H:%M},{rnd.uniform(8, 22):.2f},{rnd.uniform(0, 0.6):.2f}")
        open(os.path.join(out, f"s{s:03d}-w{w:02d}.csv"), "w").write("\n".join(rows) + "\n")
PY

fresh() { # empties moto, then the bucket, queue (+DLQ, notification) and table again
  # (the table with boto3: setup-aws does not create it in this build yet)
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' "$AWS_ENDPOINT_URL/moto-api/reset"
  rm -rf "$WORK"/data*
  env -u AQUASENSE_META "$AQ" --data "$WORK/data-setup" setup-aws > "$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; exit 1; }
  if [[ $META_KIND == dynamodb ]]; then
    python3 - <<'PY'
import boto3
boto3.client("dynamodb").create_table(
    TableName="aq-bench-meta", BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                          {"AttributeName": "sk", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
               {"AttributeName": "sk", "KeyType": "RANGE"}])
PY
  fi
}
upload() { # upload FILE...: PUT each into inbox/<sensor>/ with boto3 (an independent client)
  python3 - "$@" <<'PY'
import boto3, os, sys
s3 = boto3.client("s3")
for p in sys.argv[1:]:
    name = os.path.basename(p)
    s3.put_object(Bucket="aq-bench", Key=f"st/inbox/{name.split('-')[0]}/{name}",
                  Body=open(p, "rb").read(), ContentType="text/csv")
PY
}
data_dir() { # each worker its own; META=sqlite shares one (the tables live there)
  if [[ $META_KIND == dynamodb ]]; then echo "$WORK/data-w$1"; else echo "$WORK/data-shared"; fi
}
snapshot() { # snapshot NAME: every item of the table with its DynamoDB size (WRU, cost.py)
  [[ $META_KIND == dynamodb ]] || return 0
  python3 "$HERE/items.py" aq-bench-meta > "$OUT/items-$1.json"
}
run_worker() { # run_worker NAME: one worker until the queue is idle, its --json in $OUT/NAME.json
  # and moto's access-log lines of its requests (method + path: the S3 split) in NAME.moto.log
  local before
  before=$(wc -l < "$WORK/moto.log")
  snapshot "before-$1"
  "$AQ" --data "$(data_dir 0)" worker --wait 1 --exit-when-idle --json --quiet > "$OUT/$1.json" \
    2> "$WORK/$1.err" || { cat "$WORK/$1.err"; exit 1; }
  sleep 0.5
  tail -n +$((before + 1)) "$WORK/moto.log" | grep '"[A-Z]* /' > "$OUT/$1.moto.log" || true
  snapshot "after-$1"
}

# 1. One weekly file of one sensor.
echo "{\"file_bytes\": $(stat -c %s "$WORK/files/s000-w00.csv")}" > "$OUT/file.json"
fresh
run_worker idle                                     # fixed cost: start, one empty receive
upload "$WORK/files/s000-w00.csv"; sleep 1
run_worker first_file                               # the sensor's first week
upload "$WORK/files/s000-w01.csv"; sleep 1
run_worker next_file                                # a later week of the same sensor
upload "$WORK/files/s000-w02.csv" "$WORK/files/s000-w03.csv" "$WORK/files/s000-w04.csv" \
  "$WORK/files/s000-w05.csv" "$WORK/files/s000-w06.csv"; sleep 1
run_worker five_files                               # five more weeks, one worker run

# 2. Throughput: FILES files over SENSORS sensors already queued, then W workers.
throughput() { # throughput W
  fresh
  local list=() i
  for ((i = 0; i < FILES; i++)); do
    list+=("$WORK/files/s$(printf %03d $((i % SENSORS)))-w$(printf %02d $((i / SENSORS))).csv")
  done
  upload "${list[@]}"; sleep 1
  WPIDS=()
  local t0 t1
  t0=$(date +%s.%N)
  for ((i = 0; i < $1; i++)); do
    "$AQ" --data "$(data_dir "$i")" worker --wait 1 --exit-when-idle --json --quiet \
      > "$OUT/tp$1-w$i.json" 2> "$WORK/tp$1-w$i.err" &
    WPIDS+=($!)
  done
  for p in "${WPIDS[@]}"; do wait "$p" || { cat "$WORK"/tp*.err; exit 1; }; done
  t1=$(date +%s.%N)
  WPIDS=()
  python3 -c "import json; print(json.dumps({'workers': $1, 'files': $FILES, 'seconds': $t1 - $t0}))" \
    > "$OUT/tp$1.json"
  "$AQ" --data "$(data_dir 0)" export > "$OUT/tp$1-export.csv"
}
throughput 1
throughput 3
cmp -s "$OUT/tp1-export.csv" "$OUT/tp3-export.csv" || { echo "exports of 1 and 3 workers differ"; exit 1; }
uptime > "$OUT/load.txt"
echo "meta=$META_KIND files=$FILES sensors=$SENSORS moto=$(python3 -c 'import moto; print(moto.__version__)')" \
  >> "$OUT/load.txt"
python3 "$HERE/cost.py" "$OUT" | tee "$OUT/results.md"
