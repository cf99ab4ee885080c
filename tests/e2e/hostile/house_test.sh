#!/usr/bin/env bash
# One source of truth (issue 12, ../shared/reviews/code-review-2026-12.md
# items 3 and 6): object keys parsed in one place (storage/keys.h), serve
# defaults typed once (ServerOptions{}), rebuild still byte-identical.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
cd "$WORK"

D=$WORK/data
printf 'date,temperature,sd\n2024-01-01,10.5,0.1\n2024-01-02,11.25,0.2\n2024-02-01,12,0.3\n' >"$WORK/a.csv"
printf 'sensor,date,temperature,sd\ns2,2024-01-05,7,0.1\ns2,2024-03-05,9.125,0.4\n' >"$WORK/b.csv"
"$AQ" --data "$D" ingest --quiet --sensor s1 "$WORK/a.csv" "$WORK/b.csv" >/dev/null 2>&1 ||
  fail "ingest: rc $?"
"$AQ" --data "$D" export --format json >"$WORK/before.json"
"$AQ" --data "$D" export >"$WORK/before.csv"
cat "$D"/analysis/monthly/*.csv >"$WORK/before.monthly"

# Rebuild from landing/ alone: the keys written by keys::Landing parse back.
rm -f "$D/aquasense.db" "$D"/aquasense.db-*
if "$AQ" --data "$D" rebuild >/dev/null 2>"$WORK/rebuild.err"; then pass "keys: rebuild from landing/ ok"
else fail "keys: rebuild failed: $(cat "$WORK/rebuild.err")"; fi
"$AQ" --data "$D" export --format json >"$WORK/after.json"
"$AQ" --data "$D" export >"$WORK/after.csv"
cat "$D"/analysis/monthly/*.csv >"$WORK/after.monthly"
for f in json csv monthly; do
  if cmp -s "$WORK/before.$f" "$WORK/after.$f"; then pass "keys: rebuild byte-identical ($f)"
  else fail "keys: rebuild changed the $f output: $(diff "$WORK/before.$f" "$WORK/after.$f" | head -5)"; fi
done
if grep -q '"sensor":"s2","year":2024,"month":3,"mean_temp":9.125' "$WORK/after.json"; then
  pass "keys: the JSON export keeps every digit (9.125)"
else fail "keys: export json: $(head -c 300 "$WORK/after.json")"; fi

# D1 (Rebuild's substr(8)): a landing file whose name is not a lowercase
# SHA-256 is not a landed input; the old parse took any 64 characters.
upper=$(printf 'A%.0s' $(seq 1 64))
mkdir -p "$D/landing/s9"
printf 'date,temperature,sd\n2024-05-01,20,0.1\n' >"$D/landing/s9/$upper.csv"
rm -f "$D/aquasense.db" "$D"/aquasense.db-*
"$AQ" --data "$D" rebuild >/dev/null 2>&1 || fail "D1: rebuild with a stray landing file: rc $?"
if "$AQ" --data "$D" export | grep -q '^s9,'; then fail "D1: landing/s9/<64 x A>.csv was ingested"
else pass "D1: landing/s9/<64 x A>.csv (not a lowercase SHA-256) is not taken by rebuild"; fi

# Item 3: serve's defaults come from ServerOptions{} (the help quoted
# '256MiB' by hand before).
"$AQ" serve --help >"$WORK/help.txt" 2>&1
for want in "(default 127.0.0.1:8080)" "(default 268435456)" "(default 16384)" "(default 0.1)" \
  "(default 0.25)" "(default 2)" "(default 20)"; do
  if grep -qF -- "$want" "$WORK/help.txt"; then pass "item 3: serve --help says $want"
  else fail "item 3: serve --help lacks $want"; fi
done
finish
