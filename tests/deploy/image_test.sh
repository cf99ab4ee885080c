#!/usr/bin/env bash
# shellcheck disable=SC2015  # pass never fails: A && pass || fail is if-then-else here
# Issue 14, the image: deploy/build-image.sh builds aquasense:latest from a
# clean checkout (the tracked and new files of this tree, no build folder);
# the image is under 30 MB, runs as a non-root user, serves /health 200 (also
# on a read-only root filesystem), its HEALTHCHECK passes, and an ingest inside
# it exports what the same ingest gives outside. Slow (a container build):
# part of tests/deploy/run.sh, not of ctest.
set -uo pipefail
source "$(dirname "$0")/containers_lib.sh"
need_podman
TAG=${AQUASENSE_IMAGE:-aquasense:latest}
PORT=${IMAGE_TEST_PORT:-18090}
WORK=$(mktemp -d)
CTR=aquasense-image-test-$$
VOL=aquasense-image-test-$$
cleanup() {
  podman rm -f -t 0 "$CTR" "$CTR-ro" >/dev/null 2>&1
  podman volume rm -f "$VOL" "$VOL-ro" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# A clean checkout: what git tracks or would track, without ignored files.
mkdir -p "$WORK/src"
git -C "$REPO" ls-files -z --cached --others --exclude-standard |
  (cd "$REPO" && xargs -0 tar -cf - --no-recursion) | tar -C "$WORK/src" -xf - ||
  { fail "copy a clean checkout"; finish; }
start=$SECONDS
if TAG=$TAG "$WORK/src/deploy/build-image.sh" >"$WORK/build.log" 2>&1; then
  pass "the image builds from a clean checkout in $((SECONDS - start)) s"
else
  tail -30 "$WORK/build.log"
  fail "the image builds from a clean checkout"
  finish
fi
grep '^build-image:' "$WORK/build.log"

bytes=$(podman image inspect --format '{{.Size}}' "$TAG")
if ((bytes < 30000000)); then pass "image size $((bytes / 1000)) kB < 30 MB"
else fail "image size $bytes bytes >= 30 MB"; fi

user=$(podman image inspect --format '{{.Config.User}}' "$TAG")
[[ $user == 10001:10001 ]] && pass "USER is 10001:10001" || fail "USER is '$user'"
entry=$(podman image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$TAG")
[[ $entry == '["/usr/bin/aquasense"] ["serve"]' ]] && pass "ENTRYPOINT aquasense, CMD serve" ||
  fail "entrypoint/cmd: $entry"
hc=$(podman image inspect --format '{{json .Config.Healthcheck}}' "$TAG")
[[ $hc == *"/health"* ]] && pass "HEALTHCHECK probes /health" || fail "healthcheck: $hc"
version=$(podman run --rm "$TAG" --version 2>/dev/null)
[[ $version == "aquasense "* ]] && pass "the command is aquasense ($version)" ||
  fail "--version: $version"

# serve, as the image starts it by default (only the port moved: host network).
podman volume create "$VOL" >/dev/null
podman run -d --name "$CTR" --network host -v "$VOL:/data" \
  -e AQUASENSE_LISTEN=127.0.0.1:"$PORT" "$TAG" >/dev/null
if wait_code "http://127.0.0.1:$PORT/health" 200 30; then
  body=$(curl -s "http://127.0.0.1:$PORT/health")
  [[ $body == *'"status":"ok"'* ]] && pass "/health 200 $body" || fail "/health body: $body"
else
  fail "/health did not answer 200: $(podman logs "$CTR" 2>&1 | tail -3)"
fi
uid=$(podman exec "$CTR" /bin/busybox id -u)
[[ $uid == 10001 ]] && pass "id -u inside is 10001" || fail "id -u inside: '$uid'"
puser=$(podman top "$CTR" huser | tail -n +2 | sort -u | tr -d ' ')
[[ $puser == 10001 ]] && pass "serve runs as host uid 10001 (podman top)" || fail "podman top huser: '$puser'"
podman healthcheck run "$CTR" >/dev/null 2>&1 && pass "podman healthcheck run: healthy" ||
  fail "podman healthcheck run failed"
podman rm -f -t 0 "$CTR" >/dev/null

# The same on a read-only root filesystem (deploy/k8s runs it so): only /data is written.
podman run -d --name "$CTR-ro" --read-only --network host -v "$VOL-ro:/data" \
  -e AQUASENSE_LISTEN=127.0.0.1:"$PORT" "$TAG" >/dev/null
wait_code "http://127.0.0.1:$PORT/health" 200 30 && pass "read-only root filesystem: /health 200" ||
  fail "read-only root filesystem: $(podman logs "$CTR-ro" 2>&1 | tail -3)"
podman rm -f -t 0 "$CTR-ro" >/dev/null

# An ingest inside the image exports exactly what the same ingest gives on the host.
inside=$(podman run --rm --entrypoint /bin/busybox -v "$REPO/examples:/in:ro" "$TAG" sh -c \
  'aquasense --data /tmp/d ingest --quiet --sensor ex /in/readings.csv >/dev/null && aquasense --data /tmp/d export')
host_bin=${AQ:-$REPO/build/src/cli/aquasense}
if [[ -x $host_bin ]]; then
  "$host_bin" --data "$WORK/d" ingest --quiet --sensor ex "$REPO/examples/readings.csv" >/dev/null
  outside=$("$host_bin" --data "$WORK/d" export)
  [[ -n $inside && $inside == "$outside" ]] && pass "export inside == export on the host ($(wc -l <<<"$inside") lines)" ||
    fail "export inside differs from the host's: $(diff <(echo "$inside") <(echo "$outside") | head -5)"
else
  [[ $(wc -l <<<"$inside") -gt 10 ]] && pass "ingest + export inside the image ($(wc -l <<<"$inside") lines)" ||
    fail "export inside: $inside"
fi
finish
