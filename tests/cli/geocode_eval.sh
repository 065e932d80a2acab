#!/usr/bin/env bash
# Geocoding quality on real addresses typed the way people type them
# (tests/geocode-eval/): >= 99.5 % within 25 m, no false housenumber match with
# score > 0.8. Usage: geocode_eval.sh GEOFLUX SRCDIR OUTDIR
set -u
exec /usr/bin/python3 "$2/tests/geocode-eval/run_eval.py" "$1" "$2" "$3"
