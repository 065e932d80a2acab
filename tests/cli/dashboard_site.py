#!/usr/bin/env python3
"""A fixture SITE for the dashboard's browser test (tests/cli/dashboard.sh):
report.json, communes.geojson and data.js in the shapes of docs/publish.md,
made from a boundaries file. A few communes get each status (published,
unchanged, rejected, conflict, one rejected outside the perimeter, with no
polygon), the others are `missing`. One producer name is HTML, which the
page must show as text. Deterministic: same input, same bytes.
Usage: dashboard_site.py BOUNDARIES.geojson SITE_DIR"""
import json
import os
import sys

src, site = sys.argv[1], sys.argv[2]
features = json.load(open(src, encoding="utf-8"))["features"]
names = {f["properties"]["code"]: f["properties"]["nom"] for f in features}

NONE = dict(producer=None, revision=None, received_at=None, file=None, rows=None, valid_rows=None,
            certified_share=None, repairs={}, errors={}, warnings={}, changes=None, reasons=[])


def commune(code, status, **kw):
    c = dict(code=code, name=kw.pop("name", None) or names[code], status=status, **NONE)
    c.update(kw)
    return c


special = [
    commune("31555", "published", producer="toulouse-metropole", revision=3, received_at="2026-11-30T00:00:00Z",
            file="sources/toulouse-metropole/bal.csv", rows=100, valid_rows=98, certified_share=0.87,
            repairs={"repair.date_fr": 12, "repair.trim": 3},
            errors={"numero.type_invalide": 2},
            warnings={"voie_nom.casse_incorrecte": 3},
            changes={"added": 1, "removed": 0, "modified": 2, "moved": 1},
            reasons=["deletion of 30 % of the published addresses (warning threshold 20 %)"]),
    commune("31069", "unchanged", producer="blagnac", revision=2, received_at="2026-11-29T00:00:00Z",
            file="sources/blagnac/bal.csv", rows=2500, valid_rows=2500, certified_share=0.5512,
            changes={"added": 0, "removed": 0, "modified": 0, "moved": 0}),
    commune("31149", "rejected", producer="colomiers", revision=1, received_at="2026-11-30T00:00:00Z",
            file="sources/colomiers/bal.csv", rows=40, valid_rows=30, certified_share=0.1,
            errors={"cle_interop.invalide": 7, "numero.type_invalide": 3},
            reasons=["only 75 % valid rows (minimum 95 %)",
                     "deletion of 90 % of the published addresses (rejection threshold 80 %)"]),
    commune("31557", "conflict", producer="tournefeuille", revision=None, rows=800, valid_rows=800,
            certified_share=0.25, reasons=["two producers sent this commune: tournefeuille, <b id=\"injected\">x</b>"]),
    commune("31395", "published", producer="<b id=\"injected\">muret</b>", revision=1,
            received_at="2026-11-30T00:00:00Z", file="sources/muret/bal.csv", rows=1200, valid_rows=1190,
            certified_share=0.0, repairs={"repair.xy_to_lonlat": 1200},
            changes={"added": 1200, "removed": 0, "modified": 0, "moved": 0}),
    commune("31044", "published", producer="balma", revision=4, received_at="2026-11-28T00:00:00Z",
            file="sources/balma/bal.csv", rows=7, valid_rows=7, certified_share=1.0,
            changes={"added": 0, "removed": 2, "modified": 1, "moved": 0}),
    # submitted, outside the perimeter: in the report, not on the map
    commune("32013", "rejected", name="Auch", producer="auch", rows=10, valid_rows=10, certified_share=None,
            file="sources/auch/bal.csv", reasons=["commune outside the perimeter (department 31)"]),
]
by_code = {c["code"]: c for c in special}
communes = [by_code.get(code) or commune(code, "missing") for code in sorted(names)]
communes += [c for c in special if c["code"] not in names]
communes.sort(key=lambda c: c["code"])

