#!/usr/bin/env bash
# bench/wal_rewrites.sh FILE [BINARY] -- how a full ingest of FILE into an
# empty data dir writes SQLite's WAL: frames appended, frames rewritten in
# place (a page the batch had spilled to the WAL and changed again), and the
# frame headers written. COMMIT recomputes the checksum of every frame after
# the first one rewritten in place, rewriting each header: headers well over
# the frames appended mean the batch's page cache was too small to keep its
# index leaves (see kBatchCachePragma in src/storage/sqlite_setup.h).
# Uses strace (the syscalls only; the ingest runs ~2x slower under it).
#   SCRATCH [mktemp -d]
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 FILE [BINARY]" >&2; exit 1; }
FILE=$1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AQ=${2:-$ROOT/build/src/cli/aquasense}
command -v strace >/dev/null || { echo "strace is not installed" >&2; exit 1; }
SCRATCH=${SCRATCH:-$(mktemp -d)}
trap 'rm -rf "$SCRATCH/store" "$SCRATCH/wal.trace"' EXIT
rm -rf "$SCRATCH/store"
strace -f --seccomp-bpf -e trace=openat,pwrite64 -o "$SCRATCH/wal.trace" \
  "$AQ" ingest --data "$SCRATCH/store" "$FILE" >/dev/null 2>&1
# The WAL's descriptor (the first one opened), then its writes: a frame is a
# 24-byte header and a page; a page written at an offset written before is a
# rewrite in place.
awk '
  /openat\(.*aquasense\.db-wal"/ && !fd { match($0, /= [0-9]+$/); fd = substr($0, RSTART + 2) + 0 }
  fd && $0 ~ ("pwrite64\\(" fd ",") {
    n = split($0, f, ", "); len = f[n - 1] + 0; off = f[n] + 0
    if (len == 24) headers++
    else if (len > 24) { if (off in seen) rewrites++; else appended++; seen[off] = 1 }
  }
  END {
    printf "frames appended %d, rewritten in place %d, headers written %d (%.2fx the frames)\n",
      appended, rewrites, headers, appended ? headers / appended : 0
  }' "$SCRATCH/wal.trace"
