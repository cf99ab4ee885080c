#!/usr/bin/env bash
# tests/e2e/join_monthly.sh DATA_DIR -- prints DATA_DIR/analysis/monthly/<sensor>.csv
# joined as one CSV: the header once, then each sensor's rows in sensor order
# (byte order), i.e. what `aquasense export` prints. Fails when a file lacks
# the header. Only the header when there are no files (as `export`).
set -euo pipefail
dir=$1/analysis/monthly
header='sensor,year,month,mean_temp,max_temp,max_sd,max_temp_diff,readings'
echo "$header"
[ -d "$dir" ] || exit 0
mapfile -t sensors < <(cd "$dir" && for f in *.csv; do [ -e "$f" ] && echo "${f%.csv}"; done | LC_ALL=C sort)
for s in ${sensors[@]+"${sensors[@]}"}; do
  first=$(head -n 1 "$dir/$s.csv")
  if [ "$first" != "$header" ]; then
    echo "join_monthly: $dir/$s.csv does not start with the header" >&2
    exit 1
  fi
  tail -n +2 "$dir/$s.csv"
done
