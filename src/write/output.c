/* Output formats: one table. Each row names a format, the extensions that
 * choose it, what it can do (capabilities), and its writer. gf_output_open()
 * looks the format up (by -f name, case-insensitive, or by extension),
 * refuses what the format cannot do (standard output, --append, the output
 * CRS) and opens the writer. To add a format: write its sink in one file
 * and add one row below. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "geoflux/gpkg.h"
#include "geoflux/tiles.h"
#include "geoflux/write.h"
#include "write/csv.h"

static gf_status open_geojson(gf_ctx *ctx, const gf_output_opts *o, const gf_format *f, void **st)
{
    (void)f;
    return gf_geojson_open(ctx, o, 0, st);
}
static gf_status open_ndjson(gf_ctx *ctx, const gf_output_opts *o, const gf_format *f, void **st)
{
    (void)f;
    return gf_geojson_open(ctx, o, 1, st);
}
static gf_status open_csv(gf_ctx *ctx, const gf_output_opts *o, const gf_format *f, void **st)
{
    (void)f;
    return gf_csv_writer_open(ctx, o, st);
}
static gf_status open_gpkg(gf_ctx *ctx, const gf_output_opts *o, const gf_format *f, void **st)
{
    (void)f;
    return gf_gpkg_open(ctx, o, st);
}
static gf_status open_pmtiles(gf_ctx *ctx, const gf_output_opts *o, const gf_format *f, void **st)
{
    (void)f;
    return gf_tiles_open(ctx, o, 1, st);
}
static gf_status open_mbtiles(gf_ctx *ctx, const gf_output_opts *o, const gf_format *f, void **st)
{
    (void)f;
    return gf_tiles_open(ctx, o, 0, st);
}
static gf_status open_ogr(gf_ctx *ctx, const gf_output_opts *o, const gf_format *f, void **st)
{
    return gf_ogr_open(ctx, o, f->driver, st);
}

#define OGR_CAPS (GF_FMT_CRS)
/* The table. A row: -f name, other -f names, extensions, capabilities, the
 * writer's sink and open function, GDAL driver. A writer in a file of its
 * own defines the two symbols its row names (write/tsv.c: gf_tsv_sink_vt,
 * gf_tsv_open, with open's signature of gf_format); FORMAT_DECL below
 * declares them from the row, so a new format is that file plus one row.
 * Nothing else compares sinks: what the rest of geoflux needs to know about
 * a format is a capability (GF_FMT_*). */
#define GF_FORMATS(X)                                                                                                    \
    X("geojson", NULL, ".geojson .json", GF_FMT_STREAM | GF_FMT_CRS_EPSG, gf_geojson_sink_vt, open_geojson, NULL)        \
    X("geojsonl", "ndjson geojsonseq", ".geojsonl .geojsons .ndjson .jsonl", GF_FMT_STREAM | GF_FMT_WGS84,             \
      gf_geojson_sink_vt, open_ndjson, NULL)                                                                            \
    X("csv", NULL, ".csv", GF_FMT_STREAM | GF_FMT_NO_COORDS, gf_csv_sink_vt, open_csv, NULL)                              \
    X("tsv", NULL, ".tsv", GF_FMT_STREAM | GF_FMT_CRS_NONE_XY, gf_tsv_sink_vt, gf_tsv_open, NULL)                          \
    X("gpkg", "geopackage", ".gpkg", GF_FMT_MULTILAYER | GF_FMT_EXTRA_LAYERS | GF_FMT_CRS | GF_FMT_APPEND,                \
      gf_gpkg_sink_vt, open_gpkg, NULL)                                                                                 \
    X("pmtiles", NULL, ".pmtiles", GF_FMT_MULTILAYER | GF_FMT_EXTRA_LAYERS | GF_FMT_WGS84 | GF_FMT_TILES,               \
      gf_tiles_sink_vt, open_pmtiles, NULL)                                                                             \
    X("mbtiles", NULL, ".mbtiles", GF_FMT_MULTILAYER | GF_FMT_EXTRA_LAYERS | GF_FMT_WGS84 | GF_FMT_TILES,               \
      gf_tiles_sink_vt, open_mbtiles, NULL)                                                                             \
    /* through GDAL */                                                                                                  \
    X("FlatGeobuf", "fgb", ".fgb", OGR_CAPS, gf_ogr_sink_vt, open_ogr, "FlatGeobuf")                                      \
    X("ESRI Shapefile", "shp shapefile", ".shp", OGR_CAPS, gf_ogr_sink_vt, open_ogr, "ESRI Shapefile")                    \
    X("KML", NULL, ".kml", OGR_CAPS, gf_ogr_sink_vt, open_ogr, "KML") /* GDAL writes KML in WGS84 whatever the CRS */   \
    X("GML", NULL, ".gml", OGR_CAPS | GF_FMT_MULTILAYER, gf_ogr_sink_vt, open_ogr, "GML")                                 \
    X("SQLite", NULL, ".sqlite", OGR_CAPS | GF_FMT_MULTILAYER, gf_ogr_sink_vt, open_ogr, "SQLite")

