#!/usr/bin/env bash
# The portal's whole job on one extract, the way GIS teams do it today, in one
# run: join every address to its commune, then write NDJSON, a GeoPackage,
# z0-14 vector tiles and the per-commune statistics.
#   geoflux:   one `convert` pass (validation, x/y vs long/lat check, join, the
#              three outputs and the statistics);
#   ogr2ogr:   one command per output plus its SQLite-dialect join (load the
#              CSV and the communes into a GeoPackage, join with the R-tree,
#              then NDJSON, GPKG, statistics, MBTiles);
#   GeoPandas: read_csv + sjoin + to_file (NDJSON, GPKG) + groupby, in one
#              process (bench/pipeline_geopandas.py); it has no tile writer;
#   PostGIS:   a throw-away cluster on a Unix socket in a temp dir (tuned for
#              bulk loads: fsync off, unlogged tables): COPY, points, GiST join,
#              ogr2ogr out of the database for NDJSON and GPKG, ST_Transform +
#              ST_AsMVT for the tiles (one point per 1/256 of a tile below
#              z14, every point at z14, as geoflux and GDAL thin), written to
#              MBTiles by bench/pipeline_mbtiles.py.
# Then each single-output job against ogr2ogr's (NDJSON, GPKG). Prints seconds
# and peak RSS per step and chain, and the ratios. A peer step still running
# after GF_PEER_TIMEOUT seconds (default 600) is stopped: its chain's time is
# then a lower bound, printed with '>'.
# Env: GF (binary), GF_BENCH_EXTRACT (BAN-format CSV), set by bench/run.
# Needs Debian's gdal-bin, python3-geopandas, python3-rtree, postgresql-15-postgis-3.
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
IN=${GF_BENCH_EXTRACT:-bench/out/adresses-31-synth-1000000.csv}
[ -s "$IN" ] || /usr/bin/python3 tools/gen_extract.py --rows 1000000 -o "$IN"
B=data/samples/boundaries/communes-31-haute-garonne.geojson
TMO=${GF_PEER_TIMEOUT:-600}
for c in ogr2ogr /usr/lib/postgresql/15/bin/initdb; do
  command -v "$c" >/dev/null || { echo "pipeline.sh: $c missing (apt-get install gdal-bin postgresql-15-postgis-3)" >&2; exit 2; }
done
# PostgreSQL without PostGIS would only fail once the other chains ran
[ -f /usr/share/postgresql/15/extension/postgis.control ] ||
  { echo "pipeline.sh: PostGIS missing (apt-get install postgresql-15-postgis-3)" >&2; exit 2; }
/usr/bin/python3 -c "import geopandas, rtree" 2>/dev/null || { echo "pipeline.sh: apt-get install python3-geopandas python3-rtree" >&2; exit 2; }
O=$(realpath -m bench/out/pipeline); rm -rf "$O"; mkdir -p "$O"
rows=$(($(wc -l < "$IN") - 1))

# t NAME CMD...: one step; its seconds and peak RSS (KB) in $O/NAME.{s,kb};
# a step over the timeout is stopped and marked in $O/NAME.cut.
t() {
  local n=$1; shift
  if ! /usr/bin/time -f "%e %M" -o "$O/$n.time" timeout "$TMO" "$@" >"$O/$n.out" 2>"$O/$n.err"; then
    if grep -q "status 124" "$O/$n.time"; then
      touch "$O/$n.cut"
    else
      echo "!!! step $n failed:" >&2; tail -5 "$O/$n.err" >&2; exit 1
    fi
  fi
  read -r s kb < <(tail -1 "$O/$n.time")
  echo "$s" > "$O/$n.s"; echo "$kb" > "$O/$n.kb"
  printf "  %-58s %9.2f%s %8d\n" "$n" "$s" "$([ -e "$O/$n.cut" ] && echo '+' || echo ' ')" "$((kb / 1024))"
}
# chain NAME STEP...: the sum of the steps' seconds, the largest peak RSS
chain() {
  local n=$1 s=0 kb=0 cut=; shift
  for st in "$@"; do
    s=$(echo "$s + $(cat "$O/$st.s")" | bc -l)
    [ "$(cat "$O/$st.kb")" -gt "$kb" ] && kb=$(cat "$O/$st.kb")
    [ -e "$O/$st.cut" ] && cut='>'
  done
  echo "$s" > "$O/$n.s"; echo "$kb" > "$O/$n.kb"; echo "$cut" > "$O/$n.cut"
  printf "%-60s %s%9.2f  %8d\n" "= $n" "${cut:- }" "$s" "$((kb / 1024))"
}
ratio() { echo "$(cat "$O/$1.s") / $(cat "$O/$2.s")" | bc -l; }

