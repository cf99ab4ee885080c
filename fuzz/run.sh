#!/usr/bin/env bash
# Builds every libFuzzer target fuzz/<name>_fuzz.cc with clang (libFuzzer + ASan
# + UBSan) and runs each for SECONDS (default 60 for the row parser, a third of
# it for the others, at least 10). A target names the sources it links on a
# first-lines comment `// SOURCES: src/a.cc src/b.cc` and may add compiler
# flags with `// FLAGS: ...`. Seeds: fuzz/corpus/<name>/ (committed), plus
# tests/fixtures and examples/ for the row parser. Exits non-zero on any
# finding (the crash input is left in build-fuzz/<name>/).
#   fuzz/run.sh [SECONDS] [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
OUT=build-fuzz
mkdir -p "$OUT"
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in fuzz/*_fuzz.cc; do targets+=("$(basename "$f" _fuzz.cc)"); done
fi
for name in "${targets[@]}"; do
  src=fuzz/${name}_fuzz.cc
  sources=$(sed -n 's|^// SOURCES: ||p' "$src" | head -1)
  flags=$(sed -n 's|^// FLAGS: ||p' "$src" | head -1)
  dir=$OUT/$name
  mkdir -p "$dir/corpus"
  echo "== fuzz: build $name"
  # shellcheck disable=SC2086
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Isrc $flags "$src" $sources -o "$dir/fuzz"
  if [[ $name == parser ]]; then
    secs=$SECS
    # Seed corpus: every fixture input, prefixed by a piece-size byte.
    i=0
    while IFS= read -r -d '' f; do
      [[ $(stat -c %s "$f") -lt 200000 ]] || continue
      { printf '\x07'; cat "$f"; } > "$dir/corpus/seed-$i"; i=$((i + 1))
    done < <(find tests/fixtures examples -name '*.csv' -print0)
  else
    secs=$((SECS / 3 > 10 ? SECS / 3 : 10))
  fi
  cp fuzz/corpus/"$name"/* "$dir/corpus/" 2>/dev/null || true
  echo "== fuzz: run $name for $secs s"
  (cd "$dir" && ./fuzz -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
    -print_final_stats=1 corpus 2>&1 | tail -15; exit "${PIPESTATUS[0]}")
done
