#!/usr/bin/env bash
# Runs a fuzz target under libFuzzer + ASan + UBSan (clang from Debian).
# Usage: tools/fuzz.sh [TARGET] [SECONDS]   e.g. tools/fuzz.sh fuzz_reader 300
#        tools/fuzz.sh all SECONDS          every tests/fuzz/fuzz_*.c in turn
# Layout: target tests/fuzz/fuzz_X.c <-> seeds tests/fuzz/corpus-fuzz_X/
# (replayed by ctest). The working corpus grows in build-fuzz/corpus-fuzz_X/;
# a crasher is written to build-fuzz/ and, once fixed, is copied into
# tests/fuzz/corpus-fuzz_X/ as a regression case.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
target=${1:-fuzz_reader}; secs=${2:-120}
if [ "$target" = all ]; then
  for src in tests/fuzz/fuzz_*.c; do "$0" "$(basename "$src" .c)" "$secs"; done
  exit 0
fi
[ -f "tests/fuzz/$target.c" ] || { echo "fuzz.sh: no tests/fuzz/$target.c" >&2; exit 2; }
[ -d "tests/fuzz/corpus-$target" ] || { echo "fuzz.sh: no seed corpus tests/fuzz/corpus-$target/" >&2; exit 2; }
command -v clang >/dev/null || { apt-get install -y -qq clang >/dev/null; }
out=build-fuzz; mkdir -p "$out/corpus-$target"
cp -n "tests/fuzz/corpus-$target"/* "$out/corpus-$target/" 2>/dev/null || true
# Rebuilt only when a source is newer than the binary.
bin="$out/$target"
if [ ! -x "$bin" ] || [ -n "$(find src include tests/fuzz -newer "$bin" -name '*.[ch]' -print -quit)" ]; then
  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 \
    -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -DGEOS_USE_ONLY_R_API \
    -Iinclude -Isrc $(ls src/*/*.c | grep -v '^src/cli/') "tests/fuzz/$target.c" \
    -o "$bin" $(pkg-config --cflags --libs proj geos gdal sqlite3 zlib) -lpthread -lm
fi
echo "== $target for ${secs}s (seeds: tests/fuzz/corpus-$target)"
"$bin" "$out/corpus-$target" -max_total_time="$secs" -max_len="${FUZZ_MAX_LEN:-8192}" \
  -artifact_prefix="$out/$target-" -print_final_stats=1
