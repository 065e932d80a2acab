#!/usr/bin/env bash
# Every example of README.md runs as written. The build is installed with
# its install rules (what `make install` does) into OUTDIR/prefix, whose bin/
# goes first on the PATH; then every fenced ```sh block of the README runs,
# in order, with bash -e -o pipefail, in a scratch folder that holds the
# repository's data/, web/, tests/ and tools/ (symlinks) as a fresh clone
# would; each row of the exit-code table must exit with the code it states,
# and the table must list exactly the codes `geoflux --help` prints.
# Usage: readme.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT/work"
fails=0; checks=0
fail() { fails=$((fails+1)); echo "FAIL: $*"; }

# 1. the install rules put geoflux in PREFIX/bin
BUILD=$(cd "$(dirname "$GF")" && pwd)
checks=$((checks+1))
if cmake --install "$BUILD" --prefix "$OUT/prefix" > "$OUT/install.log" 2>&1 && [ -x "$OUT/prefix/bin/geoflux" ] \
   && cmp -s "$OUT/prefix/bin/geoflux" "$GF"; then echo "ok: cmake --install puts geoflux in PREFIX/bin"
else fail "cmake --install: $(tail -3 "$OUT/install.log")"; exit 1; fi
export PATH="$OUT/prefix/bin:$PATH"
[ "$(command -v geoflux)" = "$OUT/prefix/bin/geoflux" ] || { fail "geoflux on the PATH is $(command -v geoflux)"; exit 1; }

for d in data web tests tools; do ln -s "$SRC/$d" "$OUT/work/$d"; done

# 2. the examples and the exit-code table, taken from the README
python3 - "$SRC/README.md" "$OUT" <<'PY' || { echo "FAIL: cannot read the examples of README.md"; exit 1; }
import re, sys
md = open(sys.argv[1], encoding='utf-8').read()
out = sys.argv[2]
blocks = re.findall(r'^```sh\n(.*?)^```$', md, re.S | re.M)
for i, b in enumerate(blocks, 1):
    open('%s/example%02d.sh' % (out, i), 'w', encoding='utf-8').write(b)
sec = md.split('\n## Exit codes\n', 1)[-1].split('\n## ', 1)[0] if '\n## Exit codes\n' in md else ''
rows = re.findall(r'^\| *([0-9]+) *\|[^|]*\| *`([^`]+)` *\|$', sec, re.M)
with open(out + '/exitcodes.tsv', 'w', encoding='utf-8') as f:
    for code, cmd in rows: f.write('%s\t%s\n' % (code, cmd))
PY
n=$(ls "$OUT"/example*.sh 2>/dev/null | wc -l)
checks=$((checks+1)); [ "$n" -ge 5 ] || fail "only $n sh examples found in README.md"
for ex in "$OUT"/example*.sh; do
  checks=$((checks+1))
  name=$(basename "$ex" .sh)
  if (cd "$OUT/work" && bash -e -o pipefail "$ex") > "$OUT/$name.out" 2> "$OUT/$name.err"; then
    echo "ok: $name: $(grep -m1 "geoflux\|install" "$ex" | cut -c1-110)"
  else
    fail "$name exits $?:"; sed 's/^/    /' "$ex"; tail -5 "$OUT/$name.err" | sed 's/^/    stderr: /'
  fi
done

# 3. the exit-code table: each example exits with its code; the codes are
# the ones `geoflux --help` documents
geoflux --help | sed -n '/^exit codes/,$p' | sed -n 's/^ *\([0-9][0-9]*\)  .*/\1/p' | sort -u > "$OUT/help-codes"
cut -f1 "$OUT/exitcodes.tsv" | sort -u > "$OUT/table-codes"
checks=$((checks+1))
if [ -s "$OUT/help-codes" ] && cmp -s "$OUT/help-codes" "$OUT/table-codes"; then
  echo "ok: the exit-code table lists the codes of geoflux --help: $(tr '\n' ' ' < "$OUT/help-codes")"
else fail "exit codes: geoflux --help says [$(tr '\n' ' ' < "$OUT/help-codes")], README table [$(tr '\n' ' ' < "$OUT/table-codes")]"; fi
row=0
while IFS=$'\t' read -r want cmd; do
  checks=$((checks+1)); row=$((row+1))
  (cd "$OUT/work" && mkdir -p out && bash -c "$cmd") > "$OUT/exit$row.out" 2> "$OUT/exit$row.err"; rc=$?
  if [ "$rc" = "$want" ]; then echo "ok: exit $want: $cmd"
  else fail "exit code table: '$cmd' exits $rc, the README says $want: $(tail -2 "$OUT/exit$row.err")"; fi
done < "$OUT/exitcodes.tsv"

echo "readme: $((checks - fails)) passed, $fails failed"
[ $fails -eq 0 ]
