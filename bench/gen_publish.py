#!/usr/bin/env python3
"""Sources for the publication benchmark (bench/publish.sh): one BAL file per
commune of Haute-Garonne (data/samples/boundaries/communes-31-haute-garonne.geojson,
587 communes), each in its own producer folder, in mixed versions (1.3 with
uid_adresse, 1.4 with BAN ids, 1.5 with toponyme), about ROWS addresses in
all, spread over the communes in proportion to a fixed pseudo-random
weight. Streets get synthetic names, positions lie around the commune's
bounding-box centre (long/lat, 7 decimals; x/y empty), dates are ISO,
certification 1 or 0. Every file is valid for the reference rules.
--change K rewrites K communes (the first K in code order) with 10 % of
their addresses removed and one renamed: the re-run's input.

usage: gen_publish.py --rows N -o DIR [--seed S] [--change K]
"""
import argparse, json, os, random, uuid

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=1000000)
ap.add_argument("-o", "--output", required=True)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--change", type=int, default=0)
a = ap.parse_args()
here = os.path.dirname(os.path.abspath(__file__))
g = json.load(open(os.path.join(here, "..", "data/samples/boundaries/communes-31-haute-garonne.geojson")))
communes = []
for f in g["features"]:
    xs, ys = [], []
    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0]); ys.append(c[1])
        else:
            for k in c: walk(k)
    walk(f["geometry"]["coordinates"])
    communes.append((f["properties"]["code"], f["properties"]["nom"], (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))
communes.sort()
rnd = random.Random(a.seed)
weights = [rnd.random() ** 2 + 0.05 for _ in communes]
tot = sum(weights)
TYPES = ["Rue", "Avenue", "Chemin", "Impasse", "Allée", "Place", "Route"]
NAMES = ["des Lilas", "du Moulin", "de la Gare", "des Écoles", "du Stade", "de l'Église", "des Pins", "du Lac",
         "Jean Jaurès", "Victor Hugo", "de la Mairie", "des Vignes", "du Château", "de la Fontaine", "des Prés"]
H13 = "uid_adresse;cle_interop;commune_insee;commune_nom;commune_deleguee_insee;commune_deleguee_nom;voie_nom;lieudit_complement_nom;numero;suffixe;position;x;y;long;lat;cad_parcelles;source;date_der_maj;certification_commune"
H14 = "id_ban_commune;id_ban_toponyme;id_ban_adresse;cle_interop;commune_insee;commune_nom;commune_deleguee_insee;commune_deleguee_nom;voie_nom;lieudit_complement_nom;numero;suffixe;position;x;y;long;lat;cad_parcelles;source;date_der_maj;certification_commune"
H15 = "id_ban_commune;id_ban_toponyme;id_ban_adresse;cle_interop;commune_insee;commune_nom;commune_deleguee_insee;commune_deleguee_nom;toponyme;lieudit_complement_nom;numero;suffixe;position;x;y;long;lat;cad_parcelles;source;date_der_maj;certification_commune"

def u4(r):
    return str(uuid.UUID(int=r.getrandbits(128), version=4))

total = 0
for ci, (code, name, lon0, lat0) in enumerate(communes):
    r = random.Random(a.seed * 100003 + ci)
    n = max(5, round(a.rows * weights[ci] / tot))
    version = ("1.3", "1.4", "1.5")[ci % 3]
    cid = u4(r)
    nstreets = max(1, n // 40)
    rows = []
    k = 0
    for s in range(nstreets):
        vname = "%s %s %d" % (TYPES[s % len(TYPES)], NAMES[(s // len(TYPES)) % len(NAMES)], s // (len(TYPES) * len(NAMES)) + 1) \
            if s >= len(TYPES) * len(NAMES) else "%s %s" % (TYPES[s % len(TYPES)], NAMES[(s // len(TYPES)) % len(NAMES)])
        tid = u4(r)
        per = n // nstreets + (1 if s < n % nstreets else 0)
        slon, slat = lon0 + r.uniform(-0.02, 0.02), lat0 + r.uniform(-0.015, 0.015)
        for num in range(1, per + 1):
            k += 1
            cle = "%s_%04x_%05d" % (code.lower(), s, num)
            lon, lat = slon + num * 0.00008, slat + r.uniform(-0.0001, 0.0001)
            date = "20%02d-%02d-%02d" % (18 + r.randrange(7), 1 + r.randrange(12), 1 + r.randrange(28))
            cert = "1" if r.random() < 0.7 else "0"
            pos = "entrée"
            if version == "1.3":
                rows.append(";".join([u4(r), cle, code, name, "", "", vname, "", str(num), "", pos, "", "",
                                      "%.7f" % lon, "%.7f" % lat, "", "commune", date, cert]))
            else:
                rows.append(";".join([cid, tid, u4(r), cle, code, name, "", "", vname, "", str(num), "", pos, "", "",
                                      "%.7f" % lon, "%.7f" % lat, "", "commune", date, cert]))
    if ci < a.change:
        # 10 % of the addresses gone, one renamed
        rows = [x for i, x in enumerate(rows) if i % 10 != 3]
        f = rows[0].split(";")
        vi = 6 if version == "1.3" else 8
        f[vi] += " prolongée"
        rows[0] = ";".join(f)
    d = os.path.join(a.output, "producteur-%s" % code)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "bal-%s.csv" % code), "w", encoding="utf-8") as out:
        out.write({"1.3": H13, "1.4": H14, "1.5": H15}[version] + "\n")
        out.write("\n".join(rows) + "\n")
    total += len(rows)
print("%d communes, %d addresses in %s" % (len(communes), total, a.output))
