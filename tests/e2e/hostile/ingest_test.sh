#!/usr/bin/env bash
# Hostile inputs to `aquasense ingest` (reliability review §1: M2, M8, L5,
# L10, L11, and its odd inputs): every row is accounted for, a file that
# changes while it is read or an input without end costs that input only
# (exit 2, nothing of it stored), and the store stays consistent.
#   AQ=build/src/cli/aquasense bash tests/e2e/hostile/ingest_test.sh
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
mark_outside
mkdir "$WORK/cwd" && cd "$WORK/cwd"

# json_field FILE FIELD: a top-level field of an ingest --json summary.
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
# expect_accounted WHAT SUMMARY_JSON: rows = valid + invalid + duplicates, per file too.
expect_accounted() {
  local out
  out=$(python3 - "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
bad = [f"{x['source']}: {x['rows']} != {x['valid']}+{x['invalid']}+{x['duplicates']}"
       for x in [s] + [f for f in s["per_file"] if f["status"] == "ingested"]
       if "rows" in x and x["rows"] != x["valid"] + x["invalid"] + x["duplicates"]]
print("; ".join(bad) if bad else f"ok {s['rows']} rows")
PY
)
  if [[ $out == ok* ]]; then pass "$1: rows = valid + invalid + duplicates ($out)"
  else fail "$1: $out"; fi
}
# ingest_json WHAT DATA OUT_JSON ARGS...: runs ingest --json, sets RC.
ingest_json() {
  local data=$2 out=$3; shift 3
  RC=0
  "$AQ" --data "$data" ingest --quiet --json "$@" >"$out" 2>"$out.err" || RC=$?
}

# --- M2: a stray quote costs its own row only.
python3 - "$WORK/strayq_big.csv" <<'PY'
import sys, datetime
d0 = datetime.date(2000, 1, 1)
with open(sys.argv[1], "w") as f:
    f.write('date,temperature,sd\n2020-01-01,"10,0.1\n')
    for i in range(10000):
        f.write(f"{d0 + datetime.timedelta(days=i)},10,0.1\n")
