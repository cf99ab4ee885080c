#!/usr/bin/env bash
# shellcheck disable=SC2015  # pass never fails: A && pass || fail is if-then-else here
# Issue 14, the compose cluster (deploy/compose.yaml) under wrk load through
# nginx: 50 files uploaded through the balancer and 50 PUT into the bucket's
# inbox/ (for the workers), one serve replica and one worker killed with
# SIGKILL and restarted meanwhile; >= 99.9% of all requests succeed, every
# replica serves the same sensors, and the cluster's export equals a local
# ingest of the same files. Without the `worker`/`setup-aws` commands in the
# image (before issue 13 lands) it runs what exists: moto, the bucket made with
# the aws CLI, 3 replicas on one shared SQLite, nginx, and the 50 uploads, and
# says loudly what it left out. Slow: tests/deploy/run.sh, not ctest.
set -uo pipefail
source "$(dirname "$0")/containers_lib.sh"
need_podman
command -v podman-compose >/dev/null || skip "podman-compose is not installed (scripts/install-deps.sh --deploy)"
command -v wrk >/dev/null || skip "wrk is not installed"
command -v aws >/dev/null || skip "the aws CLI is not on PATH"
MOTO_PYTHON=$(python3 -c 'import sys, moto; print(sys.prefix)' 2>/dev/null) || skip "no python3 with moto on PATH"
export MOTO_PYTHON AQUASENSE_TOKEN=compose-test-token
LOAD_SECONDS=${COMPOSE_LOAD_SECONDS:-60}
LB=http://127.0.0.1:18080
BUCKET=aquasense-demo
P=aquasense  # the compose project: containers are ${P}_<service>_1
compose=(podman-compose -p "$P" -f "$REPO/deploy/compose.yaml")
WORK=$(mktemp -d)
cleanup() {
  if [[ -z ${KEEP_CLUSTER:-} ]]; then "${compose[@]}" down -v >/dev/null 2>&1; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
aws_local() { AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 \
  aws --endpoint-url http://127.0.0.1:18500 "$@"; }

for image in aquasense aquasense-nginx aquasense-moto; do
  podman image inspect "$image:latest" >/dev/null 2>&1 && continue
  "$REPO/deploy/build-image.sh" --cluster >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log"; fail "build the images"; finish; }
  break
done
full=1
for cmd in setup-aws worker; do
  podman run --rm aquasense:latest "$cmd" --help >/dev/null 2>&1 || full=0
done

# 100 files, one sensor each (cmp-001..cmp-100), two months of weekly readings;
# cmp-000 is uploaded before the load, for wrk to read its months. Everything
# under $WORK/files goes into the store (inbox/ only where workers run).
inbox=$WORK/files/inbox
((full)) || inbox=$WORK/not-sent
for i in $(seq 0 100); do
  s=$(printf 'cmp-%03d' "$i")
  if ((i == 0)); then dir=$WORK/files/seed; elif ((i <= 50)); then dir=$WORK/files/upload; else dir=$inbox/$s; fi
  mkdir -p "$dir"
  awk -v i="$i" 'BEGIN { print "date,temperature,sd";
    for (d = 0; d < 9; d++) printf "2024/%02d/%02d,%.2f,%.2f\n", 1 + int(d / 4) + i % 10, 1 + (d % 4) * 7,
      10 + ((i * 7 + d * 13) % 150) / 10, 0.1 + ((i + d) % 9) / 20 }' >"$dir/$s.csv"
done

"${compose[@]}" down -v >/dev/null 2>&1
if ((full)); then
  "${compose[@]}" up -d >"$WORK/up.log" 2>&1
else
  "${compose[@]}" up -d moto >"$WORK/up.log" 2>&1
  wait_code http://127.0.0.1:18500/moto-api/ 200 60 || { fail "moto did not start"; finish; }
  aws_local s3api create-bucket --bucket "$BUCKET" >/dev/null
  "${compose[@]}" up -d --no-deps serve1 serve2 serve3 nginx >>"$WORK/up.log" 2>&1
  podman rm -f -t 0 "${P}_setup-aws_1" >/dev/null 2>&1  # 1.0.3 starts it anyway: it would loop
fi
if wait_code "$LB/health" 200 120; then pass "the cluster is up: nginx /health 200"
else tail -20 "$WORK/up.log"; podman ps -a; fail "nginx /health did not answer 200"; finish; fi
for port in 18081 18082 18083; do
  wait_code "http://127.0.0.1:$port/health" 200 60 || fail "serve on $port is not healthy"
done

upload() {  # upload FILE: prints the status code
  local s
  s=$(basename "$1" .csv)
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -H "Authorization: Bearer $AQUASENSE_TOKEN" \
    -H 'Content-Type: text/csv' --data-binary "@$1" "$LB/v1/ingest?sensor=$s&name=$s.csv"
}
seed=$(upload "$WORK/files/seed/cmp-000.csv")
[[ $seed == 200 ]] && pass "upload through nginx (before the load)" || fail "the first upload answered $seed"
# SPEC §9: an upload to one replica is visible on every replica within a second.
t0=$(date +%s%N)
for port in 18081 18082 18083; do
  wait_code "http://127.0.0.1:$port/v1/sensors/cmp-000/months" 200 5 || fail "cmp-000 not on serve $port after 5 s"
done
ms=$((($(date +%s%N) - t0) / 1000000))
((ms <= 1000)) && pass "the upload is visible on all 3 replicas after ${ms} ms (<= 1 s)" ||
  fail "the upload took ${ms} ms to reach all 3 replicas (> 1 s)"

# The load: wrk on the read endpoints: the sensors, /health, one sensor's months.
cat >"$WORK/load.lua" <<'LUA'
local paths = {"/v1/sensors", "/health", "/v1/sensors/cmp-000/months"}
local n = 0
request = function() n = n + 1; return wrk.format("GET", paths[n % #paths + 1]) end
-- Which statuses failed: counted per thread, summed in done().
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) codes = {} end
function response(status, headers, body)
  if status >= 300 then codes[status] = (codes[status] or 0) + 1 end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for code, count in pairs(t:get("codes")) do io.write("status ", code, ": ", count, "\n") end
  end
end
LUA
wrk -t2 -c16 -d"${LOAD_SECONDS}s" --timeout 10s -s "$WORK/load.lua" "$LB" >"$WORK/wrk.txt" 2>&1 &
wrk_pid=$!
sleep 3

# 50 uploads through the balancer, while a replica is killed and restarted.
upload_ok=0 upload_total=0
(
  for f in "$WORK"/files/upload/*.csv; do
    upload "$f"
    sleep 0.2
  done >"$WORK/uploads.txt"
) &
uploads_pid=$!
if ((full)); then
  aws_local s3 cp --recursive --content-type text/csv --quiet "$WORK/files/inbox/" "s3://$BUCKET/inbox/" ||
    fail "PUT 50 files into s3://$BUCKET/inbox/"
fi
sleep 2
podman kill -s KILL "${P}_serve2_1" >/dev/null && pass "kill -9 serve2 under load" || fail "kill -9 serve2"
((full)) && { podman kill -s KILL "${P}_worker1_1" >/dev/null && pass "kill -9 worker1" || fail "kill -9 worker1"; }
sleep 3
podman start "${P}_serve2_1" >/dev/null 2>&1  # restart: unless-stopped may have done it already
((full)) && podman start "${P}_worker1_1" >/dev/null 2>&1
wait_code http://127.0.0.1:18082/health 200 60 && pass "serve2 restarted and healthy" || fail "serve2 not back"
if ((full)); then
  [[ $(podman inspect --format '{{.State.Running}}' "${P}_worker1_1") == true ]] &&
    pass "worker1 restarted" || fail "worker1 not running again"
fi
wait "$uploads_pid"
wait "$wrk_pid"

upload_total=$(wc -l <"$WORK/uploads.txt")
upload_ok=$(grep -c '^200$' "$WORK/uploads.txt")
((upload_total == 50 && upload_ok == 50)) && pass "50/50 uploads through nginx answered 200" ||
  fail "uploads: $upload_ok of $upload_total answered 200: $(sort "$WORK/uploads.txt" | uniq -c | tr '\n' ' ')"
cat "$WORK/wrk.txt"
reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
non2xx=$(awk -F': ' '/Non-2xx/ {print $2}' "$WORK/wrk.txt")
sockerr=$(awk '/Socket errors/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' "$WORK/wrk.txt")
total=$((${reqs:-0} + upload_total))
bad=$((${non2xx:-0} + ${sockerr:-0} + upload_total - upload_ok))
if ((total > 1000 && bad * 1000 <= total)); then
  pass "$((total - bad)) of $total requests succeeded (>= 99.9%; $bad failed) with serve2 killed"
else
  fail "$bad of $total requests failed (> 0.1%)"
fi

# Every file reaches the store once: the replicas agree, and export == a local ingest.
want=51
((full)) && want=101
# sensors_within URL SECONDS: polls URL's /v1/sensors until it lists $want
# sensors or SECONDS pass; prints the last count.
sensors_within() {
  local deadline=$((SECONDS + $2)) n
  while :; do
    n=$(curl -s "$1/v1/sensors" | grep -o '"cmp-[0-9]*"' | sort -u | wc -l)
    ((n >= want || SECONDS > deadline)) && break
    sleep 0.2
  done
  echo "$n"
}
n=$(sensors_within "$LB" 180)
((n == want)) && pass "all $want sensors in the store" || fail "$n of $want sensors in the store"
# The balancer's answer came from one replica; the others poll the store every
# 0.75 s (kCloudRefreshInterval), so each gets a few seconds to catch up before
# it counts as disagreeing (a single sample raced a replica's next poll in CI).
t0=$(date +%s%N)
for port in 18081 18082 18083; do
  m=$(sensors_within "http://127.0.0.1:$port" 10)
  ms=$((($(date +%s%N) - t0) / 1000000))
  ((m == want)) && pass "serve on $port lists $want sensors (${ms} ms after the balancer did)" ||
    fail "serve on $port lists $m sensors, not $want, ${ms} ms after the balancer listed them"
done
cluster=$(podman exec "${P}_serve1_1" aquasense export)
local_export=$(podman run --rm --entrypoint /bin/busybox -v "$WORK/files:/in:ro" aquasense:latest sh -c \
  'for f in $(find /in -name "*.csv" | sort); do s=$(basename $f .csv)
     aquasense --data /tmp/d ingest --quiet --sensor $s $f >/dev/null || exit 1; done
   aquasense --data /tmp/d export')
if [[ -n $cluster && $cluster == "$local_export" ]]; then
  pass "the cluster's export equals a local ingest of the same files ($(wc -l <<<"$cluster") lines)"
else
  fail "export differs from a local ingest: $(diff <(echo "$cluster") <(echo "$local_export") | head -6)"
fi
if ((!full)); then
  skip_msg="the image has no 'worker'/'setup-aws' yet (issue 13): NOT tested: setup-aws, the 2 workers, the 50 inbox/ PUTs, kill -9 of a worker, the DynamoDB table store"
  printf '\n!!! PARTIAL %s: %s\n\n' "$(basename "$0")" "$skip_msg"
fi
finish
