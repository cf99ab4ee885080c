#!/usr/bin/env bash
# Style gate, as CI runs it (scripts/test.sh stage 0):
#  (a) clang-format --dry-run -Werror on every tracked *.cc / *.h under src/
#      bench/ fuzz/ tests/ (.clang-format: Google, 100 columns);
#  (b) clang-tidy (.clang-tidy: function size <= 60 lines, bugprone-*) on every
#      tracked src/**/*.cc but the *_test.cc (gtest macros; ~5 s of CPU a file,
#      so tests would double the time), with BUILD_DIR's compile_commands.json
#      (configured here when missing; nothing is built), JOBS (2) at a time.
# Prints one summary line per part and exits 1 when either found anything.
#   scripts/check-style.sh                 # both parts
#   ONLY=format scripts/check-style.sh     # or ONLY=tidy
#   scripts/check-style.sh src/core/x.cc   # only these files
# Fix formatting with: clang-format -i FILE...
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
ONLY=${ONLY:-}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if (($# > 0)); then
  files=("$@")
else
  mapfile -t files < <(git ls-files -- 'src/*.cc' 'src/*.h' 'bench/*.cc' 'bench/*.h' \
    'fuzz/*.cc' 'fuzz/*.h' 'tests/*.cc' 'tests/*.h')
fi
status=0

if [[ $ONLY != tidy ]]; then
  : >"$out/format"
  for f in "${files[@]}"; do
    [[ $f == *.cc || $f == *.h ]] || continue
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f" >>"$out/format"
  done
  n=$(wc -l <"$out/format")
  if ((n > 0)); then
    sed 's/^/  needs clang-format: /' "$out/format"
    echo "format: $n of ${#files[@]} files differ from .clang-format (clang-format -i FILE...)"
    status=1
  else
    echo "format: ${#files[@]} files clean"
  fi
fi

if [[ $ONLY != format ]]; then
  if [[ ! -f $BUILD_DIR/compile_commands.json ]]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null || exit 1
  fi
  tidy=()
  for f in "${files[@]}"; do [[ $f == src/*.cc && $f != *_test.cc ]] && tidy+=("$f"); done
  start=$SECONDS
  # One log per file, so that parallel output does not interleave.
  printf '%s\n' "${tidy[@]}" | xargs -P "$JOBS" -I{} sh -c \
    'clang-tidy -quiet -p "$1" "$2" >"$3/tidy.$(echo "$2" | tr / _).log" 2>&1 || echo "$2" >>"$3/tidy-failed"' \
    _ "$BUILD_DIR" {} "$out"
  findings=$(cat "$out"/tidy.*.log 2>/dev/null | grep -E '(warning|error): ' | sort -u)
  if [[ -n $findings ]]; then
    echo "$findings" | sed 's/^/  /'
    echo "tidy: $(echo "$findings" | wc -l) findings in $(wc -l <"$out/tidy-failed") of" \
      "${#tidy[@]} files ($((SECONDS - start)) s)"
    status=1
  elif [[ -s $out/tidy-failed ]]; then
    cat "$out"/tidy.*.log
    echo "tidy: clang-tidy failed on $(wc -l <"$out/tidy-failed") files"
    status=1
  else
    echo "tidy: ${#tidy[@]} files clean ($((SECONDS - start)) s)"
  fi
fi
exit $status
