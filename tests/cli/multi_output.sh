#!/usr/bin/env bash
# Several outputs in one pass (issue 18 item 1): `convert -o a -o b ...`
# reads, validates, reprojects and joins once and writes each output in the
# format of its extension. Its outputs are byte-identical to separate
# single-output runs and to themselves at -j 1 and -j 4; the join's
# statistics go to every output that takes layers; a failure in one output
# leaves none written; usage errors name the option.
. "$(dirname "$0")/lib.sh" "$@"
S=$SRC/data/samples
B=$S/boundaries/communes-35-ille-et-vilaine.geojson
IN="$S/bal/bal_35047_v1.3.csv $S/bal/bal_simple_v1.4.csv"
export SOURCE_DATE_EPOCH=1764547200
cd $OUT
EXTS="geojsonl gpkg pmtiles csv mbtiles"
args() { for e in $EXTS; do printf -- '-o %s.%s ' "$1" $e; done; }
"$GF" convert $IN --communes $B $(args all) -j 2 --summary json > all.json 2> all.err; rc=$?
ok "[ $rc -eq 0 ]" "five outputs in one run: exit 0 ($(tail -1 all.err))"
ok "python3 -c \"import json; s=json.load(open('all.json')); assert s['outputs'] == ['all.geojsonl','all.gpkg','all.pmtiles','all.csv','all.mbtiles'] and s['read'] == s['written'] + s['rejected'], s\"" "--summary json lists every output; read = written + rejected"
ok "[ \$(grep -c '^geoflux: output: ' all.err) -eq 5 ]" "the closing lines name every output"
for e in $EXTS; do
  "$GF" convert $IN --communes $B -o one.$e -q
  ok "cmp -s one.$e all.$e" "all.$e is byte-identical to a run writing only it"
done
"$GF" convert $IN --communes $B $(args j1) -j 1 -q
"$GF" convert $IN --communes $B $(args j4) -j 4 -q
for e in $EXTS; do ok "cmp -s j1.$e j4.$e && cmp -s j1.$e all.$e" "$e: the same bytes at -j 1, -j 2 and -j 4"; done
ok "ogrinfo -ro -q all.gpkg 2>/dev/null | grep -q 'communes'" "the join's statistics are a layer of the GeoPackage"
ok "[ \$(ogrinfo -ro -q all.mbtiles 2>/dev/null | grep -c 'communes') -ge 1 ]" "and of the MBTiles archive"
# a shared budget: --max-memory is split between the GeoPackage and the tiles
"$GF" convert $IN -o mem.gpkg -o mem.pmtiles --max-memory 64M -v 2> mem.err > /dev/null
ok "[ \$? -eq 0 ] && cmp -s mem.pmtiles \$( \"$GF\" convert $IN -o memone.pmtiles -q && echo memone.pmtiles)" "--max-memory shared by two outputs: the same tiles"

# usage errors (exit 2) and a failure that leaves nothing
err() { "$GF" convert $IN "$@" > /dev/null 2> e.txt; echo $?; }
ok "[ \$(err -o x.geojsonl -o x.gpkg -f geojson) -eq 2 ] && grep -q 'extension' e.txt" "-f with several -o is refused ($(cat e.txt | head -1))"
ok "[ \$(err -o - -o -) -eq 2 ] && grep -q 'standard output' e.txt" "two outputs to standard output are refused"
ok "[ \$(err -o y.csv -o y.gpkg --to-bal 1.4) -eq 2 ] && grep -q 'to-bal' e.txt" "--to-bal with several -o is refused"
ok "[ \$(err -o same.geojsonl -o ./same.geojsonl) -eq 2 ] && [ ! -e same.geojsonl ]" "the same file twice is refused ($(head -1 e.txt))"
ok "[ \$(err -o a1.geojsonl -o a2.gpkg -o a3.csv -o a4.pmtiles -o a5.mbtiles -o a6.geojson -o a7.geojsonl) -eq 2 ] && grep -q 'at most' e.txt" "at most 6 outputs"
ok "[ \$(err -o z.geojsonl -o z.shp.unknownext) -eq 2 ] && [ ! -e z.geojsonl ]" "an output of unknown format: refused before anything is written"
"$GF" tiles $IN -o t.pmtiles -o t.gpkg > /dev/null 2> e.txt; rc=$?
ok "[ $rc -eq 2 ] && grep -q 't.gpkg' e.txt" "geoflux tiles: every output must be an archive ($(head -1 e.txt))"
# a failure at the end of one output discards them all: the tiles refuse a
# maximum-zoom tile too dense for their share of --max-memory (32M split in
# three: the GeoPackage, the tiles and the validation's tables), once the
# NDJSON and the GeoPackage are written
python3 "$SRC/bench/gen_bal.py" --rows 40000 -o dense.csv --seed 7 || echo "FAIL: gen_bal.py"
"$GF" convert dense.csv -o f.geojsonl -o f.gpkg -o f.pmtiles --maxzoom 10 --max-memory 32M > /dev/null 2> e.txt; rc=$?
ok "[ $rc -eq 2 ] && grep -q \"with --max-memory 32 MB (this output's share: 1/3 of it)\" e.txt" "one output refused at its end: exit 2, the message speaks of the whole budget and the tiles' share ($(grep error e.txt | head -1))"
need=$(sed -n 's/.*give --max-memory \([0-9]*\) MB.*/\1/p' e.txt)
"$GF" convert dense.csv -o g.geojsonl -o g.pmtiles -o g.gpkg --maxzoom 10 --max-memory ${need:-0}M -q 2> e2.txt
ok "[ \$? -eq 0 ] && [ -s g.pmtiles ]" "the --max-memory the message gives (${need:-none} MB) holds it"
ok "[ ! -e f.geojsonl ] && [ ! -e f.gpkg ] && [ ! -e f.pmtiles ] && [ -z \"\$(ls -A | grep -v '^dense' | grep '^f\.\|^\.f\.\|tmp')\" ]" "a run that fails in one output leaves none of them, nor a scratch file ($(ls -A | grep 'f\.' | tr '\n' ' '))"
gf_test_end
