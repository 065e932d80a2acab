#!/bin/bash
# Parity with the reference BAL validator (@ban-team/validateur-bal in
# tests/js/node_modules): same verdict and same set of row-level codes on
# every data/samples/bal file and on a generated corpus of single-defect
# mutations of a valid real BAL. Skips (SKIPPED, exit 77) only when node is absent.
set -u
GF=$1 SRC=$2 OUT=$3
if ! command -v node >/dev/null 2>&1; then
    echo "SKIPPED: node is not installed: the reference validator cannot run"
    exit 77
fi
if [ ! -d "$SRC/tests/js/node_modules/@ban-team/validateur-bal" ]; then
    echo "FAIL: tests/js/node_modules/@ban-team/validateur-bal missing (npm ci in tests/js)"
    exit 1
fi
D="$OUT/validate_parity"
rm -rf "$D"
mkdir -p "$D"
python3 "$SRC/tests/parity/gen_mutations.py" "$SRC" "$D/mut" || exit 1
n=$(ls "$D"/mut/*.csv | wc -l)
if [ "$n" -lt 12 ]; then echo "FAIL: only $n mutations"; exit 1; fi
python3 "$SRC/tests/parity/compare.py" "$GF" "$SRC" "$SRC"/data/samples/bal/*.csv "$D"/mut/*.csv
