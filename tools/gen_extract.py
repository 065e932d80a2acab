#!/usr/bin/env python3
"""Synthetic BAN departmental extract (current 2019+ layout) for benchmarks.

Rows are addresses laid along synthetic streets inside the real Haute-Garonne
commune polygons (data/samples/boundaries/communes-31-haute-garonne.geojson):
each street starts at a random interior point of its commune and numbers run
along it every ~12 m, odd and even on either side, some with bis/ter. x/y are
Lambert-93 computed with the closed-form LCC projection (no PROJ needed), so
the file is self-consistent. Deterministic for a given --seed.

A small share of rows (--dirty, default 0.1 %) is damaged the way real
extracts are: a house number like "12a", a decimal comma in x, coordinates
out of range, an empty street name, a row cut short. They are drawn from a
second random stream, so the clean rows are the same with or without them.

--boundaries FILE (repeatable) lays the rows over other departments' communes
(bench/scale.sh: all six of data/samples/boundaries); the default is
Haute-Garonne's, and its output is the same with or without the option.

usage: python3 tools/gen_extract.py --rows 1000000 -o bench/out/adresses-31-synth.csv [--gzip] [--dirty 0.001]
       [--boundaries FILE ...]
"""
import argparse, gzip, json, math, os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
BOUNDS = os.path.join(HERE, "..", "data", "samples", "boundaries", "communes-31-haute-garonne.geojson")
HEADER = ("id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;"
          "nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;"
          "source_position;source_nom_voie;certification_commune;cad_parcelles")
TYPES = ["Rue", "Avenue", "Chemin", "Impasse", "Place", "Allée", "Route", "Boulevard", "Lotissement", "Résidence"]
NAMES = ["des Lilas", "Jean Jaurès", "de la Mairie", "du Moulin", "des Écoles", "de l'Église", "Victor Hugo",
         "des Pyrénées", "du Stade", "de la Garonne", "Pasteur", "des Acacias", "du Château", "de la Gare",
         "Saint-Exupéry", "des Peupliers", "de Toulouse", "du Lauragais", "des Vignes", "Pierre et Marie Curie",
         "du 8 Mai 1945", "de la Résistance", "des Chênes", "du Canal", "Émile Zola", "de la Fontaine",
         "des Tilleuls", "du Pigeonnier", "d'Occitanie", "des Coteaux", "de Bellevue", "du Parc", "Gambetta",
         "des Jardins", "de la Croix", "des Bleuets", "du Soleil", "des Sports", "Clément Ader", "des Cèdres"]
POSITIONS = ["entrée", "entrée", "entrée", "bâtiment", "parcelle", "délivrance postale", "segment"]

def lambert93(lon, lat):
    """RGF93 / Lambert-93 (EPSG:2154), GRS80, closed form."""
    a, e = 6378137.0, 0.0818191910428158
    l0, p0, p1, p2 = math.radians(3), math.radians(46.5), math.radians(44), math.radians(49)
    x0, y0 = 700000.0, 6600000.0
    def m(p): return math.cos(p) / math.sqrt(1 - (e * math.sin(p)) ** 2)
    def t(p): return math.tan(math.pi / 4 - p / 2) / ((1 - e * math.sin(p)) / (1 + e * math.sin(p))) ** (e / 2)
    n = (math.log(m(p1)) - math.log(m(p2))) / (math.log(t(p1)) - math.log(t(p2)))
    F = m(p1) / (n * t(p1) ** n)
    r0 = a * F * t(p0) ** n
    p, l = math.radians(lat), math.radians(lon)
    r = a * F * t(p) ** n
    th = n * (l - l0)
    return x0 + r * math.sin(th), y0 + r0 - r * math.cos(th)

def rings(geom):
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    return polys

