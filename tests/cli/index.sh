#!/usr/bin/env bash
# A damaged, truncated or old geocoding index given to `geocode --index` or
# `reverse --index` is refused up front with a message naming the file and
# exit 2 (an unreadable input), never a crash, a hang or wrong answers.
# (The loader's defects one by one are in tests/unit/test_gcindex.c.)
# Usage: index.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
S=$SRC/data/samples
IDX=$OUT/multi.idx

"$GF" index build "$S/bal/1.3-valid-multi-commune.csv" -o "$IDX" -q; rc=$?
ok '[ $rc -eq 0 ] && [ -s "$IDX" ]' "index build"
"$GF" geocode --index "$IDX" "$S/geocoding/search.csv" --columns adresse --postcode postcode -o "$OUT/ok.csv" -q; rc=$?
ok '[ $rc -eq 0 ]' "geocode with a sound index: exit 0"

# the build validates its rows as convert does: a row convert rejects (a
# commune code the COG lacks, a date that is none) is not indexed, each is
# logged with file:line and the count said; the rows convert keeps are
# indexed as before
{ cat "$S/bal/1.3-valid-multi-commune.csv"
  echo '35999_xxxx_00007;35999;Rue Imaginaire;7;;Nulleville;entrée;-1.6;48.1;;;;2020-11-09'
  echo '31591_xxxx_00011;31591;Rue Inventée;11;;Escoulis;entrée;1.0284;43.1117;;;;2020-13-45'
} > "$OUT/bad.csv"
"$GF" index build "$OUT/bad.csv" -o "$OUT/bad.idx" 2>"$OUT/bad.err"; rc=$?
n=$(($(wc -l < "$OUT/bad.csv") - 1))
ok '[ $rc -eq 0 ] && grep -q "bad.csv:$n: row not indexed: .*commune_insee.commune_invalide" "$OUT/bad.err" &&
    grep -q "bad.csv:$((n + 1)): row not indexed: .*date_der_maj" "$OUT/bad.err" &&
    grep -q "warning: 2 of $n rows not indexed" "$OUT/bad.err"' \
   "index build: the rows convert rejects are not indexed, named with file:line ($(head -c 600 "$OUT/bad.err"))"
"$GF" convert "$OUT/bad.csv" -o "$OUT/bad.ndjson" -q; rc=$?
ok '[ $rc -eq 0 ] && [ "$(tail -n +2 "$OUT/bad.ndjson.rejects.csv" | cut -d";" -f2 | tr "\n" " ")" = "$n $((n + 1)) " ]' \
   "convert rejects the same two rows"
printf 'id,adresse\n1,7 Rue Imaginaire Nulleville\n2,11 Rue Inventée Escoulis\n3,9 Rue des 3 Places Escoulis\n' > "$OUT/bad-q.csv"
"$GF" geocode --index "$OUT/bad.idx" "$OUT/bad-q.csv" -o "$OUT/bad-out.csv" -q
ok '[ "$(grep -c "Imaginaire\|Inventée" "$OUT/bad-out.csv")" = 2 ] && ! cut -d, -f3- "$OUT/bad-out.csv" | grep -q "Imaginaire\|Inventée" &&
    grep -q "9 Rue des 3 Places" <(cut -d, -f3- "$OUT/bad-out.csv")' \
   "geocode finds neither refused row, and the rows kept as before ($(cat "$OUT/bad-out.csv" | head -c 600))"

# both INDEX WHAT MESSAGE: geocode and reverse refuse INDEX with exit 2 and "INDEX: MESSAGE"
both() {
  local idx=$1 what=$2 want=$3
  "$GF" geocode --index "$idx" "$S/geocoding/search.csv" --columns adresse -o "$OUT/g.csv" -q 2>"$OUT/g.err"; local rc=$?
  ok "[ $rc -eq 2 ] && grep -qF -- \"$idx: $want\" \"$OUT/g.err\" && [ ! -e \"$OUT/g.csv\" ]" "geocode, $what: exit 2 (got $rc), \"$want\" ($(head -c 300 "$OUT/g.err"))"
  "$GF" reverse --index "$idx" "$S/geocoding/reverse.csv" -o "$OUT/r.csv" -q 2>"$OUT/r.err"; rc=$?
  ok "[ $rc -eq 2 ] && grep -qF -- \"$idx: $want\" \"$OUT/r.err\" && [ ! -e \"$OUT/r.csv\" ]" "reverse, $what: exit 2 (got $rc)"
}

# one bit flipped in the last byte
cp "$IDX" "$OUT/flip.idx"
n=$(stat -c %s "$OUT/flip.idx")
last=$(od -An -tu1 -j $((n - 1)) -N1 "$OUT/flip.idx" | tr -d ' ')
printf "$(printf '\\x%02x' $((last ^ 1)))" | dd of="$OUT/flip.idx" bs=1 seek=$((n - 1)) conv=notrunc status=none
ok '! cmp -s "$IDX" "$OUT/flip.idx"' "a bit was flipped"
both "$OUT/flip.idx" "one bit flipped" "checksum mismatch (file damaged or truncated)"

# truncated (a copy cut short)
head -c $((n / 2)) "$IDX" > "$OUT/cut.idx"
both "$OUT/cut.idx" "truncated" "checksum mismatch (file damaged or truncated)"
head -c 20 "$IDX" > "$OUT/short.idx"
both "$OUT/short.idx" "20 bytes" "not a geoflux index (too short)"

# an index of the previous format version
cp "$IDX" "$OUT/v2.idx"   # the version: a native (little-endian here) u32 after the 8-byte magic
printf '\x02\x00\x00\x00' | dd of="$OUT/v2.idx" bs=1 seek=8 conv=notrunc status=none
both "$OUT/v2.idx" "format version 2" "index format version 2, this geoflux reads version"
ok 'grep -q "rebuild it with .geoflux index build." "$OUT/g.err"' "the old-version message says to rebuild"

# not an index at all
both "$S/geocoding/search.csv" "a CSV file" "not a geoflux index"

echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