printf "%-60s %10s %8s\n" "step ($rows rows, 587 communes)" "seconds" "peak MB"
echo "geoflux, one pass:"
t gf_all "$GF" convert "$IN" --communes "$B" -o "$O/gf.geojsonl" -o "$O/gf.gpkg" -o "$O/gf.pmtiles" \
  --stats "$O/gf-stats.csv" -q
chain geoflux gf_all

echo "ogr2ogr, one command per output:"
OGR_IN=(-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -oo AUTODETECT_TYPE=YES -a_srs EPSG:4326)
t ogr_load ogr2ogr -f GPKG "$O/ogr-work.gpkg" "$IN" -nln adresses "${OGR_IN[@]}"
t ogr_load_communes ogr2ogr -update "$O/ogr-work.gpkg" "$B" -nln communes
t ogr_join ogr2ogr -f GPKG "$O/ogr-joined.gpkg" "$O/ogr-work.gpkg" -nln addresses -dialect SQLite -sql \
  "SELECT a.*, (SELECT c.code FROM communes c WHERE c.fid IN (SELECT id FROM rtree_communes_geom r
     WHERE r.minx <= ST_MinX(a.geom) AND r.maxx >= ST_MinX(a.geom) AND r.miny <= ST_MinY(a.geom)
       AND r.maxy >= ST_MinY(a.geom)) AND ST_Intersects(a.geom, c.geom) ORDER BY c.code LIMIT 1) AS commune_geo
   FROM adresses a"
t ogr_ndjson ogr2ogr -f GeoJSONSeq "$O/ogr.geojsonl" "$O/ogr-joined.gpkg"
t ogr_stats ogr2ogr -f CSV "$O/ogr-stats.csv" "$O/ogr-joined.gpkg" -dialect SQLite \
  -sql "SELECT commune_geo, count(*) AS rows FROM addresses GROUP BY commune_geo ORDER BY commune_geo"
# the joined GeoPackage is the chain's GPKG output (written by ogr_join)
t ogr_tiles ogr2ogr -f MBTiles "$O/ogr.mbtiles" "$O/ogr-joined.gpkg" -dsco MINZOOM=0 -dsco MAXZOOM=14
chain ogr2ogr ogr_load ogr_load_communes ogr_join ogr_ndjson ogr_stats ogr_tiles

echo "GeoPandas (+ ogr2ogr for the tiles):"
t gp_all /usr/bin/python3 bench/pipeline_geopandas.py "$IN" "$B" "$O"
if [ -e "$O/ogr_tiles.cut" ]; then
  # the same command as ogr2ogr's tile step, on the same rows: not run twice
  cp "$O/ogr_tiles.s" "$O/gp_tiles.s"; cp "$O/ogr_tiles.kb" "$O/gp_tiles.kb"; touch "$O/gp_tiles.cut"
  echo "  gp_tiles: as ogr_tiles (stopped there)"
else
  t gp_tiles ogr2ogr -f MBTiles "$O/gp.mbtiles" "$O/gp.gpkg" -dsco MINZOOM=0 -dsco MAXZOOM=14
fi
chain geopandas gp_all gp_tiles

echo "PostGIS (throw-away cluster; server memory sampled):"
PGB=/usr/lib/postgresql/15/bin
PGD=$(mktemp -d /tmp/gf-pipeline-pg.XXXXXX)
PGUSER_RUN=()
if [ "$(id -u)" -eq 0 ]; then id postgres >/dev/null 2>&1 || { echo "pipeline.sh: no postgres user" >&2; exit 2; }
  chown postgres "$PGD"; PGUSER_RUN=(runuser -u postgres --); fi
pg_stop() { "${PGUSER_RUN[@]}" "$PGB/pg_ctl" -D "$PGD/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGD"; }
trap pg_stop EXIT
"${PGUSER_RUN[@]}" "$PGB/initdb" -D "$PGD/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
"${PGUSER_RUN[@]}" "$PGB/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w start -o "-c listen_addresses='' \
  -c unix_socket_directories=$PGD -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_wal_size=4GB -c shared_buffers=1GB -c work_mem=256MB -c maintenance_work_mem=1GB" >/dev/null
PG=(psql -X -q -v ON_ERROR_STOP=1 -h "$PGD" -U postgres -d postgres)
PGCONN="PG:host=$PGD user=postgres dbname=postgres"
"${PG[@]}" -c "CREATE EXTENSION postgis"
# the server's memory: the sum of its processes' PSS (shared buffers counted once), sampled
( peak=0; while [ -d "$PGD" ]; do
    s=0; for p in $(pgrep -u postgres -f "postgres" || true); do
      v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0); s=$((s + ${v:-0})); done
    [ "$s" -gt "$peak" ] && { peak=$s; echo "$peak" > "$O/pg_server.kb"; }
    sleep 0.2; done ) &
