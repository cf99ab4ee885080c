#!/usr/bin/env bash
# Hostile tests of settings, the store under concurrency and damage, and the
# command line's messages (issue 10; ../shared/reviews/reliability-2026-12.md
# M5, M9, L3, L4, L6, L13). Every check asserts the exit code and the text.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
EXAMPLES=$(cd "$here/../../../examples" && pwd)
cd "$WORK"  # a stray ./aquasense-data would land here

# expect_run WHAT WANT_RC TEXT cmd...: exit code WANT_RC and TEXT (fixed
# string, may be empty) in the output (stdout + stderr).
expect_run() {
  local what=$1 want=$2 text=$3 rc=0
  shift 3
  "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
  if [[ $rc != "$want" ]]; then
    fail "$what: rc $rc, want $want: $(head -c 400 "$WORK/err")"
  elif [[ -n $text ]] && ! grep -qF -- "$text" "$WORK/out" "$WORK/err"; then
    fail "$what: no '$text' in: $(head -c 400 "$WORK/err")"
  else
    pass "$what (rc $rc)"
  fi
}
# no_text WHAT TEXT: TEXT is not in the last expect_run's output.
no_text() {
  if grep -qF -- "$2" "$WORK/out" "$WORK/err"; then fail "$1: '$2' in: $(head -c 400 "$WORK/err")"
  else pass "$1"; fi
}

# A store with the examples, checkpointed so the whole database is in its file.
make_store() {
  "$AQ" --data "$1" ingest --quiet "$EXAMPLES"/readings.csv "$EXAMPLES"/readings_2025q1.csv >/dev/null 2>&1
  sqlite3 "$1/aquasense.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
}
make_store "$WORK/ref"
"$AQ" --data "$WORK/ref" export > "$WORK/ref.csv"

# --- M5: parallel first ingests into a data directory that does not exist yet.
/usr/bin/python3 - "$WORK" <<'PY'
import random, sys
random.seed(5)
for f in range(4):
    with open(f"{sys.argv[1]}/m5-{f}.csv", "w") as out:
        out.write("sensor,date,temperature,sd\n")
        for s in range(5):
            for day in range(6000):
                y, d = 2000 + day // 360, day % 360
                out.write(f"p{f}s{s},{y}-{d // 30 + 1:02d}-{d % 28 + 1:02d}T{s:02d}:00:00,"
                          f"{random.uniform(0, 30):.2f},{random.uniform(0, 0.6):.2f}\n")
PY
"$AQ" --data "$WORK/m5-seq" ingest --quiet "$WORK"/m5-{0,1,2,3}.csv >/dev/null 2>&1
"$AQ" --data "$WORK/m5-seq" export > "$WORK/m5-seq.csv"
m5_failures=0
for round in $(seq 1 10); do
  dir="$WORK/m5-par-$round/nested"
  pids=()
  for f in 0 1 2 3; do
    "$AQ" --data "$dir" ingest --quiet "$WORK/m5-$f.csv" >/dev/null 2>"$WORK/m5-$round-$f.err" &
    pids+=($!)
  done
  for i in 0 1 2 3; do
    if ! wait "${pids[$i]}"; then
      m5_failures=$((m5_failures + 1))
      echo "round $round ingest $i: $(cat "$WORK/m5-$round-$i.err")" >&2
    fi
  done
  "$AQ" --data "$dir" export > "$WORK/m5-par.csv" 2>/dev/null || true
  cmp -s "$WORK/m5-par.csv" "$WORK/m5-seq.csv" || {
    m5_failures=$((m5_failures + 1))
    echo "round $round: export differs from the sequential one" >&2
  }
  rm -rf "$WORK/m5-par-$round"
done
if [[ $m5_failures == 0 ]]; then
  pass "M5: 10 rounds of 4 concurrent first ingests: all rc 0, export equals the sequential one"
else
  fail "M5: $m5_failures failure(s) in 10 rounds of 4 concurrent first ingests"
fi

# --- M9: a corrupt or empty database beside a non-empty landing/.
recovery='then run `aquasense --data'
cp -r "$WORK/ref" "$WORK/half"
truncate -s $(($(stat -c %s "$WORK/half/aquasense.db") / 2)) "$WORK/half/aquasense.db"
expect_run "M9: truncated database: export refused" 3 "is damaged: database disk image is malformed" \
  "$AQ" --data "$WORK/half" export
expect_run "M9: truncated database: the message names the recovery" 3 "$recovery $WORK/half rebuild" \
  "$AQ" --data "$WORK/half" ingest "$EXAMPLES/readings.csv"
