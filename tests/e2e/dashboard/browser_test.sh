#!/usr/bin/env bash
# Issue 15: the dashboard in a real browser. Debian's chromium, headless,
# driven by puppeteer-core (npm ci from the committed package-lock.json; no
# browser is downloaded). Exit 77 (CTest: skipped) only when chromium is
# missing: scripts/install-deps.sh installs it. Screenshots go to $SHOTS
# (build/dashboard-screenshots under CTest), for a person to look at.
source "$(dirname "$0")/../http/common.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$CHROMIUM" ]]; then
  echo "SKIP: $CHROMIUM is missing (Debian package chromium; scripts/install-deps.sh installs it)"
  exit 77
fi
command -v node >/dev/null && command -v npm >/dev/null || { echo "FAIL: node and npm are needed" >&2; exit 1; }
# Dependencies exactly as locked; reinstalled only when the lockfile changed.
if ! cmp -s "$HERE/package-lock.json" "$HERE/node_modules/.package-lock.json.ci" 2>/dev/null; then
  (cd "$HERE" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
    { echo "FAIL: npm ci failed" >&2; exit 1; }
  cp "$HERE/package-lock.json" "$HERE/node_modules/.package-lock.json.ci"
fi
SHOTS=${SHOTS:-$HERE/../../../build/dashboard-screenshots}
mkdir -p "$SHOTS"

# Two buoys; buoy-a has a gap (no March 2024); a file with invalid rows gives
# a data-quality alert.
DATA="$WORK/data"
{
  echo "sensor,date,temperature,sd"
  for d in 05 12 19 26; do
    echo "buoy-a,2024-01-$d,1$((10#$d % 7)).25,0.2"
    echo "buoy-a,2024-02-$d,1$((10#$d % 5)).5,0.3"
    echo "buoy-a,2024-04-$d,1$((10#$d % 3)).75,0.6"
    echo "buoy-a,2024-05-${d}T12:00:00,1$((10#$d % 4)).125,0.1"
    echo "buoy-b,2023-11-$d,9.$d,0.1"
    echo "buoy-b,2023-12-$d,8.$d,0.2"
  done
  echo "buoy-b,2023-12-32,8,0.2"
  echo "buoy-b,2023-12-30,99,0.2"
} >"$WORK/start.csv"
"$AQ" --data "$DATA" ingest --quiet "$WORK/start.csv" >/dev/null
"$AQ" --data "$DATA" export --format json >"$WORK/store.json"
printf 'date,temperature,sd\n2024-01-03,7.5,0.1\n2024-01-10,7.25,0.15\n' >"$WORK/new-month.csv"
printf 'date,temperature,sd\n2024-03-03,7.5,0.1\n' >"$WORK/no-token.csv"

TOKEN=dash-$RANDOM$RANDOM
if [[ "${ONLY:-}" != first-render ]]; then
AQUASENSE_TOKEN=$TOKEN start_server "$DATA"
BASE=$BASE TOKEN=$TOKEN SHOTS=$SHOTS STORE_JSON="$WORK/store.json" CHROMIUM=$CHROMIUM \
  NEW_MONTH_CSV="$WORK/new-month.csv" NO_TOKEN_CSV="$WORK/no-token.csv" \
  node "$HERE/dashboard_test.mjs" || FAILS=$((FAILS + 1))
stop_server || true
fi

# First render with 1,000 sensors x 10 years in the store (one reading a
# month). ONLY=main skips it (a quicker loop while editing the page).
[[ "${ONLY:-}" == main ]] && finish && exit 0
BIG="$WORK/big"
python3 - "$WORK/many.csv" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("sensor,date,temperature,sd\n")
    for s in range(1000):
        for y in range(2015, 2025):
            for m in range(1, 13):
                f.write(f"st-{s:04d},{y}-{m:02d}-15,{10 + (s + m) % 9}.5,0.{(s + y) % 5}\n")
EOF
"$AQ" --data "$BIG" ingest --quiet "$WORK/many.csv" >/dev/null 2>&1
start_server "$BIG"
BASE=$BASE SHOTS=$SHOTS CHROMIUM=$CHROMIUM MODE=first-render node "$HERE/dashboard_test.mjs" ||
  FAILS=$((FAILS + 1))
stop_server || true
finish
