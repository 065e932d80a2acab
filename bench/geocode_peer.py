#!/usr/bin/env python3
"""Peer for bench/geocode.sh: what a data team writes without a geocoder, an
exact dictionary join in Python on (postcode or city, lower-cased street
without accents, number). Prints: build_seconds query_seconds found within_25m.

usage: geocode_peer.py EXTRACT.csv QUERIES.csv
"""
import csv, math, sys, time, unicodedata

def norm(s):
    s = "".join(c for c in unicodedata.normalize("NFD", s.lower()) if unicodedata.category(c) != "Mn")
    return " ".join(s.replace("-", " ").replace("'", " ").split())

t0 = time.time()
idx = {}
with open(sys.argv[1], encoding="utf-8") as f:
    r = csv.reader(f, delimiter=";")
    h = next(r)
    i = {k: h.index(k) for k in ("numero", "rep", "nom_voie", "code_postal", "nom_commune", "lon", "lat")}
    for row in r:
        if len(row) != len(h):
            continue
        key = (norm(row[i["nom_voie"]]), row[i["numero"]] + row[i["rep"]].lower())
        pos = (row[i["lon"]], row[i["lat"]])
        idx.setdefault((row[i["code_postal"]],) + key, pos)
        idx.setdefault((norm(row[i["nom_commune"]]),) + key, pos)
t1 = time.time()
found = near = 0
with open(sys.argv[2], encoding="utf-8") as f:
    for q in csv.DictReader(f):
        num, _, street = q["adresse"].partition(" ")
        parts = street.split(" ")
        rep = ""
        if parts and parts[0].lower() in ("bis", "ter", "quater", "a", "b", "c"):
            rep = parts.pop(0).lower()
        key = (norm(" ".join(parts)), num + rep)
        pos = idx.get((q["postcode"],) + key) or idx.get((norm(q["city"]),) + key)
        if pos:
            found += 1
            dx = (float(pos[0]) - float(q["true_lon"])) * 111320 * math.cos(math.radians(float(q["true_lat"])))
            dy = (float(pos[1]) - float(q["true_lat"])) * 110574
            near += math.hypot(dx, dy) <= 25
t2 = time.time()
print(f"{t1 - t0:.2f} {t2 - t1:.2f} {found} {near}")