/* Each row's writer, declared from the row (a repeated declaration of the
 * same symbol is harmless; the static wrappers above keep their internal
 * linkage). */
#define FORMAT_DECL(name, aliases, exts, caps, vt, open, driver) \
    extern const gf_sink_vt vt;                                     \
    gf_status open(gf_ctx *ctx, const gf_output_opts *o, const gf_format *f, void **st);
GF_FORMATS(FORMAT_DECL)
#define FORMAT_ROW(name, aliases, exts, caps, vt, open, driver) {name, aliases, exts, caps, &vt, open, driver},
static const gf_format formats[] = {GF_FORMATS(FORMAT_ROW)};
#define NFORMATS (sizeof formats / sizeof formats[0])

/* "ogr:NAME": any GDAL vector driver that can create files; the row is
 * built per call (name, driver) in *tmp. */
static const gf_format *ogr_row(const char *driver, gf_format *tmp)
{
    *tmp = (gf_format){driver, NULL, "", OGR_CAPS | GF_FMT_MULTILAYER, &gf_ogr_sink_vt, open_ogr, driver};
    if (!strcasecmp(driver, "CSV")) tmp->caps = GF_FMT_CRS_NONE_XY; /* X/Y columns in the output CRS, no CRS stored */
    return tmp;
}

static int word_in(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; p && *p;) {
        while (*p == ' ') p++;
        const char *e = strchr(p, ' ');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && !strncasecmp(p, w, n)) return 1;
        p += k;
    }
    return 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

static const gf_format *by_path(const char *path)
{
    /* longest extension first: .geojsonl before .geojson is not needed with
     * exact suffixes, but .geojson must not take .geojsons */
    const gf_format *best = NULL;
    size_t bestlen = 0;
    for (size_t i = 0; i < NFORMATS; i++)
        for (const char *p = formats[i].exts; *p;) {
            while (*p == ' ') p++;
            const char *e = strchr(p, ' ');
            size_t k = e ? (size_t)(e - p) : strlen(p);
            char ext[24];
            if (k < sizeof ext) {
                memcpy(ext, p, k);
                ext[k] = 0;
                if (k > bestlen && ends_with(path, ext)) { best = &formats[i]; bestlen = k; }
            }
            p += k;
        }
    return best;
}

const gf_format *gf_output_format_find(const char *format, const char *path, gf_format *scratch)
{
    if (!format) return path ? by_path(path) : NULL;
    if (!strncasecmp(format, "ogr:", 4)) return format[4] && gf_ogr_driver_ok(format + 4) ? ogr_row(format + 4, scratch) : NULL;
    for (size_t i = 0; i < NFORMATS; i++)
        if (!strcasecmp(format, formats[i].name) || word_in(formats[i].aliases, format)) return &formats[i];
    /* any other GDAL vector driver by its own name (GeoJSONSeq, MapInfo File, ...) */
    return gf_ogr_driver_ok(format) ? ogr_row(format, scratch) : NULL;
}

const char *gf_output_format_for_path(const char *path)
{
    const gf_format *f = by_path(path);
    return f ? f->name : NULL;
}

static const char *crs_formats = ".gpkg, .fgb, .shp, .geojson (EPSG codes), .gml, .sqlite";