cols=(id id_fantoir numero rep nom_voie code_postal code_insee nom_commune code_insee_ancienne_commune
      nom_ancienne_commune x y lon lat type_position alias nom_ld libelle_acheminement nom_afnor
      source_position source_nom_voie certification_commune cad_parcelles)
ddl=$(printf '%s text,' "${cols[@]}"); ddl=${ddl%,}
tcols=("${cols[@]}" commune_geo commune_geo_nom)
tdl=$(printf '%s text,' "${tcols[@]}"); tsel=$(printf '%s,' "${tcols[@]}")
"${PG[@]}" -c "CREATE UNLOGGED TABLE raw ($ddl); CREATE TYPE tilerow AS (geom geometry, ${tdl%,})"
# COPY refuses a short row: the rows with 23 fields only (the generated file quotes no ';')
t pg_copy bash -c "awk -F';' 'NF == 23' '$IN' | $(printf '%q ' "${PG[@]}") -c \"COPY raw FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';')\""
t pg_load_communes ogr2ogr -f PostgreSQL "$PGCONN" "$B" -nln communes -lco GEOMETRY_NAME=geom -lco UNLOGGED=ON
t pg_join "${PG[@]}" -c "CREATE UNLOGGED TABLE adresses AS SELECT r.*, CASE WHEN lon ~ '^-?[0-9]+(\.[0-9]+)?$'
      AND lat ~ '^-?[0-9]+(\.[0-9]+)?$' AND abs(lon::float8) <= 180 AND abs(lat::float8) <= 85
      THEN ST_SetSRID(ST_MakePoint(lon::float8, lat::float8), 4326) END AS geom FROM raw r;
  CREATE UNLOGGED TABLE joined AS SELECT a.*, c.code AS commune_geo, c.nom AS commune_geo_nom FROM adresses a
    LEFT JOIN LATERAL (SELECT code, nom FROM communes c WHERE ST_Intersects(c.geom, a.geom) ORDER BY code LIMIT 1) c ON true"
t pg_ndjson ogr2ogr -f GeoJSONSeq "$O/pg.geojsonl" "$PGCONN" joined
t pg_gpkg ogr2ogr -f GPKG "$O/pg.gpkg" "$PGCONN" joined -nln addresses
t pg_stats "${PG[@]}" -c "\\copy (SELECT commune_geo, commune_geo_nom, count(*) AS rows FROM joined GROUP BY 1, 2 ORDER BY 1) TO '$O/pg-stats.csv' CSV HEADER"
mvt="COPY (WITH m AS (SELECT ST_Transform(geom, 3857) AS g, ${tsel%,} FROM joined WHERE geom IS NOT NULL),
  c AS (SELECT z, m.*, floor((ST_X(g) + 20037508.342789244) * (1 << z) * 256 / 40075016.68557849)::int8 AS cx,
               floor((20037508.342789244 - ST_Y(g)) * (1 << z) * 256 / 40075016.68557849)::int8 AS cy
        FROM m, generate_series(0, 14) z),
  t AS ((SELECT DISTINCT ON (z, cx, cy) * FROM c WHERE z < 14 ORDER BY z, cx, cy, id) UNION ALL SELECT * FROM c WHERE z = 14)
  SELECT z, cx >> 8, cy >> 8, encode(ST_AsMVT(ROW(ST_AsMVTGeom(g, ST_TileEnvelope(z, (cx >> 8)::int, (cy >> 8)::int)),
         ${tsel%,})::tilerow, 'addresses'), 'hex')
  FROM t GROUP BY z, cx >> 8, cy >> 8 ORDER BY 1, 2, 3) TO STDOUT"
t pg_tiles bash -c "$(printf '%q ' "${PG[@]}") -c $(printf '%q' "$mvt") | /usr/bin/python3 bench/pipeline_mbtiles.py '$O/pg.mbtiles' 0 14"
chain postgis pg_copy pg_load_communes pg_join pg_ndjson pg_gpkg pg_stats pg_tiles
pg_stop; trap - EXIT; wait
printf "  %-58s %9s  %8d\n" "PostGIS server, sum of its processes' PSS, peak" "" "$(($(cat "$O/pg_server.kb" 2>/dev/null || echo 0) / 1024))"

