#!/usr/bin/env bash
# `convert --profile-stages` (issue 18 item 2): a line per stage of the job
# (and only of the job), each with its CPU seconds and µs per row read, the
# rows counted, in the stderr table and in --summary json; the outputs are
# the same bytes with and without it, at -j 1 and -j 2; what it cannot do
# is refused.
. "$(dirname "$0")/lib.sh" "$@"
S=$SRC/data/samples
B=$S/boundaries/communes-54-meurthe-et-moselle.geojson
IN="$S/ban/adresses-54.csv.gz $S/bal/sample.csv"
export SOURCE_DATE_EPOCH=1764547200
cd "$OUT"

# the default job: NDJSON, no harmonise, no join
"$GF" convert $IN -o p.geojsonl -j 2 --profile-stages 2> p.err; rc=$?
ok "[ $rc -eq 0 ]" "convert --profile-stages: exit 0 ($(tail -1 p.err))"
"$GF" convert $IN -o n.geojsonl -j 2 2> n.err
ok "cmp -s p.geojsonl n.geojsonl" "NDJSON: the same bytes with and without --profile-stages"
ok "cmp -s p.geojsonl.rejects.csv n.geojsonl.rejects.csv" "rejects: the same bytes with and without it"
ok "! grep -q 'stage profile' n.err" "no table without the flag"
read_rows=$(sed -n 's/^geoflux: read \([0-9]*\),.*/\1/p' p.err)
# the table, parsed: name, cpu s, µs/row (and the commit wait's wall time)
python3 - "$read_rows" p.err > p.parsed <<'EOF'
import re, sys
rows = int(sys.argv[1])
lines = open(sys.argv[2], encoding='utf-8').read().splitlines()
head = [l for l in lines if l.startswith('geoflux: stage profile: ')]
assert len(head) == 1, head
m = re.match(r'geoflux: stage profile: (\d+) rows, (\d+) threads', head[0])
assert m and int(m.group(1)) == rows and int(m.group(2)) == 2, (head, rows)
i = lines.index(head[0])
assert re.match(r'geoflux: +stage +cpu s +µs/row$', lines[i + 1]), lines[i + 1]
total = 0.0
for l in lines[i + 2:]:
    m = re.match(r'geoflux:   (.+?) +(\d+\.\d{6}) +(\d+\.\d{3})( \(waited (\d+\.\d{6}) s\))?$', l)
    assert m, 'unparsed line: ' + l
    name, cpu, us = m.group(1), float(m.group(2)), float(m.group(3))
    assert abs(us - cpu * 1e6 / rows) < 0.002 + 1e-6 * us, (l, rows)
    if name.startswith('total'): assert abs(cpu - total) < 2e-6 + cpu * 1e-6 or cpu >= total, (total, l)
    else: total += cpu
    print(name)
EOF
ok "[ \$? -eq 0 ]" "every line of the table parses; µs/row = cpu s / $read_rows rows read; the total holds the lines"
ok "[ \"\$(tr '\n' '|' < p.parsed)\" = 'read+tokenise|validation|typing|reprojection|write p.geojsonl|rejects p.geojsonl.rejects.csv|commit wait|other (no stage'\"'\"'s thread)|total (process CPU)|' ]" \
   "the default job's stages, in order, and no other ($(tr '\n' '|' < p.parsed))"
ok "awk '/read\\+tokenise/ && \$(NF-1) > 0 {f=1} END {exit !f}' p.err" "reading took some CPU (the clock is read)"

# every stage: harmonise, join, two outputs, -j 1 and -j 2, in the JSON summary
J="--communes $B --harmonise -o h.geojsonl -o h.gpkg"
"$GF" convert $IN $J -j 2 --profile-stages -q --summary json > h.json 2> h.err; rc=$?
ok "[ $rc -eq 0 ] && [ ! -s h.err ]" "-q --summary json: the profile in the JSON, nothing on stderr ($(head -1 h.err))"
ok "python3 -c \"
import json; s = json.load(open('h.json')); p = s['profile']
names = [(l['stage'], l.get('output')) for l in p['stages']]
assert names == [('read+tokenise', None), ('harmonise', None), ('validation', None), ('typing', None), ('reprojection', None),
                 ('join', None), ('write', 'h.geojsonl'), ('write', 'h.gpkg'), ('rejects', 'h.geojsonl.rejects.csv'),
                 ('commit wait', None)], names
assert p['rows'] == s['read'] and p['threads'] == 2
for l in p['stages']:
    assert l['rows'] == s['read'] and l['cpu_s'] >= 0 and abs(l['us_per_row'] - l['cpu_s'] * 1e6 / s['read']) < 0.002, l
assert 'wait_s' in p['stages'][-1] and p['process_cpu_s'] >= p['other_cpu_s'] >= 0
\"" "--summary json: every stage of the job, rows = read, µs/row from cpu_s"
"$GF" convert $IN --communes $B --harmonise -o h1.geojsonl -o h1.gpkg -j 1 -q
ok "cmp -s h.geojsonl h1.geojsonl && cmp -s h.gpkg h1.gpkg" "NDJSON and GeoPackage: -j 2 with the profile = -j 1 without"
"$GF" convert $IN -o v.csv --to-bal 1.4 --profile-stages -q --summary json > v.json
"$GF" convert $IN -o v1.csv --to-bal 1.4 -q
ok "cmp -s v.csv v1.csv && python3 -c \"import json; p = json.load(open('v.json'))['profile']; assert [l['stage'] for l in p['stages']][-3:] == ['write', 'rejects', 'commit wait']\"" \
   "--to-bal: the BAL file unchanged, its writer profiled"

# refused
err() { "$GF" convert $IN -o r.geojsonl "$@" > /dev/null 2> e.txt; echo $?; }
ok "[ \$(err --profile-stages -q) -eq 2 ] && grep -q 'profile-stages' e.txt && [ ! -e r.geojsonl ]" "-q would hide the table: refused"
ok "[ \$(err --profile-stages=yes) -eq 2 ] && grep -q 'profile-stages' e.txt" "--profile-stages takes no value"
ok "[ \$(err --profile 1.9) -eq 2 ] && grep -q 'BAL profile' e.txt" "--profile is still the BAL profile"
gf_test_end
