#!/usr/bin/env bash
# Golden cases: tests/golden/<case>/args is one command line (after
# `geoflux`) where $S is data/samples, $C the case folder and $O the output
# folder; every file of <case>/expected/ must come out byte for byte.
# Regenerate on purpose only: tools/regen-golden.sh.
# Usage: golden.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; n=0
for case in "$SRC"/tests/golden/*/; do
  name=$(basename "$case")
  [ -f "$case/args" ] || continue
  n=$((n+1))
  O="$OUT/$name"; mkdir -p "$O"
  S="$SRC/data/samples" C="$case" O="$O" GF="$GF" bash -c 'eval "\"$GF\" $(cat "$C/args")"' > "$O/stdout" 2> "$O/stderr"
  for exp in "$case"/expected/*; do
    f=$(basename "$exp")
    if ! cmp -s "$exp" "$O/$f"; then
      fails=$((fails+1))
      echo "FAIL: $name/$f differs" >&2
      diff <(head -c 3000 "$exp") <(head -c 3000 "$O/$f" 2>/dev/null) | head -10 >&2
    fi
  done
done
echo "$((n - fails)) passed, $fails failed"
[ $fails -eq 0 ] && [ $n -gt 0 ]