/* What the format cannot do is refused here, with the reason. */
static gf_status check_caps(gf_ctx *ctx, const gf_output_opts *o, const gf_format *f)
{
    const char *p = o->path;
    if (!strcmp(p, "-") && !(f->caps & GF_FMT_STREAM))
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s cannot be written to standard output: it needs a file (-o FILE)", f->name);
    if (o->append && !(f->caps & GF_FMT_APPEND))
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: --append: a %s file cannot be appended to (only GeoPackage takes "
                          "--append); give a new file, or --overwrite to replace it", p, f->name);
    int wgs84 = o->epsg == 4326;
    if ((f->caps & GF_FMT_WGS84) && !wgs84) {
        if (f->caps & GF_FMT_TILES)
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s: vector tiles are always in Web Mercator, built from longitude/latitude: "
                              "--t-srs does not apply", p);
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: %s carries no CRS and GIS read it as WGS84 longitude/latitude (RFC 7946): "
                          "it cannot hold %s coordinates; write a format that carries its CRS (%s), or leave out --t-srs",
                          p, f->name, o->srs_name ? o->srs_name : "these", crs_formats);
    }
    if ((f->caps & GF_FMT_CRS_EPSG) && !o->epsg)
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: GeoJSON names its CRS by an EPSG code and %s has none; write a format that "
                          "carries any CRS (.gpkg, .fgb, .shp)", p, o->srs_name ? o->srs_name : "the output CRS");
    if ((f->caps & GF_FMT_NO_COORDS) && o->srs_explicit)
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: the CSV writer keeps the input's columns (x/y and long/lat as read) and "
                          "writes no reprojected coordinates, so --t-srs would be ignored; use -f ogr:CSV for X/Y columns "
                          "in the output CRS, or a format that carries its CRS (%s)", p, crs_formats);
    if ((f->caps & GF_FMT_CRS_NONE_XY) && o->srs_explicit && !wgs84)
        gf_ctx_log(ctx, GF_LOG_WARN, "%s: GDAL's CSV stores X/Y in %s but not the CRS itself: say so to its readers", p,
                   o->srs_name ? o->srs_name : "the output CRS");
    return GF_OK;
}

/* "geojson, geojsonl, csv, ...": the shortest -f spelling of every row,
 * for the messages that list the formats. */
static void format_names(char *out, size_t n)
{
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < NFORMATS; i++) {
        const char *best = formats[i].name;
        size_t bl = strlen(best);
        for (const char *p = formats[i].aliases; p && *p;) {
            while (*p == ' ') p++;
            size_t l = strcspn(p, " ");
            if (l && l < bl) { best = p; bl = l; }
            p += l;
        }
        char low[32];
        size_t l = bl < sizeof low - 1 ? bl : sizeof low - 1;
        for (size_t j = 0; j < l; j++) low[j] = (char)tolower((unsigned char)best[j]);
        low[l] = 0;
        int w = snprintf(out + k, n - k, "%s%s", i ? ", " : "", low);
        if (w < 0 || (size_t)w >= n - k) break;
        k += (size_t)w;
    }
}

gf_status gf_output_open(gf_ctx *ctx, const gf_output_opts *opts, const gf_sink_vt **vt, void **st)
{
    gf_format tmp;
    const gf_format *f = gf_output_format_find(opts->format, opts->path, &tmp);
    if (!f && !opts->format && !strcmp(opts->path, "-")) f = gf_output_format_find("geojsonl", NULL, &tmp);
    char names[256];
    if (!f) format_names(names, sizeof names);
    if (!f && !opts->format)
        return gf_ctx_err(ctx, GF_ERR_ARG,
                          "%s: cannot tell the output format from the extension; use -f "
                          "(%s, or ogr:DRIVER for GDAL's)", opts->path, names);
    if (!f)
        return gf_ctx_err(ctx, GF_ERR_ARG, "-f %s: unknown output format (%s, or ogr:DRIVER with a GDAL vector driver "
                          "that can create files, see `ogrinfo --formats`)", opts->format, names);
    gf_status s = check_caps(ctx, opts, f);
    if (s) return s;
    /* a caller's stream: only the CSV writer writes into one */
    if (opts->stream && strcmp(f->name, "csv") != 0)
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: a %s output cannot be written into a stream (CSV only)", opts->path, f->name);
    *vt = f->vt;
    return f->open(ctx, opts, f, st);
}

void gf_output_layer_name(const gf_output_opts *o, const gf_schema *s, char *out, size_t n)
{
    if (o->layer) { snprintf(out, n, "%s", o->layer); return; }
    const char *k = s->kind && s->kind[0] ? s->kind : "feature";
    if (!strcmp(k, "address")) snprintf(out, n, "addresses");
    else if (!strcmp(k, "equipment")) snprintf(out, n, "equipments");
    else snprintf(out, n, "%s%s", k, k[strlen(k) - 1] == 's' ? "" : "s");
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
