#!/usr/bin/env python3
"""Parity check: geoflux validate vs the reference validator (node).

usage: compare.py GEOFLUX SRCDIR FILE...
For each file: same verdict (valid / invalid) and the same set of row-level
codes (every level), else prints the difference. Exit 1 on any mismatch.
"""
import json, os, subprocess, sys

geoflux, srcdir, files = sys.argv[1], sys.argv[2], sys.argv[3:]
ref = {}
p = subprocess.run(["node", os.path.join(srcdir, "tests/parity/ref_validate.js")] + files,
                   capture_output=True, text=True, timeout=600)
for line in p.stdout.splitlines():
    if line.startswith("{"):
        o = json.loads(line)
        ref[o["file"]] = o
bad = 0
for f in files:
    r = ref.get(f)
    if r is None or "exception" in r:
        print("REF-FAIL %s: %s" % (f, r and r.get("exception"))); bad += 1; continue
    g = subprocess.run([geoflux, "validate", "--format", "json", f], capture_output=True, text=True)
    try:
        o = json.loads(g.stdout.splitlines()[0])
    except Exception:
        print("GEOFLUX-FAIL %s: exit %d %s" % (f, g.returncode, g.stderr.strip())); bad += 1; continue
    want_exit = 0 if o["valid"] else 1
    codes = set()
    for k in ("errors", "warnings", "infos"):
        codes |= {c for c in o.get(k, {}) if not c.split(".")[0] in ("field", "file", "rows")}
    gerr = {c for c in o.get("errors", {}) if not c.split(".")[0] in ("field", "file", "rows")}
    rcodes = set(r.get("rowCodes", []))
    ok = o["valid"] == r["valid"] and g.returncode == want_exit
    if r.get("parseOk", True):
        ok = ok and codes == rcodes and gerr == set(r.get("rowErrors", []))
    name = os.path.basename(f)
    if ok:
        print("ok   %-40s %s %s" % (name, "valid  " if r["valid"] else "invalid", ",".join(sorted(rcodes))[:90]))
    else:
        bad += 1
        print("DIFF %-40s ref valid=%s geoflux valid=%s (exit %d)" % (name, r["valid"], o["valid"], g.returncode))
        print("     only in reference: %s" % sorted(rcodes - codes))
        print("     only in geoflux:   %s" % sorted(codes - rcodes))
        if gerr != set(r.get("rowErrors", [])):
            print("     E-level: ref %s geoflux %s" % (sorted(r.get("rowErrors", [])), sorted(gerr)))
print("%d files, %d mismatches" % (len(files), bad))
sys.exit(1 if bad else 0)
