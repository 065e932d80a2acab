#!/usr/bin/env bash
# Runs a fuzz target under libFuzzer + ASan + UBSan (clang from Debian).
# Usage: tools/fuzz.sh [TARGET] [SECONDS]   e.g. tools/fuzz.sh fuzz_reader 300
# New crashers go to tests/fuzz/corpus once fixed, where ctest replays them.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
target=${1:-fuzz_reader}; secs=${2:-120}
command -v clang >/dev/null || { apt-get install -y -qq clang >/dev/null; }
out=build-fuzz; mkdir -p "$out/corpus-$target"
cp -n tests/fuzz/corpus/* "$out/corpus-$target/" 2>/dev/null || true
clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_DEFAULT_SOURCE -DGEOS_USE_ONLY_R_API \
  -Iinclude -Isrc $(ls src/*/*.c | grep -v '^src/cli/') "tests/fuzz/$target.c" \
  -o "$out/$target" $(pkg-config --cflags --libs proj geos gdal sqlite3 zlib) -lpthread -lm
"$out/$target" "$out/corpus-$target" -max_total_time="$secs" -max_len=8192
