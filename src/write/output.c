/* Output format dispatch: the format name (or the path's extension) picks
 * the writer. To add a writer, add its extension and its case below. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "geoflux/gpkg.h"
#include "geoflux/tiles.h"
#include "geoflux/write.h"
#include "write/csv.h"

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

const char *gf_output_format_for_path(const char *path)
{
    static const struct { const char *ext, *fmt; } map[] = {
        {".geojsonl", "geojsonl"}, {".geojsons", "geojsonl"}, {".ndjson", "geojsonl"},
        {".jsonl", "geojsonl"}, {".geojson", "geojson"}, {".json", "geojson"},
        {".gpkg", "gpkg"}, {".pmtiles", "pmtiles"}, {".mbtiles", "mbtiles"},
        {".fgb", "FlatGeobuf"}, {".shp", "ESRI Shapefile"}, {".csv", "csv"},
        {".kml", "KML"}, {".gml", "GML"}, {".sqlite", "SQLite"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (ends_with(path, map[i].ext)) return map[i].fmt;
    return NULL;
}

gf_status gf_output_open(gf_ctx *ctx, const gf_output_opts *opts, const gf_sink_vt **vt, void **st)
{
    const char *fmt = opts->format ? opts->format : gf_output_format_for_path(opts->path);
    if (!fmt && strcmp(opts->path, "-") == 0) fmt = "geojsonl";
    if (!fmt)
        return gf_ctx_err(ctx, GF_ERR_ARG,
                          "%s: cannot tell the output format from the extension; use -f "
                          "(geojson, geojsonl, gpkg, pmtiles, mbtiles, or an OGR driver name)",
                          opts->path);
    if (!strcasecmp(fmt, "geojson")) {
        *vt = &gf_geojson_sink_vt;
        return gf_geojson_open(ctx, opts, 0, st);
    }
    if (!strcasecmp(fmt, "geojsonl") || !strcasecmp(fmt, "ndjson") || !strcasecmp(fmt, "geojsonseq")) {
        *vt = &gf_geojson_sink_vt;
        return gf_geojson_open(ctx, opts, 1, st);
    }
    if (!strcmp(fmt, "csv")) { /* lower case: the native writer; "CSV" is the OGR driver */
        *vt = &gf_csv_sink_vt;
        return gf_csv_writer_open(ctx, opts, st);
    }
    if (!strcmp(fmt, "gpkg")) { /* lower case: the native writer; "GPKG" is GDAL's driver */
        *vt = &gf_gpkg_sink_vt;
        return gf_gpkg_open(ctx, opts, st);
    }
    if (!strcmp(fmt, "pmtiles") || !strcmp(fmt, "mbtiles")) { /* lower case: native tiles; "MBTiles" is GDAL's */
        *vt = &gf_tiles_sink_vt;
        return gf_tiles_open(ctx, opts, fmt[0] == 'p', st);
    }
    /* any other GDAL vector driver; the lower-case tile names stay with the tile writers */
    if (strcmp(fmt, "pmtiles") && strcmp(fmt, "mbtiles") && gf_ogr_driver_ok(fmt)) {
        *vt = &gf_ogr_sink_vt;
        return gf_ogr_open(ctx, opts, fmt, st);
    }
    return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: output format '%s' is not supported", opts->path, fmt);
}

gf_status gf_output_time(gf_ctx *ctx, time_t *out)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!sde || !*sde) {
        *out = time(NULL);
        return GF_OK;
    }
    /* the reproducible-builds spec: a decimal count of seconds; anything
     * else is refused rather than read as 0 (1970) */
    char *end;
    errno = 0;
    long long v = strtoll(sde, &end, 10);
    if (errno || *end || end == sde || v < 0 || v > 253402300799LL || !isdigit((unsigned char)sde[0]))
        return gf_ctx_err(ctx, GF_ERR_ARG, "SOURCE_DATE_EPOCH='%.40s' is not a number of seconds since 1970", sde);
    *out = (time_t)v;
    return GF_OK;
}