def inside(pt, polys):
    x, y = pt
    res = False
    for poly in polys:
        for ring in poly:
            j = len(ring) - 1
            for i in range(len(ring)):
                xi, yi = ring[i]; xj, yj = ring[j]
                if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                    res = not res
                j = i
    return res

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--dirty", type=float, default=0.001, help="share of damaged rows")
    ap.add_argument("--boundaries", action="append", help="commune polygons (GeoJSON, properties code/nom); repeatable")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    drnd = random.Random(a.seed + 1)
    ndirty = 0
    feats = [f for b in (a.boundaries or [BOUNDS]) for f in json.load(open(b, encoding="utf-8"))["features"]]
    feats.sort(key=lambda f: f["properties"]["code"])
    communes = []
    for f in feats:
        polys = rings(f["geometry"])
        xs = [c[0] for p in polys for r in p for c in r]; ys = [c[1] for p in polys for r in p for c in r]
        communes.append((f["properties"]["code"], f["properties"]["nom"], polys, (min(xs), min(ys), max(xs), max(ys))))
    # Rows per commune: Toulouse-like skew, at least a few per commune.
    weights = [1.0 / (1 + (i % 97)) + 0.05 for i in range(len(communes))]
    rnd.shuffle(weights)
    tot = sum(weights)
    counts = [max(3, int(a.rows * w / tot)) for w in weights]
    diff = a.rows - sum(counts)
    counts[0] += diff
    os.makedirs(os.path.dirname(os.path.abspath(a.output)) or ".", exist_ok=True)
    op = gzip.open if a.gzip else open
    with op(a.output, "wt", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        for (code, nom, polys, bb), n in zip(communes, counts):
            cp = code[:2] + code[2:5] if code[2] != "5" else code[:2] + "000"
            nstreets = max(1, n // 40)
            written = 0
            for s in range(nstreets):
                for _ in range(200):
                    pt = (rnd.uniform(bb[0], bb[2]), rnd.uniform(bb[1], bb[3]))
                    if inside(pt, polys): break
                bearing = rnd.uniform(0, 2 * math.pi)
                name = "%s %s" % (TYPES[s % len(TYPES)], NAMES[(s * 7 + len(code)) % len(NAMES)])
                if s >= len(NAMES): name += " %d" % (s // len(NAMES) + 1)
                voie = "%04d" % (s + 1)
                k = n // nstreets + (1 if s < n % nstreets else 0)
                for j in range(k):
                    num = j + 1
                    rep = "bis" if j % 23 == 5 else ("ter" if j % 41 == 9 else "")
                    along = (num // 2) * 12.0
                    side = 8.0 if num % 2 else -8.0
                    dx = along * math.cos(bearing) - side * math.sin(bearing) + rnd.uniform(-2, 2)
                    dy = along * math.sin(bearing) + side * math.cos(bearing) + rnd.uniform(-2, 2)
                    lat = pt[1] + dy / 111320.0
                    lon = pt[0] + dx / (111320.0 * math.cos(math.radians(pt[1])))
                    x, y = lambert93(lon, lat)
                    cle = "%s_%s_%05d%s" % (code, voie, num, ("_" + rep) if rep else "")
                    f = [cle, "%s_%s" % (code, voie), "%d" % num, rep, name, cp, code, nom, "", "",
                         "%.2f" % x, "%.2f" % y, "%.6f" % lon, "%.6f" % lat, POSITIONS[num % len(POSITIONS)],
                         "", "", nom.upper(), name.upper(), "commune", "commune", "%d" % (1 if j % 3 else 0), ""]
                    if a.dirty > 0 and drnd.random() < a.dirty:
                        ndirty += 1
                        kind = drnd.randrange(5)
                        if kind == 0: f[2] = "%da" % num
                        elif kind == 1: f[10] = f[10].replace(".", ",") + "0000000"
                        elif kind == 2: f[12], f[13], f[10], f[11] = "%.6f" % (lon + 400), "95.000000", "", ""
                        elif kind == 3: f[4] = ""
                        else: f = f[:6]
                    out.write(";".join(f) + "\n")
                    written += 1
    print("wrote %d rows (%d damaged) to %s" % (a.rows, ndirty, a.output), file=sys.stderr)

if __name__ == "__main__":
    main()
