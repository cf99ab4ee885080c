#!/usr/bin/env bash
# Builds fuzz/parser_fuzz.cc with clang (libFuzzer + ASan + UBSan) and runs it
# for SECONDS (default 60) on a corpus seeded from tests/fixtures. Exits
# non-zero on any finding (the crash input is left in build-fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
OUT=build-fuzz
mkdir -p "$OUT/corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Isrc fuzz/parser_fuzz.cc src/core/validate.cc src/core/datetime.cc src/core/number.cc \
  src/core/block.cc src/core/grouping.cc -o "$OUT/parser_fuzz"
# Seed corpus: every fixture input, prefixed by a piece-size byte.
i=0
while IFS= read -r -d '' f; do
  [[ $(stat -c %s "$f") -lt 200000 ]] || continue
  { printf '\x07'; cat "$f"; } > "$OUT/corpus/seed-$i"; i=$((i + 1))
done < <(find tests/fixtures examples -name '*.csv' -print0)
cp fuzz/corpus/* "$OUT/corpus/" 2>/dev/null || true
cd "$OUT"
./parser_fuzz -max_total_time="$SECS" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
  -print_final_stats=1 corpus 2>&1 | tail -15
