#!/usr/bin/env bash
# End-to-end checks of the `aquasense` core commands against the hand-checked
# fixtures in tests/fixtures/<case>/ (see tests/fixtures/README.md).
#
#   tests/e2e/core/run.sh AQUASENSE_BIN [CASE...]
#
# For every case: copy the case into a fresh temp dir, run its gen.sh (if any),
# run the steps of its `cmd` file against a fresh data dir, then compare
#   - exit codes (default 0; `!N` before a step expects N, with a message on stderr),
#   - ingest --json of step N with expected_ingest.N.json (a subset: counts, statuses),
#   - analysis/monthly/<sensor>.csv, joined (join_monthly.sh), with expected_monthly.csv,
#   - `export` (csv, json, seed, --sensor S) with expected_export*.csv/json, expected_seed*.csv,
#   - filtered/<sensor>/<sha256 of input>.valid.csv / .invalid.csv with
#     filtered/<sensor>/<input>.valid.csv / .invalid.csv (`*` = any value in invalid files),
#   - landing/: every file's name is the SHA-256 of its bytes,
#   - `rebuild`: afterwards analysis/monthly/, every export and filtered/ are byte-identical.
# Prints one PASS/FAIL line per case; exits 1 if any case failed.
set -u
if [ $# -lt 1 ]; then
  echo "usage: $0 AQUASENSE_BIN [CASE...]" >&2
  exit 64
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
if [ ! -x "$BIN" ]; then
  echo "$0: $BIN is not an executable" >&2
  exit 64
fi
HERE=$(cd "$(dirname "$0")" && pwd)
FIXTURES=${FIXTURES:-$(cd "$HERE/../../fixtures" && pwd)}
export FIXTURES  # for gen.sh scripts
CMP="python3 $HERE/compare.py"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/aquasense-e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

if [ $# -gt 0 ]; then
  CASES=("$@")
else
  CASES=()
  for d in "$FIXTURES"/*/; do
    [ -f "$d/cmd" ] && CASES+=("$(basename "$d")")
  done
fi

failed=0
passed=0
fail_notes=()

run_case() {
  local name=$1 case_dir=$FIXTURES/$1
  local W=$TMP/$name
  local D=$W/data IN=$W/in
  local errs=0
  mkdir -p "$W"
  cp -a "$case_dir" "$IN"
  note() { echo "  [$name] $*"; errs=$((errs + 1)); }
  # shellcheck disable=SC2317
  same_file() {  # expected actual what
    if [ ! -f "$2" ]; then note "$3: missing $2"; return; fi
    if ! cmp -s "$1" "$2"; then
      note "$3 differs (--- expected +++ actual):"
      diff -u "$1" "$2" | head -40 | cat -A | sed 's/^/      /'
    fi
  }

  if [ -f "$IN/gen.sh" ]; then
    (cd "$IN" && bash ./gen.sh) || note "gen.sh failed"
  fi

  # --- steps
  local step=0 line want sub rest extra rc
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    step=$((step + 1))
    want=0
    if [[ $line == '!'* ]]; then
      want=${line%% *}; want=${want#!}; line=${line#* }
    fi
    sub=${line%% *}
    rest=
    [[ $line == *' '* ]] && rest=${line#* }
    extra=
    [ "$sub" = ingest ] && extra=--json
    (cd "$IN" && eval "\"\$BIN\" $sub --data \"\$D\" $extra $rest") \
      >"$W/out.$step" 2>"$W/err.$step" </dev/null
    rc=$?
    if [ "$rc" != "$want" ]; then
      note "step $step '$line': exit $rc, expected $want; stderr: $(head -c 400 "$W/err.$step")"
    elif [ "$want" != 0 ] && [ ! -s "$W/err.$step" ]; then
      note "step $step '$line': exit $rc but nothing on stderr"
    fi
    if [ "$rc" -ge 128 ]; then
      note "step $step '$line': killed by a signal (exit $rc)"
    fi
    if [ "$sub" = ingest ] && { [ "$rc" = 0 ] || [ "$rc" = 2 ]; }; then
      local exp_json=$IN/expected_ingest.$step.json
      [ -f "$exp_json" ] || { echo '{}' >"$W/empty.json"; exp_json=$W/empty.json; }
      if ! $CMP json "$exp_json" "$W/out.$step" >"$W/cmp.out" 2>&1; then
        note "step $step '$line': ingest --json mismatch:"
        sed 's/^/  /' "$W/cmp.out"
      fi
    fi
  done <"$IN/cmd"

  # --- outputs
  check_outputs() {  # suffix ("" before rebuild, ".rebuilt" after)
    local sfx=$1 f s
    "$BIN" export --data "$D" >"$W/export.csv$sfx" 2>"$W/export.err" </dev/null ||
      note "export$sfx failed: $(head -c 300 "$W/export.err")"
    "$BIN" export --data "$D" --format json >"$W/export.json$sfx" 2>"$W/export.err" </dev/null ||
      note "export --format json$sfx failed: $(head -c 300 "$W/export.err")"
    "$BIN" export --data "$D" --format seed >"$W/seed.csv$sfx" 2>"$W/export.err" </dev/null ||
      note "export --format seed$sfx failed: $(head -c 300 "$W/export.err")"
    "$HERE/../join_monthly.sh" "$D" >"$W/monthly.csv$sfx" 2>"$W/join.err" ||
      note "analysis/monthly/$sfx: $(head -c 300 "$W/join.err")"
    for f in "$IN"/expected_export.*.csv "$IN"/expected_export.*.json \
             "$IN"/expected_seed.*.csv; do
      [ -f "$f" ] || continue
      local base fmtn
      base=$(basename "$f")
      case "$base" in
        expected_export.*.csv) s=${base#expected_export.}; s=${s%.csv}; fmtn=csv ;;
        expected_export.*.json) s=${base#expected_export.}; s=${s%.json}; fmtn=json ;;
        expected_seed.*.csv) s=${base#expected_seed.}; s=${s%.csv}; fmtn=seed ;;
      esac
      "$BIN" export --data "$D" --sensor "$s" --format "$fmtn" >"$W/$base$sfx" 2>"$W/export.err" </dev/null ||
        note "export --sensor $s --format $fmtn$sfx failed: $(head -c 300 "$W/export.err")"
    done
  }
  check_outputs ""
  same_file "$IN/expected_monthly.csv" "$W/monthly.csv" "analysis/monthly/*.csv joined"
  same_file "$IN/expected_export.csv" "$W/export.csv" "export"
  [ -f "$IN/expected_export.json" ] && same_file "$IN/expected_export.json" "$W/export.json" "export --format json"
  [ -f "$IN/expected_seed.csv" ] && same_file "$IN/expected_seed.csv" "$W/seed.csv" "export --format seed"
  for f in "$IN"/expected_export.*.csv "$IN"/expected_export.*.json "$IN"/expected_seed.*.csv; do
    [ -f "$f" ] || continue
    same_file "$f" "$W/$(basename "$f")" "export ($(basename "$f"))"
  done

  # filtered files, keyed by the SHA-256 of the input
  if [ -d "$IN/filtered" ]; then
    local ef rel sensor input kind hash
    while IFS= read -r ef; do
      rel=${ef#"$IN/filtered/"}
      sensor=${rel%%/*}
      input=${rel#*/}
      case "$input" in
        *.valid.csv) kind=valid; input=${input%.valid.csv} ;;
        *.invalid.csv) kind=invalid; input=${input%.invalid.csv} ;;
        *) continue ;;
      esac
      hash=$(sha256sum "$IN/$input" | cut -d' ' -f1)
      local af=$D/filtered/$sensor/$hash.$kind.csv
      if [ ! -f "$af" ]; then
        note "filtered/$sensor/<sha256 of $input>.$kind.csv missing"
        continue
      fi
      if [ "$kind" = valid ]; then
        same_file "$ef" "$af" "filtered $sensor/$input.valid.csv"
      elif ! $CMP invalid "$ef" "$af" >"$W/cmp.out" 2>&1; then
        note "filtered $sensor/$input.invalid.csv differs:"
        sed 's/^/  /' "$W/cmp.out"
      fi
      [ -f "$D/landing/$sensor/$hash.csv" ] || note "landing/$sensor/<sha256 of $input>.csv missing"
    done < <(find "$IN/filtered" -type f | sort)
  fi
  if [ -d "$D/landing" ]; then
    local lf
    while IFS= read -r lf; do
      [ "$(sha256sum "$lf" | cut -d' ' -f1).csv" = "$(basename "$lf")" ] ||
        note "landing file ${lf#"$D/"} does not hold the bytes its name says"
    done < <(find "$D/landing" -type f -name '*.csv')
  fi

  # --- rebuild: everything re-derived from landing/ must be byte-identical
  (cd "$W" && find data/filtered -type f 2>/dev/null | sort | xargs -r sha256sum) >"$W/filtered.sum"
  if ! "$BIN" rebuild --data "$D" >"$W/rebuild.out" 2>"$W/rebuild.err" </dev/null; then
    note "rebuild failed: $(head -c 300 "$W/rebuild.err")"
  fi
  check_outputs ".rebuilt"
  for f in monthly.csv export.csv export.json seed.csv; do
    [ -f "$W/$f" ] && same_file "$W/$f" "$W/$f.rebuilt" "after rebuild: $f"
  done
  for f in "$IN"/expected_export.*.csv "$IN"/expected_export.*.json "$IN"/expected_seed.*.csv; do
    [ -f "$f" ] || continue
    same_file "$W/$(basename "$f")" "$W/$(basename "$f").rebuilt" "after rebuild: $(basename "$f")"
  done
  (cd "$W" && find data/filtered -type f 2>/dev/null | sort | xargs -r sha256sum) >"$W/filtered.sum.rebuilt"
  same_file "$W/filtered.sum" "$W/filtered.sum.rebuilt" "after rebuild: filtered/ (sha256sum of each file)"

  [ "$errs" = 0 ]
}

for c in "${CASES[@]}"; do
  if [ ! -f "$FIXTURES/$c/cmd" ]; then
    echo "FAIL $c (no such case)"
    failed=$((failed + 1))
    continue
  fi
  out=$(run_case "$c" 2>&1)
  n=$?
  if [ $n = 0 ]; then
    echo "PASS $c"
    passed=$((passed + 1))
  else
    echo "FAIL $c"
    echo "$out"
    failed=$((failed + 1))
  fi
done
echo "e2e core: $passed passed, $failed failed"
[ $failed = 0 ]
