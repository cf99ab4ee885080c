# Shared by the bench/http scripts; source it once PY is set.
#   bench_scratch NAME   WORK = a new scratch directory, PIDS = (); on exit the
#                        servers in PIDS are stopped by PID and WORK removed
#                        (kept with KEEP=1)
#   free_port            a free TCP port on 127.0.0.1
#   wait_http URL [N]    waits until URL answers, N tries 50 ms apart (200)
#   start_nginx_static FILE [WORKERS [LINES]]
#                        a new nginx (WORKERS worker processes, default 1; LINES:
#                        more lines for its server block) serving FILE as a
#                        static file; waits for it, checks it sends FILE's bytes
#                        and sets NGX_PORT and NGX_URL (FILE's URL); its PID
#                        goes into PIDS

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
start_nginx_static() {
  local file=$1 workers=${2:-1} lines=${3:-} name
  name=$(basename "$file")
  NGX=$WORK/nginx
  mkdir -p "$NGX/www" "$NGX/tmp"
  chmod 755 "$WORK" "$NGX" "$NGX/www"  # nginx workers may run as another user
  cp "$file" "$NGX/www/$name"
  chmod 644 "$NGX/www/$name"
  NGX_PORT=$(free_port)
  cat >"$NGX/nginx.conf" <<NGINX
worker_processes $workers;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  open_file_cache max=100 inactive=60s;
  client_body_temp_path $NGX/tmp/body;
  proxy_temp_path $NGX/tmp/proxy;
  fastcgi_temp_path $NGX/tmp/fastcgi;
  uwsgi_temp_path $NGX/tmp/uwsgi;
  scgi_temp_path $NGX/tmp/scgi;
  server {
    listen 127.0.0.1:$NGX_PORT;
    root $NGX/www;
    $lines
  }
}
NGINX
  nginx -p "$NGX" -c "$NGX/nginx.conf" 2>"$NGX/stderr.log" &
  PIDS+=("$!")
  NGX_URL="http://127.0.0.1:$NGX_PORT/$name"
  wait_http "$NGX_URL" || return 1
  cmp -s <(curl -s "$NGX_URL") "$file" || { echo "nginx body differs" >&2; return 1; }
}
