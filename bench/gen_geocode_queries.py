#!/usr/bin/env python3
"""Geocoding benchmark queries drawn from a BAN-format extract (the synthetic
one of tools/gen_extract.py): N addresses, typed the way people type them
(as in tests/geocode-eval: abbreviations, case, lost accents, one typo in
one query out of eight, missing postcode in one out of six). Deterministic.

usage: gen_geocode_queries.py EXTRACT.csv N OUT.csv
Columns: adresse,postcode,city,true_lon,true_lat
"""
import csv, random, sys, unicodedata

src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
ABBR = {"rue": "R.", "avenue": "Av", "boulevard": "Bd", "chemin": "Ch", "impasse": "Imp", "place": "Pl",
        "route": "Rte", "lotissement": "Lot", "résidence": "Res", "allée": "All"}
rows = []
with open(src, encoding="utf-8") as f:
    r = csv.reader(f, delimiter=";")
    h = next(r)
    i = {k: h.index(k) for k in ("numero", "rep", "nom_voie", "code_postal", "nom_commune", "lon", "lat")}
    for k, row in enumerate(r):
        if len(row) != len(h) or not row[i["numero"]].isdigit() or not row[i["nom_voie"]]:
            continue
        # reservoir sampling keeps memory small whatever the extract size
        item = [row[i[c]] for c in ("numero", "rep", "nom_voie", "code_postal", "nom_commune", "lon", "lat")]
        if len(rows) < n:
            rows.append(item)
        else:
            j = rng.randrange(k + 1)
            if j < n:
                rows[j] = item

def noacc(s):
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")

with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["adresse", "postcode", "city", "true_lon", "true_lat"])
    for k, (num, rep, voie, pc, city, lon, lat) in enumerate(rows):
        words = voie.split(" ")
        v = k % 8
        if v == 1: words = [ABBR.get(x.lower(), x) for x in words]
        elif v == 2: words = [noacc(x).upper() for x in words]
        elif v == 3: words = [x.lower() for x in words]
        elif v == 4:
            c = [j for j, x in enumerate(words) if j > 0 and len(x) >= 5 and x.isalpha()]
            if c:
                j = rng.choice(c); x = words[j]; p = rng.randrange(1, len(x) - 1)
                words[j] = x[:p] + x[p + 1:]
        street = " ".join(words)
        nb = num + (" " + rep if rep else "")
        w.writerow([f"{nb} {street}", "" if k % 6 == 5 else pc, city, lon, lat])
