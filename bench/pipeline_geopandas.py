#!/usr/bin/python3
"""The GeoPandas peer of bench/pipeline.sh: the portal's job as a GIS analyst
writes it in Python. One process: read the BAN-format CSV, make points from
lon/lat, spatial-join them to the commune polygons, then write the joined
addresses as NDJSON (GeoJSONSeq) and as a GeoPackage, and the per-commune
statistics as CSV. GeoPandas has no vector-tile writer: bench/pipeline.sh
makes this chain's tiles with ogr2ogr from the GeoPackage written here.

Like geoflux, a point in several (simplified, overlapping) polygons keeps the
lowest commune code; rows whose lon/lat do not parse keep no geometry.

usage: /usr/bin/python3 bench/pipeline_geopandas.py IN.csv BOUNDARIES OUTDIR
(Debian's python3-geopandas; writes OUTDIR/gp.geojsonl, gp.gpkg, gp-stats.csv)
"""
import os
import sys

import geopandas as gpd
import pandas as pd


def main(src, bounds, out):
    df = pd.read_csv(src, sep=";", dtype=str, keep_default_na=False, on_bad_lines="skip", engine="c")
    lon = pd.to_numeric(df["lon"], errors="coerce")
    lat = pd.to_numeric(df["lat"], errors="coerce")
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    com = gpd.read_file(bounds)[["code", "nom", "geometry"]]
    j = gpd.sjoin(pts, com, how="left", predicate="within")
    # one row per address: the lowest code where polygons overlap
    j = j.sort_values("code", kind="stable")
    j = j[~j.index.duplicated(keep="first")].sort_index()
    j = j.drop(columns=["index_right"]).rename(columns={"code": "commune_geo", "nom": "commune_geo_nom"})
    j.to_file(os.path.join(out, "gp.geojsonl"), driver="GeoJSONSeq")
    j.to_file(os.path.join(out, "gp.gpkg"), driver="GPKG", layer="addresses")
    st = j.groupby(["commune_geo", "commune_geo_nom"], dropna=False).size().rename("rows").reset_index()
    st.to_csv(os.path.join(out, "gp-stats.csv"), index=False)
    print(f"geopandas: {len(df)} rows read, {int(j['commune_geo'].notna().sum())} joined", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
