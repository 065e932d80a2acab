# geoflux validate -j: the row rules run on the engine's workers while one
# thread reads and folds their outcome in file order, so the report is the
# same at any thread count. 20,000 rows (5 blocks of 4096) with rows broken
# by hand, then the same file stopped midway by a broken record. Also run
# under ThreadSanitizer (Makefile's TSAN_TESTS).
. "$(dirname "$0")/lib.sh" "$@"
B="$SRC/data/samples/bal"
python3 "$SRC/bench/gen_bal.py" --rows 20000 -o "$OUT/big.csv" > /dev/null 2>&1
sed -E '1000s/;[0-9]+;/;12x;/; 9000s/;[0-9]+;/;-5;/; 17000s/[0-9]{4}-[0-9]{2}-[0-9]{2}/2099-13-45/' \
  "$OUT/big.csv" > "$OUT/big-rows.csv"
awk 'NR == 19000 { print "a;b" } { print }' "$OUT/big-rows.csv" > "$OUT/big-stop.csv"
for f in big-rows big-stop; do
  for j in 1 2 3; do "$GF" validate -j $j --format json "$OUT/$f.csv" > "$OUT/$f-j$j.json"; done
done
ok "[ -s '$OUT/big-rows-j1.json' ] && cmp -s '$OUT/big-rows-j1.json' '$OUT/big-rows-j2.json' && cmp -s '$OUT/big-rows-j1.json' '$OUT/big-rows-j3.json'" \
  "-j 1/2/3: the same report on 20,000 rows with invalid rows"
ok "python3 -c \"
import json; o = json.load(open('$OUT/big-rows-j2.json'))
assert o['rows'] == 20000 and o['invalid_rows'] == [1000, 9000, 17000], o
assert o['errors'] == {'commune_insee.commune_invalide': 2, 'date_der_maj.date_invalide': 1}, o\"" \
  "the three broken rows, in line order, with their codes"
ok "cmp -s '$OUT/big-stop-j1.json' '$OUT/big-stop-j2.json' && cmp -s '$OUT/big-stop-j1.json' '$OUT/big-stop-j3.json'" \
  "-j 1/2/3: the same report when a broken record stops the file at line 19000"
ok "python3 -c \"
import json; o = json.load(open('$OUT/big-stop-j3.json'))
assert o['rows'] == 18999 and o['errors'].get('file.parse.TooFewFields') == 1 and o['invalid_rows'] == [1000, 9000, 17000], o\"" \
  "stopped at the broken record: rows before it counted and checked"
"$GF" validate -j 0 "$B/sample.csv" > /dev/null 2>&1; rc=$?
ok "[ $rc -eq 2 ]" "-j 0 refused (exit 2)"
"$GF" validate -j 2 --format json "$B/bal_simple_v1.3.csv" "$B/sample.csv" > "$OUT/two-j2.json"
"$GF" validate -j 1 --format json "$B/bal_simple_v1.3.csv" "$B/sample.csv" > "$OUT/two-j1.json"
ok "cmp -s '$OUT/two-j1.json' '$OUT/two-j2.json'" "several files on one engine: the same reports as one thread"
gf_test_end
