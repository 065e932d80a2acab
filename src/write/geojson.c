/* GeoJSON (RFC 7946 FeatureCollection) and newline-delimited GeoJSON
 * writer. Features are encoded on the workers (the expensive part: number
 * and string formatting) and only appended in order at commit. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/write.h"
#include "write/ofile.h"

typedef struct gf_gj {
    gf_output_opts o;
    char *path;
    gf_ofile f;
    int ndjson, first, prec;
    const gf_schema *schema;
    gf_buf keybuf;                /* ",\"name\":" prebuilt per field, JSON-escaped */
    size_t keyoff[GF_MAX_FIELDS], keylen[GF_MAX_FIELDS];
} gf_gj;


gf_status gf_geojson_open(gf_ctx *ctx, const gf_output_opts *opts, int ndjson, void **st)
{
    gf_gj *g = calloc(1, sizeof *g);
    if (!g) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    g->o = *opts;
    g->ndjson = ndjson;
    g->first = 1;
    if (!(g->path = strdup(opts->path))) {
        free(g);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    g->prec = opts->precision >= 0 ? opts->precision : (opts->srs_geographic ? 7 : 2);
    *st = g;
    return GF_OK;
}

static gf_status begin(void *st, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    gf_gj *g = st;
    g->schema = schema;
    /* column names come from the input's header: escaped like any string */
    gf_status s = GF_OK;
    g->keybuf.len = 0;
    for (int f = 0; f < schema->nfields && !s; f++) {
        g->keyoff[f] = g->keybuf.len;
        s = gf_buf_append(&g->keybuf, ",", 1);
        if (!s) s = gf_buf_json_str(&g->keybuf, schema->fields[f].name, strlen(schema->fields[f].name));
        if (!s) s = gf_buf_append(&g->keybuf, ":", 1);
        g->keylen[f] = g->keybuf.len - g->keyoff[f];
    }
    if (s) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    s = gf_ofile_open(ctx, g->path, &g->f);
    if (s || g->ndjson) return s;
    char head[256];
    int n = snprintf(head, sizeof head, "{\"type\":\"FeatureCollection\",\n");
    /* RFC 7946 is WGS84 only; GDAL and QGIS read this pre-RFC member. */
    if ((!g->o.srs_geographic || (g->o.epsg && g->o.epsg != 4326)) && g->o.epsg)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::%d\"}},\n", g->o.epsg);
    n += snprintf(head + n, sizeof head - (size_t)n, "\"features\":[\n");
    return gf_ofile_write(ctx, &g->f, head, (size_t)n);
}

#define PUT(s) do { if ((st = gf_buf_append(out, s, sizeof(s) - 1))) return st; } while (0)

static gf_status encode(void *stv, gf_ctx *ctx, int worker, const gf_batch *b, gf_buf *out)
{
    gf_gj *g = stv;
    gf_status st = gf_batch_expect(b, ctx, g->schema, 1, GF_COL_TYPED, "GeoJSON writer");
    if (st) return st;
    const gf_schema *s = b->schema;
    char num[48];
    for (size_t r = 0; r < b->n; r++) {
        if (!g->ndjson) PUT(",\n");
        if (b->flags[r] & GF_ROW_HAS_POS) {
            PUT("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[");
            int l = gf_fmt_fixed(b->gx[r], g->prec, num);
            num[l++] = ',';
            l += gf_fmt_fixed(b->gy[r], g->prec, num + l);
            if ((st = gf_buf_append(out, num, (size_t)l))) return st;
            PUT("]},\"properties\":{");
        } else {
            PUT("{\"type\":\"Feature\",\"geometry\":null,\"properties\":{");
        }
        /* Null properties are omitted: readers (GDAL, tippecanoe, MapLibre)
         * treat a missing key as null, and BAN rows would otherwise carry a
         * dozen nulls each, doubling the output. */
        int first = 1;
        for (int f = 0; f < s->nfields; f++) {
            const gf_col *c = &b->cols[f];
            if (!c->valid[r]) continue;
            if ((st = gf_buf_append(out, g->keybuf.p + g->keyoff[f] + first, g->keylen[f] - (size_t)first))) return st;
            first = 0;
            switch (s->fields[f].type) {
            case GF_T_STRING:
            case GF_T_DATE:
                st = gf_buf_json_str(out, b->arena + c->v.s[r].off, c->v.s[r].len);
                break;
            default:
                st = gf_buf_append(out, num, (size_t)gf_fmt_scalar(s->fields[f].type, c, r, num));
                break;
            }
            if (st) return st;
        }
        /* BAL rule codes found by validation ('|'-separated) */
        if (b->errors[r].len) {
            if ((st = gf_buf_append(out, &",\"errors\":"[first], 10 - (size_t)first))) return st;
            if ((st = gf_buf_json_str(out, b->arena + b->errors[r].off, b->errors[r].len))) return st;
            first = 0;
        }
        if (b->warnings[r].len) {
            if ((st = gf_buf_append(out, &",\"warnings\":"[first], 12 - (size_t)first))) return st;
            if ((st = gf_buf_json_str(out, b->arena + b->warnings[r].off, b->warnings[r].len))) return st;
        }
        PUT("}}");
        if (g->ndjson) PUT("\n");
    }
    (void)ctx; (void)worker;
    return GF_OK;
}

static gf_status commit(void *stv, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    gf_gj *g = stv;
    const char *p = enc->p;
    size_t n = enc->len;
    if (!g->ndjson && g->first && n >= 2) { p += 2; n -= 2; } /* no comma before the first feature */
    if (n && g->first) g->first = 0;
    (void)b;
    return gf_ofile_write(ctx, &g->f, p, n);
}

static gf_status finish(void *stv, gf_ctx *ctx)
{
    gf_gj *g = stv;
    gf_status st = g->ndjson ? GF_OK : gf_ofile_write(ctx, &g->f, "\n]}\n", 4);
    if (st) return st; /* abort() discards the file */
    return gf_ofile_close(ctx, &g->f);
}

static gf_status publish(void *stv, gf_ctx *ctx)
{
    gf_gj *g = stv;
    return gf_ofile_publish(ctx, &g->f);
}

static void sink_abort(void *stv)
{
    gf_gj *g = stv;
    gf_ofile_discard(&g->f);
}

static void destroy(void *stv)
{
    gf_gj *g = stv;
    if (!g) return;
    sink_abort(g);
    gf_buf_free(&g->keybuf);
    free(g->path);
    free(g);
}

const gf_sink_vt gf_geojson_sink_vt = {
    .name = "geojson",
    .begin = begin,
    .encode = encode,
    .commit = commit,
    .finish = finish,
    .publish = publish,
    .abort = sink_abort,
    .destroy = destroy,
};
