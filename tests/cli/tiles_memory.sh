#!/usr/bin/env bash
# Memory of the tile phase is bounded by --max-memory (issue 12, item 15):
# - a run stays within the budget above the same run to GeoJSON lines (peak
#   RSS, measured by python3's getrusage on the child; skipped under
#   sanitizers, whose shadow memory makes RSS meaningless);
# - a maximum-zoom tile too dense for the budget (every point is kept at
#   maxzoom, so it cannot be thinned) is refused up front, exit 2, with the
#   tile, its size and the budget that would hold it; no output is left;
# - a budget too small for the sort in memory spills runs and merges them in
#   a cascade (bounded fan-in): same bytes as a run with a large budget.
# Inputs are generated here: a dense BAL (bench/gen_bal.py: real positions
# of one commune reused for every row) and an extract spread over a
# department (tools/gen_extract.py).
# Usage: tiles_memory.sh GEOFLUX SRCDIR OUTDIR
. "$(dirname "$0")/lib.sh" "$@"
command -v python3 >/dev/null || { echo "SKIPPED: python3 missing"; exit 77; }
# peak RSS (KB) of one command; its exit code in $OUT/rc
peak() { python3 -c 'import resource,subprocess,sys
r = subprocess.run(sys.argv[2:]).returncode
open(sys.argv[1], "w").write(str(r))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$OUT/rc" "$@"; }

python3 "$SRC/bench/gen_bal.py" --rows 40000 -o "$OUT/dense.csv" --seed 7 || { echo "FAIL: gen_bal.py"; exit 1; }

# 1. too dense for the budget at maxzoom 10 (the commune in one or two tiles)
"$GF" convert "$OUT/dense.csv" -o "$OUT/refused.pmtiles" --maxzoom 10 --max-memory 16M -q 2>"$OUT/err1"; rc=$?
ok "[ $rc -eq 2 ]" "too dense a tile: exit $rc, expected 2: $(cat "$OUT/err1")"
ok "grep -q 'tile 10/[0-9]*/[0-9]*: its points take [0-9]* MB, over the 4 MB one tile may take with --max-memory 16 MB' $OUT/err1" \
   "message names the tile and the budget: $(cat "$OUT/err1")"
ok "grep -q 'give --max-memory [0-9]* MB or more' $OUT/err1" "message says which budget would do"
# one tile output, rows validated: the tiles get half of the budget, the
# validation's file-wide tables the other half
ok "grep -q \"(this output's share: 1/2 of it)\" $OUT/err1" "message says the tiles' share of the budget"
ok "[ ! -e $OUT/refused.pmtiles ]" "no output after a refusal"
ok "! ls -a $OUT | grep -q 'tmp-'" "no temporary file left after a refusal"
need=$(sed -n 's/.*give --max-memory \([0-9]*\) MB.*/\1/p' "$OUT/err1")
"$GF" convert "$OUT/dense.csv" -o "$OUT/fits.pmtiles" --maxzoom 10 --max-memory "${need:-0}M" -q 2>"$OUT/err2"; rc=$?
ok "[ $rc -eq 0 ]" "the budget the message gives is enough: exit $rc $(cat "$OUT/err2")"

# 2. an extract spread over a department (no dense tile): the sort spills
# runs and merges them in a cascade at a small budget, same bytes as a
# large budget; peak RSS stays within the budget above the GeoJSON-lines run
python3 "$SRC/tools/gen_extract.py" --rows 200000 -o "$OUT/spread.csv" --seed 3 >/dev/null || { echo "FAIL: gen_extract.py"; exit 1; }
"$GF" convert "$OUT/spread.csv" -o "$OUT/big.pmtiles" --max-memory 1G -q -v 2>"$OUT/err3"; rc=$?
ok "[ $rc -eq 0 ]" "1G budget: exit $rc"
ok "grep -q ' 0 sorted runs spilled' $OUT/err3" "a 1G budget sorts in memory: $(grep 'tiles:' "$OUT/err3")"
"$GF" convert "$OUT/spread.csv" -o "$OUT/small.pmtiles" --max-memory 1M -q -v 2>"$OUT/err4"; rc=$?
ok "[ $rc -eq 0 ]" "1M budget: exit $rc $(grep error "$OUT/err4")"
runs=$(sed -n 's/.* \([0-9]*\) sorted runs spilled.*/\1/p' "$OUT/err4")
ok "[ \"\${runs:-0}\" -gt 64 ]" "a 1M budget spills and merges many runs (${runs:-none})"
ok "cmp -s $OUT/big.pmtiles $OUT/small.pmtiles" "same tiles whatever the sort budget"

if [ -n "${GF_SANITIZED:-}" ]; then
  echo "SKIPPED (peak RSS part only): peak RSS is not meaningful under sanitizers"
else
  base=$(peak "$GF" convert "$OUT/spread.csv" -o "$OUT/base.geojsonl" -q)
  ok "[ \$(cat $OUT/rc) -eq 0 ]" "baseline run"
  for mb in 32 64; do
    rss=$(peak "$GF" convert "$OUT/spread.csv" -o "$OUT/m$mb.pmtiles" --max-memory ${mb}M -q -j 4)
    ok "[ \$(cat $OUT/rc) -eq 0 ]" "tiles at --max-memory ${mb}M"
    extra=$(( (rss - base) / 1024 ))
    echo "peak RSS: GeoJSON lines $((base / 1024)) MB, tiles at --max-memory ${mb}M $((rss / 1024)) MB (+$extra MB)"
    ok "[ $extra -le $mb ]" "tiles at --max-memory ${mb}M took $extra MB above the GeoJSON-lines run"
    ok "cmp -s $OUT/big.pmtiles $OUT/m$mb.pmtiles" "same tiles at --max-memory ${mb}M"
  done
  # 3. many threads on tiles near the 500 KB ceiling (maxzoom 11: a dozen
  # tiles of 340-550 KB gzip): every encoding thread's scratch, and the
  # compressor that redoes a tile near the ceiling, within the budget too.
  # Before the encoders shared one reservation (sink.c, enc_reserve()) and
  # the redo took level 6's 670 KB compressor instead of level 12's 9 MB,
  # -j 8 took 43 MB above its GeoJSON-lines run here.
  base8=$(peak "$GF" convert "$OUT/spread.csv" -o "$OUT/base8.geojsonl" -q -j 8)
  "$GF" convert "$OUT/spread.csv" -o "$OUT/z11j1.pmtiles" --maxzoom 11 --max-memory 24M -q -j 1
  rss=$(peak "$GF" convert "$OUT/spread.csv" -o "$OUT/z11j8.pmtiles" --maxzoom 11 --max-memory 24M -q -j 8)
  ok "[ \$(cat $OUT/rc) -eq 0 ]" "maxzoom 11, -j 8, --max-memory 24M"
  extra=$(( (rss - base8) / 1024 ))
  echo "peak RSS -j 8: GeoJSON lines $((base8 / 1024)) MB, tiles to maxzoom 11 at --max-memory 24M $((rss / 1024)) MB (+$extra MB)"
  ok "[ $extra -le 24 ]" "maxzoom 11 at -j 8 took $extra MB above the GeoJSON-lines run, over its 24M"
  ok "cmp -s $OUT/z11j1.pmtiles $OUT/z11j8.pmtiles" "maxzoom 11: -j 1 and -j 8 give the same tiles"
fi

gf_test_end
