#!/usr/bin/env python3
"""Synthetic BAL 1.4 file for the validation benchmark (the BAN-layout
extract of gen_extract.py is not a BAL file). Rows reuse the positions,
parcels and street names of the real BAL of Bruz (data/samples/bal/
bal_35047_v1.3.csv, consistent x/y and long/lat) and spread them over as
many streets and numbers as needed; BAN ids are random UUID v4, one commune
id. The file is valid for the reference validator (warnings at most).

usage: gen_bal.py --rows N -o FILE [--seed S]
"""
import argparse, os, random, uuid

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=100000)
ap.add_argument("-o", "--output", required=True)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rnd = random.Random(a.seed)
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data/samples/bal/bal_35047_v1.3.csv")
lines = open(src, encoding="utf-8-sig").read().splitlines()
h = lines[0].split(";")
ix = {n: i for i, n in enumerate(h)}
base = []
for l in lines[1:]:
    r = l.split(";")
    if r[ix["numero"]] == "99999" or not r[ix["position"]]:
        continue
    base.append(r)
streets = sorted({r[ix["voie_nom"]] for r in base})

def u4():
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))

def code4(i):
    s = ""
    for _ in range(4):
        s = "0123456789abcdefghijklmnopqrstuvwxyz"[i % 36] + s
        i //= 36
    return s

out = open(a.output, "w", encoding="utf-8", newline="\n")
out.write("id_ban_commune;id_ban_toponyme;id_ban_adresse;cle_interop;commune_insee;commune_nom;"
          "commune_deleguee_insee;commune_deleguee_nom;voie_nom;lieudit_complement_nom;numero;suffixe;"
          "position;x;y;long;lat;cad_parcelles;source;date_der_maj;certification_commune\n")
commune = u4()
n, s = 0, 0
per_street = 60
while n < a.rows:
    name = "%s %d" % (streets[s % len(streets)], s // len(streets) + 1) if s >= len(streets) else streets[s]
    topo, code = u4(), code4(s + 1)
    for k in range(1, per_street + 1):
        if n >= a.rows:
            break
        r = base[rnd.randrange(len(base))]
        out.write(";".join([commune, topo, u4(), "35047_%s_%05d" % (code, k), "35047", "Bruz", "", "", name, "",
                            str(k), "", r[ix["position"]], r[ix["x"]], r[ix["y"]], r[ix["long"]], r[ix["lat"]],
                            r[ix["cad_parcelles"]], "Rennes Métropole", r[ix["date_der_maj"]], "1"]) + "\n")
        n += 1
    s += 1
out.close()