PY
ingest_json m2 "$WORK/d-m2" "$WORK/m2.json" "$WORK/strayq_big.csv"
got="rc=$RC rows=$(json_field "$WORK/m2.json" rows) valid=$(json_field "$WORK/m2.json" valid) invalid=$(json_field "$WORK/m2.json" invalid)"
if [[ $got == "rc=0 rows=10001 valid=10000 invalid=1" ]]; then pass "M2: stray quote + 10,000 rows -> 10,000 valid, 1 invalid"
else fail "M2: stray quote: $got $(cat "$WORK/m2.json.err")"; fi
if grep -q '^"[^"]*strayq_big.csv",2,bad_quote,"quote not closed within 65536 bytes","2020-01-01,""10,0.1"$' \
  "$WORK"/d-m2/filtered/default/*.invalid.csv; then pass "M2: line 2 is bad_quote, raw = that line"
else fail "M2: invalid rows: $(head -3 "$WORK"/d-m2/filtered/default/*.invalid.csv)"; fi
expect_accounted "M2" "$WORK/m2.json"
check_store "M2" "$WORK/d-m2"

# --- Every row accounted for on the review's odd inputs.
python3 - "$WORK" <<'PY'
import os, sys
w = sys.argv[1]
def put(name, data):
    with open(os.path.join(w, name), "wb") as f: f.write(data)
put("nul.csv", b"2024-01-01,1\0,0.1\n2024-01-02\0,1,0.1\n2024-01-03,1,0.1\0\n2024-01-04,1,0.1\n")
fill = b"0" * (65536 - 17)
put("long64k.csv", b"2024-01-01,1,0.1" + fill + b"\n" + b"2024-01-02,1,0.1" + fill + b"\r\n" +
    b"2024-01-03,1,0.1" + fill + b"0\n" + b"2024-01-04,1,0.1\n")
# 64 KiB lines across the 1 MiB read boundary.
rows = b"".join(b"2024-02-%02d,1,0.1\n" % (1 + i % 28) for i in range(61680))
put("boundary.csv", rows[: (1 << 20) - 100] + b"\n2024-03-01,1,0.1" + fill + b"\r\n2024-03-02,1,0.1\n")
put("qnewline.csv", b'date,temp,sd\n"2024-01-01","1\n2",0.1\n2024-01-02,3,0.1\n')
put("strayq_small.csv", b'2024-01-01,1,0.1\n2024-01-02,"1,0.1\n' + b"2024-01-03,1,0.1\n" * 5 + b'"\n"""\n,,"\n')
put("longquote.csv", b'2024-01-01,"' + b"1" * 70000 + b"\n2024-01-02,1,0.1\n")
import datetime
d0 = datetime.date(2000, 1, 1)
put("quote64k.csv", b'2024-01-01,"x\n' + "".join(f"{d0 + datetime.timedelta(days=i)},1,0.1\n" for i in range(5000)).encode())
put("underflow.csv", b"date,temp,sd\n1990-01-01,1e-400,0.1\n1990-01-02,1,1e-400\n1990-01-03,0.0e5,-0\n1990-01-04,0,0\n")
PY
head -c 300000 /bin/ls >"$WORK/binary.csv"
odd=(binary nul long64k boundary qnewline strayq_small longquote quote64k underflow)
for name in "${odd[@]}"; do
  ingest_json "odd $name" "$WORK/d-odd" "$WORK/odd-$name.json" "$WORK/$name.csv"
  if [[ $RC == 0 ]]; then expect_accounted "M2 accounting: $name" "$WORK/odd-$name.json"
  else fail "M2 accounting: $name: rc $RC: $(cat "$WORK/odd-$name.json.err")"; fi
done
# The same inputs from standard input, and all in one batch.
ingest_json "odd stdin" "$WORK/d-odd-stdin" "$WORK/odd-stdin.json" --sensor viastdin - <"$WORK/strayq_small.csv"
expect_accounted "M2 accounting: stray quote via stdin" "$WORK/odd-stdin.json"
args=(); for name in "${odd[@]}"; do args+=("$WORK/$name.csv"); done
ingest_json "odd batch" "$WORK/d-odd-batch" "$WORK/odd-batch.json" "${args[@]}"
expect_accounted "M2 accounting: all odd inputs in one batch" "$WORK/odd-batch.json"
if [[ $(json_field "$WORK/odd-quote64k.json" valid) == 5000 && $(json_field "$WORK/odd-quote64k.json" invalid) == 1 ]]; then
  pass "M2: a quote open past 64 KiB costs one row (5,000 valid after it)"
else fail "M2: quote past 64 KiB: $(cat "$WORK/odd-quote64k.json")"; fi
check_store "odd inputs" "$WORK/d-odd"

# --- L11: underflow is bad_number; 0, -0, 0.0e5 are zeros.
reasons=$(tail -n +2 "$WORK"/d-odd/filtered/default/"$(sha256sum "$WORK/underflow.csv" | cut -c1-64)".invalid.csv | cut -d, -f2,3 | tr '\n' ' ')
if [[ $reasons == "2,bad_number 3,bad_number " && $(json_field "$WORK/odd-underflow.json" valid) == 2 ]]; then
  pass "L11: 1e-400 (temperature, sd) -> bad_number; 0.0e5, -0, 0 valid"
else fail "L11: invalid rows '$reasons', $(cat "$WORK/odd-underflow.json")"; fi

# --- M8: a file appended to while it is ingested: rc 2 for it, the other file ingested.
python3 - "$WORK/big.csv" <<'PY'
import sys, datetime
d0 = datetime.datetime(2000, 1, 1)
with open(sys.argv[1], "w") as f:
    step = datetime.timedelta(minutes=7)
    t = d0
    buf = []
    for i in range(1_200_000):
        buf.append(f"s{i % 5},{t:%Y-%m-%dT%H:%M},{10 + i % 17 / 4},0.1\n")
        t += step
        if len(buf) >= 100000: f.write("".join(buf)); buf = []
    f.write("".join(buf))
PY
printf 'date,temperature,sd\n2024-01-01,10,0.1\n2024-01-02,11,0.2\n' >"$WORK/other.csv"
m8_done=""
for delay in 0.3 0.15 0.05 0.6; do
  D="$WORK/d-m8-$delay"
  cp "$WORK/big.csv" "$WORK/chg.csv"
  RC=0
  "$AQ" --data "$D" ingest --quiet --json "$WORK/other.csv" "$WORK/chg.csv" >"$WORK/m8.json" 2>"$WORK/m8.err" &
  pid=$!; PIDS+=("$pid")
  sleep "$delay"
  printf '2099-01-01T00:00,10,0.1\n' >>"$WORK/chg.csv"
  wait "$pid" || RC=$?
  if [[ $RC == 0 ]]; then continue; fi  # the append came after the ingest: try again sooner
  m8_done=1
  if [[ $RC == 2 ]] && grep -q "chg.csv changed while it was being ingested; nothing was stored" "$WORK/m8.err"; then
    pass "M8: file changed during ingest -> rc 2, message names it"
  else fail "M8: rc $RC: $(cat "$WORK/m8.err")"; fi
  status=$(python3 -c 'import json,sys; print(" ".join(f["status"] for f in json.load(open(sys.argv[1]))["per_file"]))' "$WORK/m8.json" 2>/dev/null || true)
  if [[ $status == "ingested unreadable" && $(json_field "$WORK/m8.json" valid) == 2 ]]; then
    pass "M8: the other file of the command is ingested"
  else fail "M8: per_file '$status': $(cat "$WORK/m8.json")"; fi
  landed=$(find "$D/landing" -type f | wc -l)
  if [[ $landed == 1 && $("$AQ" --data "$D" export --sensor s1 | wc -l) == 1 ]]; then
    pass "M8: nothing of the changed file is stored"
  else fail "M8: $landed landed files; export: $("$AQ" --data "$D" export | head -3)"; fi
  check_store "M8" "$D"
  break
done
[[ -n $m8_done ]] || fail "M8: the append never fell inside the ingest (4 tries)"

# --- L5: inputs of unknown size are bounded by --max-input.
D="$WORK/d-l5"
start=$(date +%s.%N)
RC=0; timeout 10 "$AQ" --data "$D" ingest --quiet --max-input 1M /dev/zero "$WORK/other.csv" >/dev/null 2>"$WORK/l5.err" || RC=$?
secs=$(python3 -c "print(round($(date +%s.%N) - $start, 2))")
if [[ $RC == 2 ]] && grep -q "cannot read /dev/zero: it is larger than --max-input (1048576 bytes)" "$WORK/l5.err"; then
  pass "L5: ingest --max-input 1M /dev/zero -> rc 2 in ${secs}s, clear message"
else fail "L5: /dev/zero: rc $RC: $(cat "$WORK/l5.err")"; fi
if [[ -z $(find "$D/.tmp" -type f 2>/dev/null) ]]; then pass "L5: no partial file left in .tmp"
else fail "L5: left in .tmp: $(ls -la "$D/.tmp")"; fi
if [[ $("$AQ" --data "$D" export | wc -l) == 2 ]]; then pass "L5: the other input is ingested"
else fail "L5: export: $("$AQ" --data "$D" export)"; fi
mkfifo "$WORK/fifo"
head -c 3000000 /dev/zero >"$WORK/fifo" 2>/dev/null &
PIDS+=($!)
RC=0; AQUASENSE_MAX_INPUT=2M timeout 10 "$AQ" --data "$D" ingest --quiet "$WORK/fifo" >/dev/null 2>"$WORK/l5f.err" || RC=$?
if [[ $RC == 2 ]] && grep -q "larger than --max-input (2097152 bytes)" "$WORK/l5f.err"; then
  pass "L5: AQUASENSE_MAX_INPUT=2M bounds a FIFO -> rc 2"
else fail "L5: FIFO: rc $RC: $(cat "$WORK/l5f.err")"; fi
RC=0; head -c 1500000 /dev/zero | "$AQ" --data "$D" ingest --quiet --max-input 1M - >/dev/null 2>"$WORK/l5s.err" || RC=$?
if [[ $RC == 2 ]] && grep -q "cannot read -: it is larger than --max-input" "$WORK/l5s.err"; then pass "L5: stdin over --max-input -> rc 2"
else fail "L5: stdin: rc $RC: $(cat "$WORK/l5s.err")"; fi
RC=0; printf '2024-05-01,1,0.1\n' | "$AQ" --data "$D" ingest --quiet --max-input 1k - >/dev/null 2>&1 || RC=$?
if [[ $RC == 0 ]]; then pass "L5: stdin under --max-input is ingested"; else fail "L5: small stdin: rc $RC"; fi
for bad in abc -1 0 1.5G 99999999999G; do
  RC=0; "$AQ" --data "$D" ingest --max-input="$bad" "$WORK/other.csv" >/dev/null 2>"$WORK/l5u.err" || RC=$?
  if [[ $RC == 1 ]] && grep -q -- "--max-input must be" "$WORK/l5u.err"; then pass "L5: --max-input $bad -> usage error"
  else fail "L5: --max-input $bad: rc $RC: $(cat "$WORK/l5u.err")"; fi
done
RC=0; AQUASENSE_MAX_INPUT=abc "$AQ" --data "$D" ingest "$WORK/other.csv" >/dev/null 2>"$WORK/l5e.err" || RC=$?
if [[ $RC == 1 ]] && grep -q "AQUASENSE_MAX_INPUT must be" "$WORK/l5e.err"; then pass "L5: AQUASENSE_MAX_INPUT=abc -> usage error naming the variable"
else fail "L5: AQUASENSE_MAX_INPUT=abc: rc $RC: $(cat "$WORK/l5e.err")"; fi
[[ -z $(find "$D/.tmp" -type f 2>/dev/null) ]] && pass "L5: .tmp empty after all" || fail "L5: .tmp not empty"
check_store "L5" "$D"

# --- L10: a closed standard input is an error, not an empty success.
D="$WORK/d-l10"
"$AQ" --data "$D" ingest --quiet "$WORK/other.csv" >/dev/null
RC=0; "$AQ" --data "$D" ingest - <&- >"$WORK/l10.out" 2>"$WORK/l10.err" || RC=$?
if [[ $RC == 2 ]] && grep -q "cannot read standard input: Bad file descriptor" "$WORK/l10.err"; then
  pass "L10: ingest - <&- -> rc 2, cannot read standard input"
else fail "L10: rc $RC: $(cat "$WORK/l10.out" "$WORK/l10.err")"; fi
RC=0; "$AQ" --data "$D" ingest - "$WORK/strayq_small.csv" <&- >/dev/null 2>&1 || RC=$?
if [[ $RC == 2 && $(find "$D/landing" -type f | wc -l) == 2 ]]; then pass "L10: the other input is still ingested"
else fail "L10: rc $RC, $(find "$D/landing" -type f | wc -l) landed"; fi
check_store "L10" "$D"

# Nothing outside WORK. lib.sh's check_outside reports any new file under
# /tmp, /root and /etc, which other builds and tests on the same machine
# write too; here: (a) the working directory stayed empty (no stray
# ./aquasense-data), (b) no file named after one of this test's inputs
# (landing/ and filtered/ names are their SHA-256) exists outside WORK.
# Other runs of the e2e suites (their own aq-http-e2e.* WORK) are left out:
# a test running beside this one may ingest a file of the same bytes (a
# header-only CSV), whose landing copy then has the same name in its WORK.
if [[ -z $(ls -A "$WORK/cwd") ]]; then pass "outside: nothing written in the working directory"
else fail "outside: written in the working directory: $(ls -A "$WORK/cwd")"; fi
names=()
for f in "$WORK"/*.csv; do names+=(-o -name "*$(sha256sum "$f" | cut -c1-64)*"); done
changed=$(find /tmp /root /etc /var -xdev -newer "$WORK/.outside-mark" -type f -not -path "$WORK/*" \
  -not -path "${TMPDIR:-/tmp}/aq-http-e2e.*/*" \( -false "${names[@]}" \) 2>/dev/null | head -5 || true)
if [[ -z "$changed" ]]; then pass "outside: no copy of an input outside the data directories"
else fail "outside: files written outside the data directories: $changed"; fi
finish