submissions = [
    {"file": "sources/auch/bal.csv", "producer": "auch", "kind": "bal", "status": "rejected",
     "reason": "commune outside the perimeter", "communes": ["32013"], "rows": 10},
    {"file": "sources/balma/bal.csv", "producer": "balma", "kind": "bal", "status": "accepted", "reason": None,
     "communes": ["31044"], "rows": 7},
    {"file": "sources/blagnac/bal.csv", "producer": "blagnac", "kind": "bal", "status": "unchanged", "reason": None,
     "communes": ["31069"], "rows": 2500},
    {"file": "sources/colomiers/bal.csv", "producer": "colomiers", "kind": "bal", "status": "rejected",
     "reason": "only 75 % valid rows (minimum 95 %)", "communes": ["31149"], "rows": 40},
    {"file": "sources/muret/bal.csv", "producer": "<b id=\"injected\">muret</b>", "kind": "bal", "status": "accepted",
     "reason": None, "communes": ["31395"], "rows": 1200},
    {"file": "sources/toulouse-metropole/bal.csv", "producer": "toulouse-metropole", "kind": "bal",
     "status": "accepted", "reason": None, "communes": ["31555"], "rows": 100},
    {"file": "sources/tournefeuille/bal.csv", "producer": "tournefeuille", "kind": "bal", "status": "conflict",
     "reason": "two producers sent this commune", "communes": ["31557"], "rows": 800},
    {"file": "sources/x/page.csv", "producer": "x", "kind": None, "status": "rejected",
     "reason": "HTML page, not a CSV file", "communes": [], "rows": 0},
]


def count(items, key, values):
    return {v: sum(1 for i in items if i[key] == v) for v in values}


sub_counts = count(submissions, "status", ["accepted", "unchanged", "rejected", "conflict"])
report = {
    "geoflux": "0.1.0",
    "generated_at": "2026-12-02T00:00:00Z",
    "perimeter": {"kind": "department", "value": "31", "communes": len(names)},
    "options": {"min_valid": 0.95, "warn_deletion": 0.2, "max_deletion": 0.8, "prefer": None},
    "counts": {
        "submissions": {"total": len(submissions), **sub_counts},
        "communes": count(communes, "status", ["published", "unchanged", "rejected", "conflict", "missing"]),
        "rows": {"read": sum(s["rows"] for s in submissions),
                 "published": sum(c["valid_rows"] for c in communes if c["status"] == "published"),
                 "rejected": sum(c["rows"] - c["valid_rows"] for c in communes if c["rows"] is not None)},
    },
    # equipments as docs/publish.md shapes them (rows = published + rejected + duplicates)
    "equipments": {"submissions": 2, "rows": 25, "published": 17, "rejected": 6, "duplicates": 2, "repaired": 1,
                   "geocoded": 9, "outside_commune": 1, "without_position": 1, "commune_unknown": 1,
                   "geocode_min_score": 0.7, "warnings": {"coll_siret.checksum": 1}, "errors": {"equip_uid.pattern": 1}},
    "communes": communes,
    "submissions": submissions,
}

geo = {"type": "FeatureCollection", "features": []}
for f in sorted(features, key=lambda f: f["properties"]["code"]):
    c = by_code.get(f["properties"]["code"]) or commune(f["properties"]["code"], "missing")
    ch = c["changes"] or {}
    props = {k: c[k] for k in ("code", "name", "status", "producer", "revision", "rows", "valid_rows",
                               "certified_share")}
    props.update({k: ch.get(k) for k in ("added", "removed", "modified", "moved")})
    geo["features"].append({"type": "Feature", "properties": props, "geometry": f["geometry"]})

os.makedirs(site, exist_ok=True)


def dump(obj):
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


with open(os.path.join(site, "report.json"), "w", encoding="utf-8") as out:
    out.write(dump(report) + "\n")
with open(os.path.join(site, "communes.geojson"), "w", encoding="utf-8") as out:
    out.write(dump(geo) + "\n")
with open(os.path.join(site, "data.js"), "w", encoding="utf-8") as out:
    out.write("window.GF_REPORT = " + dump(report) + ";\nwindow.GF_COMMUNES = " + dump(geo) + ";\n")
