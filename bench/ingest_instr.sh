#!/usr/bin/env bash
# bench/ingest_instr.sh FILE BINARY... -- instructions executed by a full
# ingest of FILE, per thread, for each binary: a measure the machine's load
# does not move (issue 11: wall clocks on the shared 2-core VM swing 2x).
#
# `perf stat -e instructions` needs hardware counters, which this VM does not
# expose ("<not supported>"), so the count comes from valgrind's callgrind
# (--separate-threads). Columns: parser threads (aq-parse: read, validate,
# parse numbers, render the normalised lines), main thread (merge, block
# encoding, SQLite, then metrics, monthly files and commit), landing copy
# thread (aq-land: copy + SHA-256; valgrind hides SHA-NI, so it runs nettle's
# plain code here: far more than in a real run, so it is not in the total).
# A file over 4 MiB is parsed by two parser threads: their sum, each in ().
# callgrind runs ~50x slower: use 100k-300k rows.
#   SCRATCH [mktemp -d]
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 FILE BINARY..." >&2; exit 2; }
FILE=$(realpath "$1"); shift
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
SCRATCH=${SCRATCH:-$(mktemp -d)}
trap 'rm -rf "$SCRATCH"' EXIT
rows=$(($(wc -l < "$FILE") - 1))
printf '| binary | parser threads (each) | main thread | parser + main | per row (parser / main) |\n'
printf '|---|---:|---:|---:|---|\n'
for bin in "$@"; do
  rm -rf "$SCRATCH/store" "$SCRATCH"/cg.out*
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$SCRATCH/cg.out" \
    "$bin" ingest --data "$SCRATCH/store" "$FILE" >/dev/null 2>&1
  main=0 parse=0 parsers=""
  for f in "$SCRATCH"/cg.out-*; do
    n=$(sed -n 's/^summary: //p' "$f")
    if [[ $f == *-01 ]]; then main=$n  # thread 1: the main thread
    elif grep -q 'ParseNumber' "$f"; then parse=$((parse + n)); parsers+=" $n"
    fi
  done
  printf '| %s | %s (%s) | %s | %s | %d / %d |\n' "$(basename "$bin")" "$parse" "${parsers# }" "$main" \
    $((parse + main)) $((parse / rows)) $((main / rows))
done
