#!/usr/bin/env python3
"""Writes a corpus of single-defect BAL files for the parity test.

Each file is a real valid BAL (data/samples/bal/bal_simple_v1.3.csv, Corps-Nuds,
or its 1.4 twin with a consistent id_ban_commune) with exactly one defect.
usage: gen_mutations.py SRCDIR OUTDIR   -> OUTDIR/<name>.csv, one per mutation
"""
import os, sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)

def load(name):
    raw = open(os.path.join(src, "data/samples/bal", name), encoding="utf-8-sig").read()
    lines = raw.rstrip("\n").split("\n")
    return lines[0].split(";"), [l.split(";") for l in lines[1:]]

H13, R13 = load("bal_simple_v1.3.csv")
H14, R14 = load("bal_simple_v1.4.csv")
# the 1.4 sample gives each row its own id_ban_commune: make it consistent (valid)
ic = H14.index("id_ban_commune")
for r in R14: r[ic] = R14[0][ic]

def write(name, header, rows, sep=";", eol="\n", enc="utf-8", bom=False):
    data = eol.join(sep.join(r) for r in [header] + rows) + eol
    with open(os.path.join(out, name + ".csv"), "wb") as f:
        if bom: f.write(b"\xef\xbb\xbf")
        f.write(data.encode(enc))

def mut(name, col, value, row=3, base="13"):
    h, rows = (H13, R13) if base == "13" else (H14, R14)
    rows = [list(r) for r in rows]
    rows[row][h.index(col)] = value
    write(name, h, rows)

def swap(name, a, b, row=3):
    rows = [list(r) for r in R13]
    ia, ib = H13.index(a), H13.index(b)
    rows[row][ia], rows[row][ib] = rows[row][ib], rows[row][ia]
    write(name, H13, rows)

def drop_col(name, col):
    i = H13.index(col)
    write(name, [c for k, c in enumerate(H13) if k != i], [[c for k, c in enumerate(r) if k != i] for r in R13])

# the unchanged bases (must be valid for both)
write("base-1.3", H13, [list(r) for r in R13])
write("base-1.4", H14, [list(r) for r in R14])
# field defects
mut("cle-structure", "cle_interop", "35088_0010")
mut("cle-upper", "cle_interop", "35088_B010_00004")
mut("cle-commune", "cle_interop", "99999_0010_00004")
mut("cle-unpadded", "cle_interop", "35088_0010_4")
mut("numero-12a", "numero", "12a")
mut("numero-too-big", "numero", "100000")
mut("numero-prefix", "numero", "04")
mut("position-unknown", "position", "porche")
mut("position-apostrophe", "position", "cage d'escalier")
mut("position-empty", "position", "")
mut("date-bad", "date_der_maj", "2023/13/45")
mut("date-french", "date_der_maj", "15/11/2023")
mut("date-future", "date_der_maj", "2099-01-01")
mut("date-old", "date_der_maj", "2001-01-01")
mut("voie-empty", "voie_nom", "")
mut("voie-upper", "voie_nom", "RUE DE CHANTELOUP")
mut("voie-short", "voie_nom", "Ru")
mut("commune-insee-unknown", "commune_insee", "99999")
mut("commune-nom-wrong", "commune_nom", "Corps Nuds")
mut("suffixe-dash", "suffixe", "-a")
mut("suffixe-long", "suffixe", "abcdefghij")
mut("x-comma", "x", "357853,00")
mut("lat-text", "lat", "quarante-sept")
mut("parcelles-pipe", "cad_parcelles", "|350088000AB0245")
mut("parcelles-short", "cad_parcelles", "35088AB0245")
mut("certification-2", "certification_commune", "2")
mut("uid-bad", "uid_adresse", "@a:not-a-uuid")
mut("source-empty", "source", "")
mut("numero-spaces", "numero", " 4 ")
mut("xy-far", "x", "357000.00")
swap("lonlat-swapped", "long", "lat")
mut("id-ban-adresse-bad", "id_ban_adresse", "fe09df05-3da5-1799-9e3a-0a5709657e4a", base="14")
mut("id-ban-commune-other", "id_ban_commune", "3648a1f3-8909-4aee-b7a4-ed1a8598302f", base="14")
mut("id-ban-toponyme-empty", "id_ban_toponyme", "", base="14")
# file defects
drop_col("missing-long", "long")
drop_col("missing-commune-insee", "commune_insee")
write("latin1", H13, [list(r) for r in R13], enc="latin-1")
write("crlf-bom", H13, [list(r) for r in R13], eol="\r\n", bom=True)
write("cr-only", H13, [list(r) for r in R13], eol="\r")
write("tab-delimited", H13, [list(r) for r in R13], sep="\t")
write("header-only", H13, [])
rows = [list(r) for r in R13]; rows[5] = rows[5][:-2]
write("row-too-short", H13, rows)
