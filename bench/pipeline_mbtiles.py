#!/usr/bin/python3
"""Writes the tiles that PostGIS's ST_AsMVT made into an MBTiles file, as a
PostGIS user's tile export script would: reads "z<TAB>x<TAB>y<TAB>hex" lines
(XYZ scheme, y from the top) from standard input, gzips each tile and stores
it in the MBTiles (TMS) scheme with the metadata MapLibre needs.

usage: psql ... -c "COPY (...) TO STDOUT" | /usr/bin/python3 bench/pipeline_mbtiles.py OUT.mbtiles MINZOOM MAXZOOM
"""
import gzip
import json
import sqlite3
import sys


def main(out, minz, maxz):
    db = sqlite3.connect(out)
    db.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                     "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);")
    n = 0
    rows = []
    for line in sys.stdin:
        z, x, y, h = line.rstrip("\n").split("\t")
        z, x, y = int(z), int(x), int(y)
        rows.append((z, x, (1 << z) - 1 - y, gzip.compress(bytes.fromhex(h[2:] if h.startswith("\\x") else h), 6)))
        n += 1
        if len(rows) >= 10000:
            db.executemany("INSERT INTO tiles VALUES (?,?,?,?)", rows)
            rows.clear()
    db.executemany("INSERT INTO tiles VALUES (?,?,?,?)", rows)
    db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
    meta = {"name": "addresses", "format": "pbf", "minzoom": minz, "maxzoom": maxz,
            "json": json.dumps({"vector_layers": [{"id": "addresses", "minzoom": int(minz), "maxzoom": int(maxz)}]})}
    db.executemany("INSERT INTO metadata VALUES (?,?)", meta.items())
    db.commit()
    print(f"mbtiles: {n} tiles", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
