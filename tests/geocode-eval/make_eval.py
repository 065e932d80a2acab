#!/usr/bin/env python3
"""Builds the geocoding evaluation set from real address files.

Every numbered address of the real BAL/BAN samples below becomes one query,
rewritten the way people type addresses: abbreviated street types, lost
accents, upper or lower case, a one-letter typo (substitution, deletion,
insertion, transposition), suffix spellings (12bis, 12 BIS, 12 b), a missing
postcode, CEDEX / building / floor mentions. The true position is the
file's own. Deterministic (fixed seed): the set only changes with this script.

Two more families of queries name places the address files hold besides the
street: the lieu-dit complement (lieudit_complement_nom) of an address instead
of its street ("71 la Bobinais") or after it ("71 Avenue Alphonse Legault la
Bobinais"), for the (lieu-dit, number) pairs that name one address only; and
the commune déléguée instead of the commune or after the street. No sample has
communes déléguées, so the Corps-Nuds BAL is indexed as a copy (written next
to OUT.csv) whose addresses lie in a commune déléguée "Ancienne Commune"
(35999), the way a commune nouvelle's BAL gives them.

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

SHORT = {"de", "des", "du", "la", "le", "les", "d'", "l'"}

def space_moved(name):
    # a blank moved by one letter across a word boundary: "Rue desC harmilles", "Rued es Charmilles"
    words = name.split(" ")
    if len(words) < 2:
        return None
    i = rng.randrange(1, len(words))
    a, b = words[i - 1], words[i]
    if rng.random() < 0.5 and len(b) > 2:
        a, b = a + b[0], b[1:]
    elif len(a) > 2:
        a, b = a[:-1], a[-1] + b
    else:
        return None
    words[i - 1:i + 1] = [a, b]
    return " ".join(words)

def space_lost(name):
    # two words glued: "Rue desl'Orguenais", "ImpGwilen", "Rueades" (with a stray letter, sometimes)
    words = name.split(" ")
    if len(words) < 2:
        return None
    i = rng.randrange(1, len(words))
    glue = rng.choice(["", "", "", "a"])
    words[i - 1:i + 1] = [words[i - 1] + glue + words[i]]
    return " ".join(words)

def space_split(name):
    # a long word cut in two: "Rue des Char milles"
    words = name.split(" ")
    cand = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not cand:
        return None
    i = rng.choice(cand)
    k = rng.randrange(2, len(words[i]) - 2)
    words[i] = words[i][:k] + " " + words[i][k:]
    return " ".join(words)

def short_word(name):
    # a short word mangled: "eds" for "des", "dos", "dr la" for "de la", "duC"
    words = name.split(" ")
    cand = [i for i, w in enumerate(words) if w.lower() in ("de", "des", "du", "la", "le", "les")]
    if not cand:
        return None
    i = rng.choice(cand)
    w = words[i]
    op = rng.choice("stx")
    if op == "s":
        k = rng.randrange(len(w))
        w = w[:k] + rng.choice("aeiorsu".replace(w[k], "")) + w[k + 1:]
    elif op == "t" and len(w) >= 3:
        w = w[1] + w[0] + w[2:]
    else:
        w = w + rng.choice("aeils")
    words[i] = w
    return " ".join(words)

def notype_typo(name):
    w = name.split(" ")
    if len(w) > 2 and w[0].lower() in ABBR:
        w = w[1:]
        while len(w) > 1 and w[0].lower() in ("du", "de", "des", "la", "le", "les", "d'", "l'"):
            w = w[1:]
        t = typo(" ".join(["x"] + w))  # "x": typo() leaves the first word (the type) alone
        return t.split(" ", 1)[1] if t else None
    return None

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

# the Corps-Nuds BAL, its addresses in a commune déléguée (see above)
import os
OLDCITY, OLDCODE = "Ancienne Commune", "35999"
DELEG = os.path.join(os.path.dirname(os.path.abspath(OUT)), "bal_simple_deleguee.csv")
with open(S + "/bal/bal_simple_v1.3.csv", encoding="utf-8-sig") as f:
    src = list(csv.reader(f, delimiter=";"))
with open(DELEG, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, delimiter=";")
    w.writerow(src[0])
    a, b = src[0].index("commune_deleguee_insee"), src[0].index("commune_deleguee_nom")
    for r in src[1:]:
        r[a], r[b] = OLDCODE, OLDCITY
        w.writerow(r)
INDEXED = [DELEG if p.endswith("bal_simple_v1.3.csv") else p for p in FILES]

# homonym streets of a commune nouvelle: no sample has them either, so the
# Corps-Nuds BAL is copied twice into a made-up commune nouvelle "Val-Commun",
# once per commune déléguée: "Ancien-Nord" (35996) where the addresses are,
# "Ancien-Sud" (35997) 0.02 degree (2.2 km) north of them; every street name
# is then borne by two streets of one commune. Its code is a real one
# (Combourtille's, one postcode, no ligne 5 in La Poste's base): the index
# build validates its rows and does not index a commune code the COG lacks;
# its postcode is made up, so La Poste's base cannot lead a query to it
HOMCITY, HOMCODE, HOMPC = "Val-Commun", "35086", "35998"
HOMOLD = [("Ancien-Nord", "35996", 0.0), ("Ancien-Sud", "35997", 0.02)]
HOMON = os.path.join(os.path.dirname(os.path.abspath(OUT)), "bal_homonymes.csv")
with open(HOMON, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, delimiter=";")
    w.writerow(src[0] + ["code_postal"])  # La Poste's base does not know the made-up commune
    ix = {k: i for i, k in enumerate(src[0])}
    for name, code, dlat in HOMOLD:
        for r in src[1:]:
            t = list(r) + [HOMPC]
            t[ix["commune_insee"]], t[ix["commune_nom"]] = HOMCODE, HOMCITY
            t[ix["commune_deleguee_insee"]], t[ix["commune_deleguee_nom"]] = code, name
            t[ix["cle_interop"]] = HOMCODE + t[ix["cle_interop"]][5:]
            t[ix["uid_adresse"]] = t[ix["x"]] = t[ix["y"]] = ""  # the position is long/lat's
            t[ix["lat"]] = "%.7f" % (float(t[ix["lat"]]) + dlat)
            w.writerow(t)
INDEXED.append(HOMON)

seen = set()
addrs = []
lieudits = []  # (lieu-dit, street, number, suffix, city, postcode, lon, lat)
ld_count = {}
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
        ld = (r.get("lieudit_complement_nom") or r.get("nom_ld") or "").strip().strip('"').strip()
        if ld and strip_accents(ld.lower()) != strip_accents(voie.lower()):  # BAN: nom_ld is often nom_voie again
            lieudits.append((ld, voie, num, sfx, city, pc, float(lon), float(lat), insee))
            k = (insee, ld.lower(), num, sfx.lower())
            ld_count[k] = ld_count.get(k, 0) + 1
        taken.setdefault((insee, voie.lower(), num), set()).add(sfx.lower())

VARIANTS = ["clean", "abbrev", "noaccent", "upper", "lower", "typo", "suffix", "nopostcode", "cedex", "building",
            "floor", "mixed", "notype", "typo_upper", "space_moved", "space_lost", "space_split", "short_word",
            "notype_typo", "pc_middle", "city_first"]
FREE = ("pc_middle", "city_first")  # everything in the one free-text column
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
    elif v == "space_moved": street = space_moved(street) or street
    elif v == "space_lost": street = space_lost(street) or street
    elif v == "space_split": street = space_split(street) or street
    elif v == "short_word": street = short_word(street) or space_moved(street) or street
    elif v == "notype_typo": street = notype_typo(street) or typo(street) or street
    elif v == "mixed":
        street = strip_accents(abbreviate(street)).upper()
        postcode = "" if rng.random() < 0.5 else postcode
    q = f"{extra_before}{nb} {street}{extra_after}"
    if v == "pc_middle":
        q, postcode, town = f"{nb} {street} {postcode} {town}", "", ""
    elif v == "city_first":
        q, postcode, town = f"{postcode} {town} {nb} {street}", "", ""
    out.append((q, postcode, town, v, lon, lat, f"{num}{sfx.lower().replace(' ', '')}"))

# places besides the street (after the main set: its rows stay as they were)
for n, (ld, voie, num, sfx, city, pc, lon, lat, insee) in enumerate(lieudits):
    if ld_count[(insee, ld.lower(), num, sfx.lower())] != 1:
        continue  # "12 Pont-Réan": the 12 of which street?
    nb = number(num, sfx, 1)
    truth = f"{num}{sfx.lower().replace(' ', '')}"
    out.append((f"{nb} {ld}", pc, city, "lieudit", lon, lat, truth))
    out.append((f"{nb} {voie} {ld}", pc, city, "lieudit_with", lon, lat, truth))
for (voie, num, sfx, city, pc, lon, lat, insee) in addrs:
    if insee != "35088":  # Corps-Nuds, indexed with its commune déléguée
        continue
    nb = number(num, sfx, 1)
    truth = f"{num}{sfx.lower().replace(' ', '')}"
    out.append((f"{nb} {voie}", "", OLDCITY, "oldcity", lon, lat, truth))
    out.append((f"{nb} {voie} {OLDCITY} {pc} {city}", "", "", "oldcity_with", lon, lat, truth))

# homonyms of a commune nouvelle: the former commune named as the city, or in
# the text after the street, chooses; unnamed, the answer must say that it is
# ambiguous (run_eval.py checks those rows apart: no position is the truth)
for n, (voie, num, sfx, city, pc, lon, lat, insee) in enumerate(a for a in addrs if a[7] == "35088"):
    nb = number(num, sfx, 1)
    truth = f"{num}{sfx.lower().replace(' ', '')}"
    old, _, dlat = HOMOLD[n % 2]
    out.append((f"{nb} {voie}", "", old, "homonym_old", lon, lat + dlat, truth))
    old, _, dlat = HOMOLD[(n + 1) % 2]
    out.append((f"{nb} {voie} {old} {HOMPC} {HOMCITY}", "", "", "homonym_old_with", lon, lat + dlat, truth))
    out.append((f"{nb} {voie}", HOMPC, HOMCITY, "homonym_none", lon, lat, truth))
# a lieu-dit in place of the commune ("71 Avenue Alphonse Legault", city "la
# Bobinais", no postcode): it names its commune, for the lieux-dits that one
# commune only has in the files
ld_communes = {}
for (ld, voie, num, sfx, city, pc, lon, lat, insee) in lieudits:
    ld_communes.setdefault(strip_accents(ld.lower()), set()).add(insee)
for (ld, voie, num, sfx, city, pc, lon, lat, insee) in lieudits:
    if ld_count[(insee, ld.lower(), num, sfx.lower())] != 1 or len(ld_communes[strip_accents(ld.lower())]) != 1:
        continue
    nb = number(num, sfx, 1)
    truth = f"{num}{sfx.lower().replace(' ', '')}"
    out.append((f"{nb} {voie}", "", ld, "lieudit_city", lon, lat, truth))

with open(OUT, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["adresse", "postcode", "city", "variant", "true_lon", "true_lat", "true_number"])
    w.writerows(out)
for p in INDEXED:
    print(p)
