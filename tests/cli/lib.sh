# Shared preamble of the CLI tests (sourced, not run: its name has no
# test of its own because tests/CMakeLists.txt skips lib.sh).
# Usage, at the top of a test: . "$(dirname "$0")/lib.sh" "$@"
# Sets GF (the geoflux binary), SRC (the source tree), OUT (a fresh output
# folder), and ok CONDITION MESSAGE, which counts a check and prints
# "FAIL: MESSAGE" when CONDITION (evaluated) is false; end the test with
# gf_test_end.
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
gf_test_end() { echo "$((checks - fails))/$checks checks passed"; [ $fails -eq 0 ]; }