no_text "L13: no 'cannot configure database' for a corrupt file" "cannot configure"
no_text "L13: the sqlite message is not repeated" "malformed: database disk image is malformed"

cp -r "$WORK/ref" "$WORK/garbage"
printf 'GARBAGE HEADER, NOT SQLITE AT ALL.......................................................' |
  dd of="$WORK/garbage/aquasense.db" conv=notrunc status=none
expect_run "M9: garbage header: refused with the recovery" 3 "$recovery $WORK/garbage rebuild" \
  "$AQ" --data "$WORK/garbage" months
no_text "L13: 'not a database' said once" "not a database: file is not a database"
expect_run "M9: garbage header: message names the database files" 3 "aquasense.db-wal and" \
  "$AQ" --data "$WORK/garbage" alerts

cp -r "$WORK/ref" "$WORK/random"
size=$(stat -c %s "$WORK/random/aquasense.db")
dd if=/dev/urandom of="$WORK/random/aquasense.db" bs=1024 seek=$((size / 4096)) \
  count=$((size / 2048)) conv=notrunc status=none
expect_run "M9: random bytes in the middle: rebuild refused with the recovery" 3 \
  'then run `aquasense rebuild`' "$AQ" --data "$WORK/random" rebuild

cp -r "$WORK/ref" "$WORK/zero"
: > "$WORK/zero/aquasense.db"
rm -f "$WORK/zero/aquasense.db-wal" "$WORK/zero/aquasense.db-shm"
expect_run "M9: 0-byte database with landing/: export refused" 3 "is empty (0 bytes)" \
  "$AQ" --data "$WORK/zero" export
expect_run "M9: 0-byte database with landing/: ingest refused with the recovery" 3 \
  "$recovery $WORK/zero rebuild" "$AQ" --data "$WORK/zero" ingest "$EXAMPLES/readings.csv"
[[ $(stat -c %s "$WORK/zero/aquasense.db") == 0 ]] && pass "M9: the refused ingest wrote nothing" ||
  fail "M9: the refused ingest wrote into the empty database"
rm -f "$WORK/zero"/aquasense.db*
expect_run "M9: database deleted: export points to rebuild" 3 "is missing: run" \
  "$AQ" --data "$WORK/zero" export
expect_run "M9: recovery: rebuild" 0 "rebuilt from landing/" "$AQ" --data "$WORK/zero" rebuild
"$AQ" --data "$WORK/zero" export > "$WORK/zero.csv"
cmp -s "$WORK/zero.csv" "$WORK/ref.csv" && pass "M9: recovery: export equals the original" ||
  fail "M9: recovery: export differs from the original"

# --- L4: a --data path that does not exist is an error for read commands.
for cmd in export months alerts rebuild; do
  expect_run "L4: $cmd --data typo-dir" 1 "does not exist (check --data or AQUASENSE_DATA)" \
    "$AQ" --data "$WORK/typo-dir" $cmd
done
expect_run "L4: AQUASENSE_DATA=typo-dir export" 1 "does not exist" \
  env AQUASENSE_DATA="$WORK/typo-dir" "$AQ" export
[[ ! -e "$WORK/typo-dir" ]] && pass "L4: the typo directory was not created" ||
  fail "L4: the typo directory was created"
expect_run "L4: ingest still creates a new data directory" 0 "ingested 1 file" \
  "$AQ" --data "$WORK/new/dir" ingest --quiet "$EXAMPLES/readings.csv"

# --- L3: ".", ".." and ".tmp" refused everywhere with the SPEC message.
for id in . .. .tmp; do
  expect_run "L3: ingest --sensor $id" 1 "sensor id \"$id\" is not allowed: use 1-64 of A-Z a-z 0-9 . _ -" \
    "$AQ" --data "$WORK/l3" ingest --sensor "$id" "$EXAMPLES/readings.csv"
  no_text "L3: --sensor $id: no internal key in the message" "invalid object key"
done
expect_run "L3: AQUASENSE_SENSOR=.. ingest" 1 'sensor id ".." is not allowed' \
  env AQUASENSE_SENSOR=.. "$AQ" --data "$WORK/l3" ingest "$EXAMPLES/readings.csv"
printf 'sensor,date,temperature,sd\nok,2024-01-01,10,0.1\n..,2024-01-02,10,0.1\n.tmp,2024-01-03,10,0.1\n.,2024-01-04,10,0.1\n' \
  > "$WORK/dots.csv"
