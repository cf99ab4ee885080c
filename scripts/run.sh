#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds,
# ingests the bundled sample data into ./aquasense-data, prints the monthly
# metrics, then serves them on 127.0.0.1:8080 (Ctrl-C to stop).
#   scripts/run.sh            # NO_SERVE=1 to stop after printing the metrics
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DAQUASENSE_WERROR=OFF
BIN=build/src/cli/aquasense
DATA=${AQUASENSE_DATA:-./aquasense-data}

echo "== ingest examples/ into $DATA"
"$BIN" ingest --data "$DATA" --sensor default examples/readings.csv examples/readings_2025q1.csv
echo "== monthly metrics (also in analysis/monthly/<sensor>.csv)"
"$BIN" months --data "$DATA" --from 2024-01
echo "== alerts"
"$BIN" alerts --data "$DATA" --limit 5 || true
[[ "${NO_SERVE:-0}" == 1 ]] && exit 0
cat <<'MSG'
== serving on http://127.0.0.1:8080 (Ctrl-C to stop). Try:
  curl 'http://127.0.0.1:8080/health'
  curl 'http://127.0.0.1:8080/temp?year=2024&month=7'
  curl 'http://127.0.0.1:8080/maxdiff?year=2024&month=7&sensor=default'
  curl 'http://127.0.0.1:8080/v1/sensors/default/months?from=2024-01&to=2024-06'
MSG
exec "$BIN" serve --data "$DATA" --listen 127.0.0.1:8080
