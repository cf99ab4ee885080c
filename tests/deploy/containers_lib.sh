# shellcheck shell=bash
# Shared helpers of the container tests (image_test.sh, compose_test.sh), sourced.
#   skip REASON          # exit 77 with a loud banner (tests/deploy/run.sh counts it)
#   pass / fail WHAT     # one check's outcome; finish: exit 1 when any failed
#   need_podman          # skips unless podman (with deploy/containers.conf) can run
#   http_code URL        # the status code of a GET ('000' when nothing answered)
#   wait_code URL CODE S # waits up to S seconds for URL to answer CODE
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$REPO/deploy/containers.conf}
FAILS=0

skip() {
  printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
  printf '!!! SKIPPED %s: %s\n' "$(basename "$0")" "$1"
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n'
  exit 77
}
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; FAILS=$((FAILS + 1)); }
finish() {
  if ((FAILS > 0)); then echo "$(basename "$0"): $FAILS check(s) failed"; exit 1; fi
  echo "$(basename "$0"): all checks passed"
}
need_podman() {
  command -v podman >/dev/null || skip "podman is not installed (scripts/install-deps.sh --deploy)"
  podman info >/dev/null 2>&1 || skip "podman cannot run here: $(podman info 2>&1 | tail -1)"
}
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }
wait_code() {
  local deadline=$((SECONDS + $3))
  while [[ $(http_code "$1") != "$2" ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}
