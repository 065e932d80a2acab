#!/usr/bin/env bash
# Rewrites tests/golden/<case>/expected/ from the current build. Review the
# diff before committing: a golden change is a behaviour change.
# Usage: tools/regen-golden.sh [CASE...]
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-$PWD/build/geoflux}
cases=("$@"); [ ${#cases[@]} -gt 0 ] || cases=($(ls tests/golden))
for name in "${cases[@]}"; do
  C=$PWD/tests/golden/$name; O=$(mktemp -d)
  S=$PWD/data/samples C="$C" O="$O" GF="$GF" bash -c 'eval "\"$GF\" $(cat "$C/args")"' > /dev/null 2>&1 || true
  for exp in "$C"/expected/*; do cp "$O/$(basename "$exp")" "$exp"; done
  rm -rf "$O"
  echo "regenerated $name"
done
