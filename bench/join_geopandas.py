#!/usr/bin/python3
"""The GeoPandas peer of `geoflux convert --communes`: read a BAN-format CSV,
make points from lon/lat, spatial-join them to the commune polygons
(predicate "within"), and write the result as GeoJSONSeq - read + sjoin +
write in one process, as a GIS analyst would do it.

Where simplified polygons overlap, a point joins several communes: like
geoflux, the lowest code is kept. Points in no polygon get no commune
(GeoPandas's sjoin has no nearest-within-distance fallback in 0.12).

Run with Debian's python3-geopandas: /usr/bin/python3 bench/join_geopandas.py IN.csv BOUNDARIES OUT.geojsonl
Compare with geoflux's output (same commune for every point not on a border):
    /usr/bin/python3 bench/join_geopandas.py --compare GEOFLUX.geojsonl GEOPANDAS.geojsonl BOUNDARIES
"""
import json
import sys
import time

import geopandas as gpd
import pandas as pd


def compare(gf_path, gp_path, bounds):
    """Same commune for every point inside a polygon; a difference is only
    allowed for points lying on a boundary (distance < 1e-9 degree)."""
    def load(p, is_gf):
        m = {}
        for line in open(p, encoding="utf-8"):
            f = json.loads(line)
            pr = f["properties"]
            key = pr.get("cle_interop") if is_gf else pr.get("id")
            if is_gf and pr.get("join_status") not in ("match", "mismatch"):
                code = None  # outside: geoflux's nearest-commune fallback has no GeoPandas counterpart
            else:
                code = pr.get("commune_geo")
            m[key] = (code, f["geometry"]["coordinates"] if f.get("geometry") else None)
        return m
    a, b = load(gf_path, True), load(gp_path, False)
    keys = a.keys() & b.keys()
    diff = [k for k in keys if a[k][0] != b[k][0]]
    com = gpd.read_file(bounds)
    border = 0
    for k in diff:
        x, y = a[k][1] or b[k][1]
        from shapely.geometry import Point
        d = com.boundary.distance(Point(x, y)).min()
        if d < 1e-9:
            border += 1
        else:
            print("differ: %s at %.7f %.7f: geoflux %s, geopandas %s (%.2e deg from a border)"
                  % (k, x, y, a[k][0], b[k][0], d), file=sys.stderr)
    same = len(keys) - len(diff)
    print("compared %d points (geoflux %d, geopandas %d): %d same commune, %d differ on a border, %d differ elsewhere"
          % (len(keys), len(a), len(b), same, border, len(diff) - border))
    return 0 if len(diff) == border else 1


def main():
    if sys.argv[1] == "--compare":
        sys.exit(compare(*sys.argv[2:5]))
    src, bounds, out = sys.argv[1:4]
    t0 = time.time()
    df = pd.read_csv(src, sep=";", dtype=str, keep_default_na=False, on_bad_lines="skip")
    lon = pd.to_numeric(df["lon"], errors="coerce")
    lat = pd.to_numeric(df["lat"], errors="coerce")
    ok = lon.between(-180, 180) & lat.between(-90, 90)
    df, lon, lat = df[ok], lon[ok], lat[ok]
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    t1 = time.time()
    com = gpd.read_file(bounds)[["code", "nom", "geometry"]].rename(columns={"code": "commune_geo", "nom": "commune_geo_nom"})
    j = gpd.sjoin(pts, com, how="left", predicate="within")
    # overlaps: one row per point, lowest code first
    j = j.sort_values("commune_geo", kind="stable")
    j = j[~j.index.duplicated(keep="first")].sort_index()
    j = j.drop(columns=["index_right"])
    t2 = time.time()
    j.to_file(out, driver="GeoJSONSeq")
    t3 = time.time()
    print("geopandas: %d points; read %.2f s, sjoin %.2f s (%.2f M points/s), write %.2f s"
          % (len(j), t1 - t0, t2 - t1, len(j) / max(t2 - t1, 1e-9) / 1e6, t3 - t2), file=sys.stderr)


if __name__ == "__main__":
    main()
