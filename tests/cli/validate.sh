#!/bin/bash
# geoflux validate: exit codes, text and JSON output, profiles (threads:
# validate_threads.sh).
set -u
GF=$1 SRC=$2 OUT=$3
D="$OUT/validate_cli"
rm -rf "$D"; mkdir -p "$D"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
B="$SRC/data/samples/bal"

"$GF" validate "$B/bal_simple_v1.3.csv" > "$D/ok.txt"; rc=$?
check "valid file exits 0" "[ $rc -eq 0 ]"
check "text summary says VALID and the profile" "grep -q 'VALID' '$D/ok.txt' && grep -q 'profile 1.3, 25 rows' '$D/ok.txt'"

"$GF" validate "$B/sample.csv" > "$D/bad.txt"; rc=$?
check "invalid file exits 1" "[ $rc -eq 1 ]"
check "text groups errors by code with lines" "grep -q 'INVALID' '$D/bad.txt' && grep -Eq 'numero.type_invalide +1 row, line 16' '$D/bad.txt'"

"$GF" validate --format json "$B/sample.csv" > "$D/bad.json"; rc=$?
check "json exit 1" "[ $rc -eq 1 ]"
check "json shape" "python3 -c \"
import json,sys; o=json.load(open('$D/bad.json'))
assert set(['profile','valid','rows','invalid_rows','errors','warnings']) <= set(o), o.keys()
assert o['profile']=='1.3' and o['valid'] is False and o['rows']==15
assert o['invalid_rows']==[2,3,4,5,6,7,8,9,12,13,14,16], o['invalid_rows']
assert o['errors']['numero.type_invalide']==1 and o['errors']['field.commune_insee.missing']==1
assert o['warnings']['position.valeur_invalide']>=1
\""

"$GF" validate --format json "$B/bal_simple_v1.4.csv" > "$D/v14.json"
check "1.4 chosen from the header; several id_ban_commune is an error" "python3 -c \"
import json; o=json.load(open('$D/v14.json')); assert o['profile']=='1.4' and not o['valid'] and 'rows.multi_id_ban_commune' in o['errors']\""

"$GF" validate --format json --profile 1.3 "$B/bal_simple_v1.4.csv" > "$D/v14as13.json"; rc=$?
check "--profile 1.3 turns BAN-id codes into infos" "[ $rc -eq 0 ] && grep -q '\"profile\":\"1.3\"' '$D/v14as13.json'"

"$GF" validate --format json --profile 1.3-relax "$B/sample.csv" > "$D/relax.json"
check "1.3-relax: cle_interop case is a warning" "python3 -c \"
import json; o=json.load(open('$D/relax.json')); assert 'cle_interop.casse_invalide' in o['warnings'], o\""

"$GF" validate "$D/nope.csv" > /dev/null 2>&1; rc=$?
check "unreadable file exits 2" "[ $rc -eq 2 ]"
"$GF" validate --profile 9.9 "$B/sample.csv" > /dev/null 2>&1; rc=$?
check "unknown profile exits 2" "[ $rc -eq 2 ]"

"$GF" validate --format json "$B/bal_simple_v1.3.csv" "$B/sample.csv" > "$D/two.json"; rc=$?
check "several files: one JSON line each, exit 1" "[ $rc -eq 1 ] && [ \$(wc -l < '$D/two.json') -eq 2 ] && grep -q '\"file\":' '$D/two.json'"

# Latin-1 copy of a valid file: encoding error, values still read
python3 -c "import sys; sys.stdout.buffer.write(open('$B/bal_simple_v1.3.csv',encoding='utf-8-sig').read().encode('latin-1'))" > "$D/latin1.csv"
"$GF" validate --format json "$D/latin1.csv" > "$D/latin1.json"; rc=$?
check "Latin-1 file: file.encoding.non_standard, exit 1" "[ $rc -eq 1 ] && grep -q 'file.encoding.non_standard' '$D/latin1.json'"

# stdin
"$GF" validate --format json - < "$B/bal_simple_v1.3.csv" > "$D/stdin.json"; rc=$?
check "standard input" "[ $rc -eq 0 ] && grep -q '\"rows\":25' '$D/stdin.json'"

exit $fail
