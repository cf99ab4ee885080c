# Shared by the bench/http scripts; source it once PY is set.
#   bench_scratch NAME   WORK = a new scratch directory, PIDS = (); on exit the
#                        servers in PIDS are stopped by PID and WORK removed
#                        (kept with KEEP=1)
#   free_port            a free TCP port on 127.0.0.1
#   wait_http URL [N]    waits until URL answers, N tries 50 ms apart (200)

bench_scratch() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/aq-$1.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.3
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [[ -n "${KEEP:-}" ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
  for _ in $(seq 1 "${2:-200}"); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "no answer from $1" >&2; return 1
}
