#!/usr/bin/env bash
# The map page's label glyphs: tools/glyphs/gf_glyphs.c (built beside the
# geoflux binary) run again gives the bytes the build installed in
# share/geoflux/web/glyphs (deterministic), refuses a bad range or a missing
# font with a message; the npm `pbf` reader decodes every range as MapLibre
# does (tests/js/glyphs_check.mjs: fontstack, range, ids, bitmap sizes, the
# characters of French names, the distance field's sign and metrics).
. "$(dirname "$0")/lib.sh" "$@"
BIN=$(dirname "$GF")
G=$BIN/gf_glyphs
A=$BIN/share/geoflux/web/glyphs/dejavu-sans-bold
if [ ! -x "$G" ] || [ ! -d "$A" ]; then
  echo "SKIPPED: no gf_glyphs or glyphs in the build (libfreetype-dev and fonts-dejavu-core: tools/setup.sh build)"; exit 77
fi
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
"$G" "$OUT/g" dejavu-sans-bold "$FONT" 0-255 256-511 512-767 8192-8447; rc=$?
ok '[ $rc -eq 0 ]' "gf_glyphs: exit 0 (got $rc)"
for r in 0-255 256-511 512-767 8192-8447; do
  ok 'cmp -s "$OUT/g/dejavu-sans-bold/$r.pbf" "$A/$r.pbf"' "$r.pbf: the same bytes as the build's"
done
ok '[ -z "$(ls -A "$OUT/g/dejavu-sans-bold" | grep -v "\.pbf$")" ]' "no temporary left"
"$G" "$OUT/bad" s "$FONT" 0-200 2>"$OUT/bad.err"; rc=$?
ok '[ $rc -eq 2 ] && grep -q "0-200: not a glyph range" "$OUT/bad.err"' "a range not 256 long: exit 2 with a message (got $rc: $(cat "$OUT/bad.err"))"
"$G" "$OUT/bad" s "$OUT/nofont.ttf" 0-255 2>"$OUT/nofont.err"; rc=$?
ok '[ $rc -eq 1 ] && grep -q "nofont.ttf: cannot open the font" "$OUT/nofont.err"' "a missing font: exit 1 naming it (got $rc)"
"$G" 2>/dev/null; rc=$?
ok '[ $rc -eq 2 ]' "no arguments: usage, exit 2"
if command -v node >/dev/null && [ -d "$SRC/tests/js/node_modules/pbf" ]; then
  node "$SRC/tests/js/glyphs_check.mjs" dejavu-sans-bold "$A"/*.pbf >"$OUT/check.json" 2>&1; rc=$?
  ok '[ $rc -eq 0 ]' "the pbf reader decodes every range: $(cut -c1-600 "$OUT/check.json")"
else
  echo "SKIPPED: decoding with the npm pbf reader (node or tests/js/node_modules missing: tools/setup.sh test)"
fi
gf_test_end