# The chains leave GBs of dirty pages (PostGIS's checkpoint at its stop,
# the peers' outputs) and the extract out of the page cache: whichever tool
# ran first paid for them. So the disk is synced and the extract read
# before, and each job runs three times, alternating, its median kept.
single() { # NAME OUTPUT CMD...: OUTPUT removed before each run
  local n=$1 out=$2; shift 2
  for k in 1 2 3; do rm -f "$out"; t "$n.$k" "$@" > /dev/null; done
  sort -n "$O/$n.1.s" "$O/$n.2.s" "$O/$n.3.s" | sed -n 2p > "$O/$n.s"
  sort -n "$O/$n.1.kb" "$O/$n.2.kb" "$O/$n.3.kb" | tail -1 > "$O/$n.kb"
  # a run stopped at the timeout makes the median a lower bound
  ls "$O/$n".[123].cut > /dev/null 2>&1 && touch "$O/$n.cut"
  printf "  %-58s %9.2f%s %8d\n" "$n (median of 3)" "$(cat "$O/$n.s")" "$([ -e "$O/$n.cut" ] && echo '+' || echo ' ')" \
    "$(($(cat "$O/$n.kb") / 1024))"
}
sync; cat "$IN" > /dev/null
echo "single outputs, geoflux against ogr2ogr (from the CSV, no join):"
single gf_ndjson "$O/gf1.geojsonl" "$GF" convert "$IN" -o "$O/gf1.geojsonl" -q --overwrite
single ogr_ndjson1 "$O/ogr1.geojsonl" ogr2ogr -f GeoJSONSeq "$O/ogr1.geojsonl" "$IN" "${OGR_IN[@]}"
single gf_gpkg "$O/gf1.gpkg" "$GF" convert "$IN" -o "$O/gf1.gpkg" -q --overwrite
single ogr_gpkg1 "$O/ogr1.gpkg" ogr2ogr -f GPKG "$O/ogr1.gpkg" "$IN" "${OGR_IN[@]}" -nln addresses

# the chains wrote the same addresses (geoflux rejects the damaged rows the peers keep or skip)
j() { [ -s "$1" ] && printf "%d features, %d joined" "$(wc -l < "$1")" "$(grep -c '"commune_geo": *"[0-9]' "$1" || true)" || printf "none"; }
echo "NDJSON written: geoflux $(j "$O/gf.geojsonl") ($(tail -n +2 "$O/gf.geojsonl.rejects.csv" 2>/dev/null | grep -c '^' || true) records rejected);" \
  "ogr2ogr $(j "$O/ogr.geojsonl"); GeoPandas $(j "$O/gp.geojsonl"); PostGIS $(j "$O/pg.geojsonl")"
fastest=ogr2ogr
for c in geopandas postgis; do [ "$(echo "$(cat "$O/$c.s") < $(cat "$O/$fastest.s")" | bc -l)" = 1 ] && fastest=$c; done
printf "whole job: geoflux %.2f s; ogr2ogr %s%.2f s (%s%.1fx), GeoPandas %s%.2f s (%s%.1fx), PostGIS %s%.2f s (%s%.1fx)\n" \
  "$(cat "$O/geoflux.s")" \
  "$(cat "$O/ogr2ogr.cut")" "$(cat "$O/ogr2ogr.s")" "$(cat "$O/ogr2ogr.cut")" "$(ratio ogr2ogr geoflux)" \
  "$(cat "$O/geopandas.cut")" "$(cat "$O/geopandas.s")" "$(cat "$O/geopandas.cut")" "$(ratio geopandas geoflux)" \
  "$(cat "$O/postgis.cut")" "$(cat "$O/postgis.s")" "$(cat "$O/postgis.cut")" "$(ratio postgis geoflux)"
printf "fastest peer chain: %s, %s%.1fx geoflux's one pass\n" "$fastest" "$(cat "$O/$fastest.cut")" "$(ratio "$fastest" geoflux)"
ge() { [ -e "$O/$1.cut" ] && echo ">= " || true; }
printf "single outputs: NDJSON ogr2ogr/geoflux %s%.1fx, GPKG ogr2ogr/geoflux %s%.1fx\n" \
  "$(ge ogr_ndjson1)" "$(ratio ogr_ndjson1 gf_ndjson)" "$(ge ogr_gpkg1)" "$(ratio ogr_gpkg1 gf_gpkg)"
printf "peak RSS: geoflux %d MB; ogr2ogr %d MB; GeoPandas %d MB; PostGIS clients %d MB + server %d MB\n" \
  "$(($(cat "$O/geoflux.kb") / 1024))" "$(($(cat "$O/ogr2ogr.kb") / 1024))" "$(($(cat "$O/geopandas.kb") / 1024))" \
  "$(($(cat "$O/postgis.kb") / 1024))" "$(($(cat "$O/pg_server.kb" 2>/dev/null || echo 0) / 1024))"
rm -f "$O"/*.geojsonl "$O"/*.gpkg "$O"/*.mbtiles "$O"/*.pmtiles
