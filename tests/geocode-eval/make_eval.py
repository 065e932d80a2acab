#!/usr/bin/env python3
"""Builds the geocoding evaluation set from real address files.

Every numbered address of the real BAL/BAN samples below becomes one query,
rewritten the way people type addresses: abbreviated street types, lost
accents, upper or lower case, a one-letter typo (substitution, deletion,
insertion, transposition), suffix spellings (12bis, 12 BIS, 12 b), a missing
postcode, CEDEX / building / floor mentions. The true position is the
file's own. Deterministic (fixed seed): the set only changes with this script.

usage: make_eval.py SRCDIR OUT.csv   (prints the address files to index, one per line)
Columns: adresse,postcode,city,variant,true_lon,true_lat,true_number
"""
import csv, gzip, io, random, sys, unicodedata

SRC, OUT = sys.argv[1], sys.argv[2]
S = SRC + "/data/samples"
# Mont-Bonvillers is in both the BAN extract and a BAL (adresses-54084.csv) with
# different positions; the evaluation indexes the BAN one only.
FILES = [S + "/bal/bal_35047_v1.3.csv", S + "/bal/test-valid.csv", S + "/bal/bal_simple_v1.3.csv",
         S + "/ban/adresses-54.csv.gz"]
rng = random.Random(20261123)

def rows(path):
    raw = gzip.open(path, "rb").read() if path.endswith(".gz") else open(path, "rb").read()
    text = raw.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))

postcodes = {}
with gzip.open(S + "/reference/laposte-codes-postaux.csv.gz", "rt", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        postcodes.setdefault(r["code_commune_insee"], r["code_postal"])

ABBR = {"rue": "R.", "avenue": "Av", "boulevard": "Bd", "chemin": "Ch.", "impasse": "Imp", "place": "Pl",
        "route": "Rte", "saint": "St", "sainte": "Ste", "lotissement": "Lot", "résidence": "Rés", "allée": "All",
        "square": "Sq", "faubourg": "Fg"}

def strip_accents(s):
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")

def abbreviate(name):
    out = []
    for w in name.split(" "):
        a = ABBR.get(w.lower())
        out.append(a if a else w)
    return " ".join(out)

def typo(name):
    # one edit inside a word of 5+ letters that is not the street type
    words = name.split(" ")
    cand = [i for i, w in enumerate(words) if i > 0 and len(w) >= 5 and w.isalpha()]
    if not cand:
        return None
    i = rng.choice(cand)
    w = words[i]
    k = rng.randrange(1, len(w) - 1)
    op = rng.choice("sdit")
    if op == "s":
        c = rng.choice("abcdefghijklmnopqrstuvwxyz".replace(w[k].lower(), ""))
        w = w[:k] + c + w[k + 1:]
    elif op == "d":
        w = w[:k] + w[k + 1:]
    elif op == "i":
        w = w[:k] + rng.choice("aeiourstnl") + w[k:]
    else:
        if w[k] == w[k + 1]:
            return None
        w = w[:k] + w[k + 1] + w[k] + w[k + 2:]
    words[i] = w
    return " ".join(words)

def number(num, sfx, style, taken=()):
    if not sfx:
        return num
    s = sfx.lower()
    if style == 3 and s[:1] in taken:
        style = 0  # "12 b" would name another address ("12 b" and "12 bis" both exist)
    if style == 0: return f"{num} {s}"
    if style == 1: return f"{num}{s}"
    if style == 2: return f"{num} {s.upper()}"
    if s in ("bis", "ter") and style == 3: return f"{num} {s[0]}"
    return f"{num} {s}"

seen = set()
addrs = []
taken = {}  # (insee, street, number) -> suffixes that exist
for path in FILES:
    for r in rows(path):
        insee = r.get("commune_insee") or r.get("code_insee") or ""
        voie = r.get("voie_nom") or r.get("nom_voie") or ""
        num = (r.get("numero") or "").strip()
        sfx = (r.get("suffixe") or r.get("rep") or "").strip()
        lon = r.get("long") or r.get("lon")
        lat = r.get("lat")
        city = r.get("commune_nom") or r.get("nom_commune") or ""
        pc = r.get("code_post") or postcodes.get(insee, "")
        if not (insee and voie and num.isdigit() and lon and lat) or num == "99999" or num == "0":
            continue
        key = (insee, voie.lower(), num, sfx.lower())
        if key in seen:
            continue  # one address, several positions: the first is the truth (the index keeps it)
        seen.add(key)
        addrs.append((voie, num, sfx, city, pc, float(lon), float(lat), insee))
        taken.setdefault((insee, voie.lower(), num), set()).add(sfx.lower())

VARIANTS = ["clean", "abbrev", "noaccent", "upper", "lower", "typo", "suffix", "nopostcode", "cedex", "building",
            "floor", "mixed", "notype", "typo_upper"]
out = []
for n, (voie, num, sfx, city, pc, lon, lat, insee) in enumerate(addrs):
    tk = taken[(insee, voie.lower(), num)]
    v = VARIANTS[n % len(VARIANTS)]
    street, postcode, town = voie, pc, city
    nb = number(num, sfx, rng.randrange(4), tk)
    extra_before, extra_after = "", ""
    if v == "abbrev": street = abbreviate(street)
    elif v == "noaccent": street, town = strip_accents(street), strip_accents(town)
    elif v == "upper": street, town = street.upper(), town.upper()
    elif v == "lower": street, town = street.lower(), town.lower()
    elif v == "typo": street = typo(street) or abbreviate(street)
    elif v == "suffix": nb = number(num, sfx or "", rng.randrange(4), tk)
    elif v == "nopostcode": postcode = ""
    elif v == "cedex": extra_after = " CEDEX"
    elif v == "building": extra_before = rng.choice(["Bât. A ", "Batiment B ", "Résidence du Parc Bât 2 "])
    elif v == "floor": extra_after = rng.choice([" 2ème étage", " 1er étage", " RDC"])
    elif v == "notype":
        w = street.split(" ")
        if len(w) > 2 and w[0].lower() in ABBR:
            w = w[1:]  # "12 Victor Hugo" for "12 Rue Victor Hugo", "12 Clos Berhault" for "12 Rue du Clos Berhault"
            while len(w) > 1 and w[0].lower() in ("du", "de", "des", "la", "le", "les", "d'", "l'"):
                w = w[1:]
            street = " ".join(w)
    elif v == "typo_upper": street, town = strip_accents(typo(street) or street).upper(), town.upper()
    elif v == "mixed":
        street = strip_accents(abbreviate(street)).upper()
        postcode = "" if rng.random() < 0.5 else postcode
    out.append((f"{extra_before}{nb} {street}{extra_after}", postcode, town, v, lon, lat, f"{num}{sfx.lower().replace(' ', '')}"))

with open(OUT, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["adresse", "postcode", "city", "variant", "true_lon", "true_lat", "true_number"])
    w.writerows(out)
for p in FILES:
    print(p)