expect_run "L3: in-file sensor column" 0 "3 invalid" "$AQ" --data "$WORK/l3" ingest "$WORK/dots.csv"
[[ $(cat "$WORK"/l3/filtered/default/*.invalid.csv | grep -c ',bad_sensor,') == 3 ]] &&
  pass "L3: in-file '..', '.tmp', '.' are bad_sensor" || fail "L3: in-file dot ids not bad_sensor"
[[ ! -e "$WORK/l3/analysis/monthly/...csv" && ! -e "$WORK/l3/analysis/monthly/.tmp.csv" ]] &&
  pass "L3: no analysis/monthly/..csv or .tmp.csv" || fail "L3: dot sensors reached analysis/"
echo secret-token > "$WORK/token"
start_server "$WORK/l3" --token-file "$WORK/token"
for q in 'sensor=..' 'sensor=%2E%2E' 'sensor=.tmp' 'sensor=.'; do
  expect_status "L3: POST /v1/ingest?$q" 400 -X POST --data-binary @"$EXAMPLES/readings.csv" \
    -H 'Authorization: Bearer secret-token' "$BASE/v1/ingest?$q"
  grep -q 'invalid object key' "$WORK/body" && fail "L3: ?$q leaks the internal key" || true
done
expect_status "L3: GET /v1/sensors/.tmp/months" 400 "$BASE/v1/sensors/.tmp/months"
stop_server || true

# --- L6 / settings: the config file and AQUASENSE_* variables.
config_case() {  # WHAT TEXT JSON
  printf '%s' "$3" > "$WORK/config.json"
  expect_run "L6: $1" 1 "$2" "$AQ" --data "$WORK/ref" --config "$WORK/config.json" export
}
config_case 'unknown top-level key' 'unknown key "limtis" (did you mean "limits"?)' '{"limtis": {}}'
config_case 'misspelled alerts key' 'unknown key "alerts.sd_limt"' '{"alerts": {"sd_limt": 1}}'
config_case 'misspelled channel key' 'unknown key "alerts.channels[0].secert"' \
  '{"alerts": {"channels": [{"type": "webhook", "url": "http://127.0.0.1:9/", "secert": "x"}]}}'
config_case 'wrong-typed section' '"limits" must be an object' '{"limits": "x"}'
config_case 'wrong-typed serve section' '"serve" must be an object' '{"serve": 7}'
config_case 'wrong-typed limit' '"limits.temp_min" must be a number' '{"limits": {"temp_min": "abc"}}'
config_case 'negative sd limit' '"limits.sd_min" must be >= 0' '{"limits": {"sd_min": -1}}'
config_case 'min above max' '"limits.temp_min" is above "limits.temp_max"' \
  '{"limits": {"temp_min": 50, "temp_max": 45}}'
config_case 'negative sd_limit' 'alerts.sd_limit must be a number >= 0' '{"alerts": {"sd_limit": -1}}'
config_case 'overflowing number' 'is not valid JSON' '{"limits": {"temp_max": 1e309}}'
config_case 'malformed JSON names the line and column' 'line 3, column' \
  $'{\n  "limits": {"temp_min": 1,\n  }\n}'
config_case 'an array' 'must hold a JSON object, not an array' '[1, 2]'
config_case 'an empty file' 'is not valid JSON' ''
mkdir -p "$WORK/config-dir"
expect_run "L6: config that is a directory" 1 "is a directory" \
  "$AQ" --data "$WORK/ref" --config "$WORK/config-dir" export
expect_run "L6: AQUASENSE_CONFIG that does not exist" 1 "cannot read the config file" \
  env AQUASENSE_CONFIG="$WORK/nope.json" "$AQ" --data "$WORK/ref" export
expect_run "L6: AQUASENSE_SD_LIMIT=-1 rejected like sd_limit -1" 1 "AQUASENSE_SD_LIMIT must be a number >= 0" \
  env AQUASENSE_SD_LIMIT=-1 "$AQ" --data "$WORK/ref" export
expect_run "L6: AQUASENSE_SD_LIMIT=abc" 1 "AQUASENSE_SD_LIMIT must be a number >= 0" \
  env AQUASENSE_SD_LIMIT=abc "$AQ" --data "$WORK/ref" export
expect_run "L6: AQUASENSE_THREADS=abc names the variable" 1 "AQUASENSE_THREADS must be a whole number" \
  env AQUASENSE_THREADS=abc "$AQ" --data "$WORK/ref" serve --listen 127.0.0.1:0
expect_run "L6: AQUASENSE_ON_CONFLICT=maybe" 1 "(the value of AQUASENSE_ON_CONFLICT)" \
  env AQUASENSE_ON_CONFLICT=maybe "$AQ" --data "$WORK/ref" ingest "$EXAMPLES/readings.csv"
printf '%s' '{"alerts": {"channels": [{"type": "webhook", "url": "http://127.0.0.1:9/hook", "timeout_ms": 500}]}}' \
  > "$WORK/config.json"
expect_run "L6: a channel without a name is accepted" 0 "" \
  "$AQ" --data "$WORK/named" --config "$WORK/config.json" ingest --quiet "$EXAMPLES/readings.csv"
expect_run "L6: ... and named after its type (docs/alerts.md)" 0 '"channel":"webhook"' \
  "$AQ" --data "$WORK/named" --config "$WORK/config.json" alerts --json
printf '%s' '{"alerts": {"channels": [{"type": "webhook", "url": "http://127.0.0.1:9/a"}, {"type": "webhook", "url": "http://127.0.0.1:9/b"}]}}' \
  > "$WORK/config.json"
config_case_file() { expect_run "L6: $1" 1 "$2" "$AQ" --data "$WORK/ref" --config "$WORK/config.json" export; }
config_case_file 'two unnamed channels of one type' 'two channels are named "webhook"'

# --- L13: messages and help.
expect_run "L13: aquasense bogus" 1 'unknown subcommand "bogus"' "$AQ" bogus
expect_run "L13: aquasense --data d bogus" 1 'unknown subcommand "bogus"' "$AQ" --data "$WORK/ref" bogus
expect_run "L13: aquasense --version" 0 "aquasense 1." "$AQ" --version
expect_run "L13: ingest --help lists --data" 0 "--data DIR" "$AQ" ingest --help
expect_run "L13: ingest --help lists --config" 0 "--config FILE" "$AQ" ingest --help
expect_run "L13: --data \"\" is a usage error" 1 "--data must not be empty" "$AQ" --data "" export
expect_run "L13: AQUASENSE_MAX_UPLOAD=abc names the variable" 1 "AQUASENSE_MAX_UPLOAD must be" \
  env AQUASENSE_MAX_UPLOAD=abc "$AQ" --data "$WORK/ref" serve --listen 127.0.0.1:0
expect_run "L13: --max-upload abc names the flag" 1 "--max-upload must be" \
  "$AQ" --data "$WORK/ref" serve --listen 127.0.0.1:0 --max-upload abc
expect_run "L13: alerts deliver --max-seconds abc" 1 "must be a number of seconds from 0 to 86400, got 'abc'" \
  "$AQ" --data "$WORK/ref" alerts deliver --max-seconds abc
expect_run "L13: months --from after --to" 1 "--from 2025-01 is after --to 2024-01" \
  "$AQ" --data "$WORK/ref" months --from 2025-01 --to 2024-01
expect_run "L13: export --sensor ../x" 1 'sensor id "../x" is not allowed' \
  "$AQ" --data "$WORK/ref" export --sensor ../x
expect_run "L13: months --sensor a/b" 1 'sensor id "a/b" is not allowed' \
  "$AQ" --data "$WORK/ref" months --sensor a/b
mkdir -p "$WORK/token-dir"
expect_run "L13: a token file that is a directory" 1 "the token file $WORK/token-dir is a directory" \
  "$AQ" --data "$WORK/ref" serve --listen 127.0.0.1:0 --token-file "$WORK/token-dir"
long=$(head -c 10000 /dev/zero | tr '\0' y)
expect_run "L13: a 10,000-character --sensor" 1 "is not allowed" \
  "$AQ" --data "$WORK/ref" ingest --sensor "$long" "$EXAMPLES/readings.csv"
(($(wc -c < "$WORK/err") < 300)) && pass "L13: ... is not echoed in full ($(wc -c < "$WORK/err") bytes)" ||
  fail "L13: the long sensor id is echoed: $(wc -c < "$WORK/err") bytes"
expect_run "L13: every input unreadable" 2 "nothing was ingested: no input could be read" \
  "$AQ" --data "$WORK/ref" ingest "$WORK/missing-1.csv" "$WORK/missing-2.csv"
no_text "L13: no summary line when nothing could be read" "ingested 0 files"
cp -r "$WORK/ref" "$WORK/ro"
if [[ $(id -u) == 0 ]]; then
  chmod 755 "$WORK" && chmod -R go+rX "$WORK/ro" "$EXAMPLES" 2>/dev/null || true
  expect_run "L13: ingest on a read-only data directory" 3 "is read-only" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$AQ" --data "$WORK/ro" ingest "$EXAMPLES/readings_2025q1.csv"
else
  chmod a-w "$WORK/ro"
  expect_run "L13: ingest on a read-only data directory" 3 "is read-only" \
    "$AQ" --data "$WORK/ro" ingest "$EXAMPLES/readings_2025q1.csv"
  chmod u+w "$WORK/ro"
fi
no_text "L13: not the sqlite wording" "attempt to write a readonly database"

finish
