"""Compares the shape of one of our answers with a recorded Géoplateforme
example (tests/parity/gpf/README.md): names and JSON types, not values.

  compare.py EXAMPLE.json OURS.json [--required k1,k2,...] [--extra k1,...]

Every member we answer must exist in the example at the same place, with the
same JSON type (an example value of null accepts any type; arrays are
compared item by item against the example's first item), except the names
given with --extra (ours alone, documented in the README). Every name given
with --required must be in each of our features' properties (or result
items). Paths named in OPEN (OpenAPI schema objects) are not looked into.
Prints each difference; exit 1 when there is one."""
import json
import sys

OPEN = {"operations[].parameters[].schema"}


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(v)]


def compare(ex, ours, path, extra, out):
    if ex is None:
        return
    if jtype(ex) != jtype(ours):
        out.append(f"{path or '/'}: {jtype(ours)} where the Géoplateforme has {jtype(ex)}")
        return
    if path in OPEN:
        return
    if isinstance(ex, dict):
        for k, v in ours.items():
            if k not in ex:
                if k not in extra:
                    out.append(f"{path}.{k}: not in the Géoplateforme's answer")
                continue
            compare(ex[k], v, f"{path}.{k}" if path else k, extra, out)
    elif isinstance(ex, list) and ex:
        for v in ours:
            compare(ex[0], v, f"{path}[]", extra, out)


def main():
    a = sys.argv[1:]
    ex, ours = json.load(open(a[0])), json.load(open(a[1]))
    req = extra = ()
    if "--required" in a:
        req = a[a.index("--required") + 1].split(",")
    if "--extra" in a:
        extra = set(a[a.index("--extra") + 1].split(","))
    out = []
    compare(ex, ours, "", extra, out)
    items = [f["properties"] for f in ours.get("features", [])] or ours.get("results", [])
    if req and not items:
        out.append("no feature or result to check the required names on")
    for i, p in enumerate(items):
        for k in req:
            if k not in p:
                out.append(f"item {i}: {k} missing")
    for line in out:
        print(f"{a[1]}: {line}")
    sys.exit(1 if out else 0)


main()
