#!/usr/bin/env bash
# Runs fuzz targets under libFuzzer + ASan + UBSan (clang from Debian).
# Usage: tools/fuzz.sh TARGET [SECONDS]   e.g. tools/fuzz.sh fuzz_reader 300
#        tools/fuzz.sh all [SECONDS]      every tests/fuzz/fuzz_*.c, JOBS (2) at a time (CI)
# Layout: target tests/fuzz/fuzz_X.c <-> seeds tests/fuzz/corpus-fuzz_X/
# (replayed by ctest). The working corpus grows in build-fuzz/corpus-fuzz_X/;
# a crasher is written to build-fuzz/fuzz_X-crash-*; once fixed, copy it into
# tests/fuzz/corpus-fuzz_X/ as a regression case.
# The library is built once, incrementally, by CMake in build-fuzz/cmake
# (GF_FUZZ=ON); FUZZ_MAX_LEN bounds an input (default 8192 bytes); an input
# that takes more than 30 s is a finding (a hang), like a crash.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
target=${1:-}; secs=${2:-120}
[ -n "$target" ] || { sed -n 2,10p "$0" >&2; exit 2; }
case $secs in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not '$secs'" >&2; exit 2 ;; esac
if [ "$target" = all ]; then
  targets=(); for src in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
else
  [ -f "tests/fuzz/$target.c" ] || { echo "fuzz.sh: no tests/fuzz/$target.c" >&2; exit 2; }
  targets=("$target")
fi
command -v clang >/dev/null || { apt-get install -y -qq clang >/dev/null; }
out=build-fuzz
CC=clang cmake -S . -B "$out/cmake" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGF_FUZZ=ON >/dev/null
cmake --build "$out/cmake" -j "${JOBS:-2}" --target "${targets[@]}" | grep -E 'error|warning' || true
# JOBS targets at a time (each libFuzzer run is one process on one core),
# each one's output printed whole when it ends; the first failure fails the
# whole run, after the running ones end
run_one() {
  local t=$1
  mkdir -p "$out/corpus-$t"
  cp -n "tests/fuzz/corpus-$t"/* "$out/corpus-$t/" 2>/dev/null || true
  echo "== $t for ${secs}s (seeds: tests/fuzz/corpus-$t)"
  "$out/cmake/tests/$t" "$out/corpus-$t" -max_total_time="$secs" -max_len="${FUZZ_MAX_LEN:-8192}" -timeout=30 \
    -artifact_prefix="$out/$t-" -print_final_stats=1 2>&1 | grep -Ev '^(#[0-9]+\s+(NEW|REDUCE|pulse|INITED)|INFO:|\s*NEW_FUNC|")'
}
for t in "${targets[@]}"; do
  [ -d "tests/fuzz/corpus-$t" ] || { echo "fuzz.sh: no seed corpus tests/fuzz/corpus-$t/" >&2; exit 2; }
done
pids=(); names=(); failed=0
reap() {  # waits for the oldest running target, prints its log
  local rc=0
  wait "${pids[0]}" || rc=$?
  cat "$out/${names[0]}.log"
  [ $rc -eq 0 ] || { echo "== ${names[0]}: FAILED (exit $rc)"; failed=1; }
  pids=("${pids[@]:1}"); names=("${names[@]:1}")
}
for t in "${targets[@]}"; do
  [ ${#pids[@]} -lt "${JOBS:-2}" ] || reap
  [ $failed -eq 0 ] || break
  run_one "$t" > "$out/$t.log" 2>&1 &
  pids+=($!); names+=("$t")
done
while [ ${#pids[@]} -gt 0 ]; do reap; done
exit $failed
