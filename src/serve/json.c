/* The JSON answers of the geocoding API, in the Géoplateforme's shapes:
 * GeoCodeJSON FeatureCollections for /search and /reverse, the
 * autocompletion results of /completion, its error body. The label, house
 * number and x/y come from the same functions as the CSV columns
 * (src/geocode/result.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "geoflux/serve.h"

static gf_status str(gf_buf *o, const char *s) { return gf_buf_json_str(o, s ? s : "", s ? strlen(s) : 0); }

/* ,"key":"value" (skipped when value is empty and skip_empty) */
static gf_status kstr(gf_buf *o, const char *key, const char *v, int skip_empty)
{
    if (skip_empty && (!v || !v[0])) return GF_OK;
    gf_status st = gf_buf_printf(o, ",\"%s\":", key);
    return st ? st : str(o, v);
}

gf_status gf_serve_json_error(gf_buf *o, int code, const char *message, const gf_serve_params *p)
{
    gf_status st = gf_buf_printf(o, "{\"code\":%d,\"message\":", code);
    if (!st) st = str(o, message);
    if (!st && p && p->ndetail) {
        st = gf_buf_append(o, ",\"detail\":[", 11);
        for (int i = 0; !st && i < p->ndetail; i++) {
            if (i) st = gf_buf_append(o, ",", 1);
            if (!st) st = str(o, p->detail[i]);
        }
        if (!st) st = gf_buf_append(o, "]", 1);
    }
    return st ? st : gf_buf_append(o, "}", 1);
}

gf_status gf_serve_json_features(gf_buf *o, gf_ctx *ctx, gf_gc_legal *legal, const gf_gc_result *res, int n,
                                 int reverse)
{
    gf_status st = gf_buf_append(o, "{\"type\":\"FeatureCollection\",\"features\":[", 40);
    char buf[1024];
    for (int i = 0; !st && i < n; i++) {
        const gf_gc_result *r = &res[i];
        if (r->type == GF_GC_NONE) continue;
        if (o->len && o->p[o->len - 1] == '}') st = gf_buf_append(o, ",", 1);
        if (!st)
            st = gf_buf_printf(o, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.6f,%.6f]},"
                                  "\"properties\":{\"label\":", r->lon, r->lat);
        gf_gc_result_label(r, buf, sizeof buf);
        if (!st) st = str(o, buf);
        if (!st) st = gf_buf_printf(o, ",\"score\":%.4f", r->score); /* reverse too (its OpenAPI schema has it) */
        gf_gc_result_housenumber(r, buf, sizeof buf);
        if (!st) st = kstr(o, "housenumber", buf, 1);
        /* id: the cle_interop of an address; streets and communes have none in
         * geoflux's index, the service then gives its own identifier */
        if (!st) st = kstr(o, "id", r->id[0] ? r->id : r->citycode, 0);
        if (!st) st = kstr(o, "name", r->name, 0);
        if (!st) st = kstr(o, "postcode", r->postcode, 1);
        if (!st) st = kstr(o, "citycode", r->citycode, 0);
        double x = r->lon, y = r->lat;
        int epsg = gf_gc_legal_epsg(r->citycode);
        if (!st && epsg && legal && ctx && gf_gc_legal_trans(legal, ctx, epsg, &x, &y, 1) == GF_OK && isfinite(x) &&
            isfinite(y) && x != HUGE_VAL && y != HUGE_VAL)
            st = gf_buf_printf(o, ",\"x\":%.2f,\"y\":%.2f", x, y);
        if (!st) st = kstr(o, "city", r->city, 0);
        if (!st) st = kstr(o, "district", r->district, 1);
        if (!st) st = kstr(o, "oldcitycode", r->oldcitycode, 1);
        if (!st) st = kstr(o, "oldcity", r->oldcity, 1);
        if (!st) st = kstr(o, "context", r->context, 0);
        if (!st) st = kstr(o, "type", gf_gc_type_name(r->type), 0);
        if (!st) st = gf_buf_printf(o, ",\"importance\":%.5f", r->importance);
        if (!st) st = kstr(o, "street", r->street, 1);
        if (!st) st = gf_buf_append(o, ",\"_type\":\"address\"", 18);
        if (!st && reverse && isfinite(r->distance)) st = gf_buf_printf(o, ",\"distance\":%.0f", r->distance);
        if (!st) st = gf_buf_append(o, "}}", 2);
    }
    return st ? st : gf_buf_append(o, "]}", 2);
}

gf_status gf_serve_json_completion(gf_buf *o, const gf_gc_result *res, int n)
{
    gf_status st = gf_buf_append(o, "{\"status\":\"OK\",\"results\":[", 26);
    char buf[1024];
    int first = 1;
    for (int i = 0; !st && i < n; i++) {
        const gf_gc_result *r = &res[i];
        if (r->type == GF_GC_NONE) continue;
        if (!first) st = gf_buf_append(o, ",", 1);
        first = 0;
        if (!st) st = gf_buf_printf(o, "{\"x\":%.6f,\"y\":%.6f,\"country\":\"StreetAddress\"", r->lon, r->lat);
        if (!st) st = kstr(o, "city", r->city, 0);
        if (!st) st = kstr(o, "oldcity", r->oldcity, 0);
        if (!st) st = kstr(o, "kind", "", 0);
        if (!st) st = kstr(o, "zipcode", r->postcode, 0);
        if (!st) st = kstr(o, "street", r->type == GF_GC_MUNICIPALITY ? "" : r->street[0] ? r->street : r->name, 0);
        if (!st && r->citycode[0])
            st = gf_buf_printf(o, ",\"metropole\":%s", strncmp(r->citycode, "97", 2) < 0 ? "true" : "false");
        /* fulltext as the service builds it: "name, postcode city" */
        int k;
        if (r->type == GF_GC_MUNICIPALITY) k = snprintf(buf, sizeof buf, "%s%s%s", r->postcode, r->postcode[0] ? " " : "", r->city);
        else if (r->postcode[0]) k = snprintf(buf, sizeof buf, "%s, %s %s", r->name, r->postcode, r->city);
        else k = snprintf(buf, sizeof buf, "%s, %s", r->name, r->city);
        (void)k;
        if (!st) st = kstr(o, "fulltext", buf, 0);
        if (!st) st = gf_buf_append(o, ",\"classification\":7}", 20);
    }
    return st ? st : gf_buf_append(o, "]}", 2);
}
