#!/usr/bin/env bash
# The local compose cluster (deploy/compose.yaml) in one command each:
#   deploy/demo.sh up      # builds the images if missing, starts moto, setup-aws,
#                          # 2 workers, 3 serve replicas and nginx; waits for /health
#   deploy/demo.sh show    # uploads a file through nginx, PUTs one into the bucket's
#                          # inbox/, shows the monthly metrics as each replica serves them
#   deploy/demo.sh down    # stops everything and drops the volume
# Needs podman + podman-compose (or docker compose), and a python3 with moto
# (MOTO_PYTHON: its prefix; default: the python3 on PATH) and the aws CLI for `show`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/deploy/containers.conf}
export AQUASENSE_TOKEN=${AQUASENSE_TOKEN:-demo-token}
LB=http://127.0.0.1:18080
MOTO=http://127.0.0.1:18500
BUCKET=aquasense-demo

if command -v podman-compose >/dev/null; then compose=(podman-compose -p aquasense -f deploy/compose.yaml)
elif command -v docker >/dev/null; then compose=(docker compose -p aquasense -f deploy/compose.yaml)
else echo "demo: neither podman-compose nor docker compose is installed" >&2; exit 3; fi
engine=podman
command -v podman >/dev/null || engine=docker

if [[ -z ${MOTO_PYTHON:-} ]]; then
  MOTO_PYTHON=$(python3 -c 'import sys, moto; print(sys.prefix)' 2>/dev/null) ||
    { echo "demo: no python3 with moto on PATH: set MOTO_PYTHON" >&2; exit 3; }
fi
export MOTO_PYTHON

# wait_for URL SECONDS: until URL answers 200.
wait_for() {
  local deadline=$((SECONDS + $2))
  until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true) == 200 ]]; do
    ((SECONDS < deadline)) || { echo "demo: $1 did not answer 200 within $2 s" >&2; return 1; }
    sleep 1
  done
}

aws_local() { AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 \
  aws --endpoint-url "$MOTO" "$@"; }

up() {
  for image in aquasense aquasense-nginx aquasense-moto; do
    "$engine" image inspect "$image:latest" >/dev/null 2>&1 || { deploy/build-image.sh --cluster; break; }
  done
  if "$engine" run --rm aquasense:latest setup-aws --help >/dev/null 2>&1; then
    "${compose[@]}" up -d
    wait_for "$MOTO/moto-api/" 60
  else  # a binary from before issue 13: no setup-aws/worker; the bucket from the aws CLI
    echo "demo: this aquasense has no setup-aws/worker: serve replicas + nginx only"
    "${compose[@]}" up -d moto
    wait_for "$MOTO/moto-api/" 60
    aws_local s3api create-bucket --bucket "$BUCKET" >/dev/null
    "${compose[@]}" up -d --no-deps serve1 serve2 serve3 nginx
    "$engine" rm -f -t 0 aquasense_setup-aws_1 >/dev/null 2>&1 || true
  fi
  wait_for "$LB/health" 90
  echo "demo: up: nginx $LB -> serve 127.0.0.1:18081-18083; moto $MOTO"
}

show() {
  echo "== upload examples/readings.csv through nginx (sensor demo-upload)"
  curl -sS --fail-with-body -H "Authorization: Bearer $AQUASENSE_TOKEN" \
    -H 'Content-Type: text/csv' --data-binary @examples/readings.csv \
    "$LB/v1/ingest?sensor=demo-upload&name=readings.csv"
  echo
  echo "== PUT examples/readings_2025q1.csv into s3://$BUCKET/inbox/demo-inbox/ (a worker ingests it)"
  aws_local s3 cp --content-type text/csv examples/readings_2025q1.csv \
    "s3://$BUCKET/inbox/demo-inbox/readings_2025q1.csv"
  for port in 18081 18082 18083; do
    echo "== serve on $port: /v1/sensors, then demo-upload's first months"
    curl -sS "http://127.0.0.1:$port/v1/sensors"
    echo
    curl -sS "http://127.0.0.1:$port/v1/sensors/demo-upload/months" | cut -c1-300
    echo
  done
  echo "== through nginx: /health"
  curl -sS "$LB/health"
  echo
}

down() { "${compose[@]}" down -v; }

case "${1:-}" in
  up) up ;;
  show) show ;;
  down) down ;;
  *) echo "usage: $0 up|show|down" >&2; exit 2 ;;
esac
