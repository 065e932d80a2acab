/* What a client sends, read without a socket: the request path (routing,
 * traversal refused), the geocoding parameters checked the way the
 * Géoplateforme checks them, and the Range header. Every input here is
 * hostile; tests/fuzz/fuzz_http.c calls these functions as the server does. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "geoflux/serve.h"
#include "geocode/gc.h" /* gc_arrondissement_citycode() */

/* ---- routing ------------------------------------------------------------- */

static int seg_eq(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && !memcmp(p, lit, n);
}

/* Decimal number of at most 10 digits, no sign, no leading zero but "0". */
static int parse_u32(const char *p, size_t n, uint32_t *out)
{
    if (!n || n > 10 || (n > 1 && p[0] == '0')) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > UINT32_MAX) return 0;
    *out = (uint32_t)v;
    return 1;
}

/* A safe archive name: letters, digits, '-', '_', '.' not first. */
static int name_ok(const char *p, size_t n)
{
    if (!n || n > 128 || p[0] == '.') return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_' && p[i] != '.') return 0;
    return 1;
}

static void route_tile(const char *p, size_t n, gf_serve_route *r)
{
    /* p: what follows "/tiles/" */
    r->kind = GF_ROUTE_NOTFOUND;
    if (n > 5 && !memcmp(p + n - 5, ".json", 5) && !memchr(p, '/', n)) {
        if (!name_ok(p, n - 5)) return;
        r->kind = GF_ROUTE_TILEJSON;
        r->name = p;
        r->namelen = n - 5;
        return;
    }
    const char *seg[4];
    size_t len[4];
    int k = 0;
    for (size_t i = 0; i <= n && k < 5;) {
        size_t j = i;
        while (j < n && p[j] != '/') j++;
        if (k == 4) return; /* more than 4 segments */
        seg[k] = p + i;
        len[k++] = j - i;
        i = j + 1;
    }
    if (k != 4 || !name_ok(seg[0], len[0])) return;
    size_t yl = len[3];
    if (yl > 4 && (!memcmp(seg[3] + yl - 4, ".mvt", 4) || !memcmp(seg[3] + yl - 4, ".pbf", 4))) yl -= 4;
    else return;
    uint32_t z, x, y;
    if (!parse_u32(seg[1], len[1], &z) || !parse_u32(seg[2], len[2], &x) || !parse_u32(seg[3], yl, &y)) return;
    if (z > 30) return;
    uint64_t dim = (uint64_t)1 << z;
    if (x >= dim || y >= dim) return;
    r->kind = GF_ROUTE_TILE;
    r->name = seg[0];
    r->namelen = len[0];
    r->z = (int)z;
    r->x = x;
    r->y = y;
}

void gf_serve_route_path(const char *path, size_t len, gf_serve_route *r)
{
    memset(r, 0, sizeof *r);
    r->kind = GF_ROUTE_FORBIDDEN;
    if (!path || !len || path[0] != '/' || len > 4096) return;
    /* every segment: no "..", ".", hidden names, backslashes, control bytes */
    for (size_t i = 1; i <= len;) {
        size_t j = i;
        while (j < len && path[j] != '/') j++;
        const char *s = path + i;
        size_t n = j - i;
        if (n && s[0] == '.') return; /* "..", ".", ".git", ".env" */
        for (size_t k = 0; k < n; k++)
            if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f || s[k] == '\\') return;
        if (!n && j < len) return; /* "//": an empty segment inside the path */
        i = j + 1;
    }
    const char *p = path + 1;
    size_t n = len - 1;
    if (n && p[n - 1] == '/' && n > 1) n--; /* "/search/" is "/search" */
    static const struct { const char *lit; gf_serve_route_kind kind; } api[] = {
        {"search", GF_ROUTE_SEARCH}, {"reverse", GF_ROUTE_REVERSE}, {"completion", GF_ROUTE_COMPLETION},
        {"getCapabilities", GF_ROUTE_CAPABILITIES}, {"openapi", GF_ROUTE_OPENAPI},
        {"search/csv", GF_ROUTE_SEARCH_CSV}, {"reverse/csv", GF_ROUTE_REVERSE_CSV},
    };
    for (size_t k = 0; k < sizeof api / sizeof api[0]; k++)
        if (seg_eq(p, n, api[k].lit)) { r->kind = api[k].kind; return; }
    if (n > 6 && !memcmp(p, "tiles/", 6)) {
        route_tile(p + 6, n - 6, r);
        return;
    }
    r->kind = GF_ROUTE_STATIC;
    r->path = p;
    r->pathlen = len - 1;
}

/* ---- query parameters ---------------------------------------------------- */

static void detail(gf_serve_params *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void detail(gf_serve_params *p, const char *fmt, ...)
{
    if (p->ndetail >= GF_SERVE_MAX_DETAIL) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->detail[p->ndetail++], sizeof p->detail[0], fmt, ap);
    va_end(ap);
}

/* The value of key (first occurrence), trimmed; NULL when absent or empty. */
static const char *get(const gf_serve_kv *kv, size_t n, const char *key, size_t *len)
{
    for (size_t i = 0; i < n; i++) {
        if (!kv[i].key || strcmp(kv[i].key, key)) continue;
        const char *v = kv[i].value;
        size_t l = v ? kv[i].valuelen : 0;
        while (l && isspace((unsigned char)*v)) { v++; l--; }
        while (l && isspace((unsigned char)v[l - 1])) l--;
        if (!l) return NULL;
        *len = l;
        return v;
    }
    return NULL;
}

/* A quoted value for a message: at most 40 bytes, control bytes as '?'. */
static const char *show(const char *v, size_t n, char *buf, size_t bufsz)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < bufsz && i < 40; i++)
        buf[k++] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
    if (n > 40 && k + 4 < bufsz) { memcpy(buf + k, "...", 3); k += 3; }
    buf[k] = 0;
    return buf;
}

/* ^([+-]?[1-9][0-9]*|0)$ within [lo, hi] */
static int get_int(gf_serve_params *p, const char *name, const char *v, size_t n, long lo, long hi, const char *range_msg,
                   int *res)
{
    /* *res keeps its default unless the value is good */
    int val, *out = &val;
    size_t i = 0;
    int neg = 0;
    if (n == 1 && v[0] == '0') { *out = 0; i = 1; }
    else {
        if (v[0] == '+' || v[0] == '-') { neg = v[0] == '-'; i = 1; }
        if (i >= n || v[i] < '1' || v[i] > '9') { detail(p, "%s: unable to parse value as integer", name); return 0; }
        long x = 0;
        for (; i < n; i++) {
            if (v[i] < '0' || v[i] > '9') { detail(p, "%s: unable to parse value as integer", name); return 0; }
            if (x > 100000000) x = 100000001; /* far out of any range asked for: no overflow */
            else x = x * 10 + (v[i] - '0');
        }
        *out = x > 100000000 ? (neg ? -100000001 : 100000001) : (int)(neg ? -x : x);
    }
    if (*out < lo || *out > hi) { detail(p, "%s: %s", name, range_msg); return 0; }
    *res = val;
    return 1;
}

/* ^[+-]?[0-9]+(\.[0-9]*)?$ */
static int get_float(gf_serve_params *p, const char *name, const char *v, size_t n, double *out)
{
    size_t i = 0;
    if (n && (v[0] == '+' || v[0] == '-')) i = 1;
    size_t d0 = i;
    while (i < n && v[i] >= '0' && v[i] <= '9') i++;
    int ok = i > d0 && n < 64;
    if (ok && i < n && v[i] == '.') {
        i++;
        while (i < n && v[i] >= '0' && v[i] <= '9') i++;
    }
    if (!ok || i != n) { detail(p, "%s: unable to parse value as float", name); return 0; }
    char buf[64];
    memcpy(buf, v, n);
    buf[n] = 0;
    *out = strtod(buf, NULL);
    if (!isfinite(*out)) { detail(p, "%s: unable to parse value as float", name); return 0; }
    return 1;
}

/* 1/true/yes, 0/false/no, any case */
static int get_bool(gf_serve_params *p, const char *name, const char *v, size_t n, int *out)
{
    static const char *const t[] = {"1", "true", "yes"}, *const f[] = {"0", "false", "no"};
    for (int k = 0; k < 3; k++) {
        if (strlen(t[k]) == n && !strncasecmp(v, t[k], n)) { *out = 1; return 1; }
        if (strlen(f[k]) == n && !strncasecmp(v, f[k], n)) { *out = 0; return 1; }
    }
    detail(p, "%s: unable to parse value as boolean", name);
    return 0;
}

/* Characters (UTF-8 code points), as the service counts q's length. */
static size_t utf8_chars(const char *v, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)v[i] & 0xC0) != 0x80;
    return c;
}

/* A letter or a digit first: ASCII, or a Latin letter of UTF-8 (lead bytes
 * C3-C5 and the Latin Extended ones up to C9: À-ÿ, Œ, ...). */
static int first_ok(const char *v, size_t n)
{
    unsigned char c = (unsigned char)v[0];
    if (isalnum(c)) return 1;
    return n >= 2 && c >= 0xC3 && c <= 0xC9 && ((unsigned char)v[1] & 0xC0) == 0x80;
}

/* q or text: kept in p->query only when good */
static void check_text(gf_serve_params *p, const char *name, const char *v, size_t n)
{
    size_t c = utf8_chars(v, n);
    if (c < 3 || c > 200 || n > 800 || !first_ok(v, n)) { /* 800: 200 characters of 4 bytes */
        detail(p, "%s: must contain between 3 and 200 chars and start with a number or a letter", name);
        return;
    }
    p->query.q = v;
    p->query.qlen = n;
}

static int all_digits(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9') return 0;
    return 1;
}

/* The next item of a comma-separated value v[0..l) from *i (start at 0):
 * *it, *itn (possibly empty); 0 once past the last item. */
static int next_item(const char *v, size_t l, size_t *i, const char **it, size_t *itn)
{
    if (*i > l) return 0;
    size_t j = *i;
    while (j < l && v[j] != ',') j++;
    *it = v + *i;
    *itn = j - *i;
    *i = j + 1;
    return 1;
}

/* A department code of the COG, as the service checks terr: 01-95 but 20,
 * 2A, 2B, 971-974, 976. */
static int dept_ok(const char *t, size_t n)
{
    if (n == 2 && t[0] == '2' && (t[1] == 'A' || t[1] == 'B')) return 1;
    if (n == 2)
        return all_digits(t, 2) && !(t[0] == '2' && t[1] == '0') && !(t[0] == '0' && t[1] == '0') && !(t[0] == '9' && t[1] >= '6');
    return n == 3 && t[0] == '9' && t[1] == '7' && t[2] >= '1' && t[2] <= '6' && t[2] != '5';
}

/* One territory of terr, as the service takes it: METROPOLE, DOMTOM, a
 * department code, or five digits (a commune's postcode, or its INSEE
 * code: the service's documentation has said both). */
static int terr_ok(const char *t, size_t n)
{
    if (seg_eq(t, n, "METROPOLE") || seg_eq(t, n, "DOMTOM")) return 1;
    return (n == 5 && all_digits(t, 5)) || dept_ok(t, n);
}

int gf_serve_terr_match(const gf_serve_params *p, const char *citycode, const char *postcode)
{
    if (!p || p->nterr == 0) return 1;
    if (!citycode || strlen(citycode) != 5) return 0;
    int dom = citycode[0] == '9' && citycode[1] == '7';
    const char *city = gc_arrondissement_citycode(citycode);
    for (int i = 0; i < p->nterr; i++) {
        const char *t = p->terr[i].p;
        size_t n = p->terr[i].n;
        if (seg_eq(t, n, "METROPOLE") ? !dom
            : seg_eq(t, n, "DOMTOM")  ? dom
            : n == 5                  ? (!memcmp(t, citycode, 5) || (city && !memcmp(t, city, 5)) ||
                                         (postcode && !strncmp(t, postcode, 5) && strlen(postcode) == 5))
                                      : !memcmp(t, citycode, n))
            return 1;
    }
    return 0;
}

int gf_serve_bbox_match(const gf_serve_params *p, double lon, double lat)
{
    if (!p || !p->has_bbox) return 1;
    double x0 = p->bbox[0] < p->bbox[2] ? p->bbox[0] : p->bbox[2], x1 = p->bbox[0] < p->bbox[2] ? p->bbox[2] : p->bbox[0];
    double y0 = p->bbox[1] < p->bbox[3] ? p->bbox[1] : p->bbox[3], y1 = p->bbox[1] < p->bbox[3] ? p->bbox[3] : p->bbox[1];
    return lon >= x0 && lon <= x1 && lat >= y0 && lat <= y1;
}

int gf_serve_reverse_match(const gf_serve_params *p, const gf_gc_result *r)
{
    if (!p || !r) return 0;
    const gf_gc_query *q = &p->query;
    if (q->postcodelen && (strlen(r->postcode) != q->postcodelen || memcmp(r->postcode, q->postcode, q->postcodelen)))
        return 0;
    if (q->citycodelen) {
        const char *city = gc_arrondissement_citycode(r->citycode);
        if (!((strlen(r->citycode) == q->citycodelen && !memcmp(r->citycode, q->citycode, q->citycodelen)) ||
              (city && q->citycodelen == 5 && !memcmp(city, q->citycode, 5))))
            return 0;
    }
    if (q->citylen) {
        char a[256], b[256];
        size_t al = gf_gc_normalize(q->city, q->citylen, a, sizeof a), bl = gf_gc_normalize(r->city, strlen(r->city), b, sizeof b);
        if (al != bl || memcmp(a, b, al)) return 0;
    }
    return 1;
}

gf_status gf_serve_parse_params(gf_serve_route_kind kind, const gf_serve_kv *kv, size_t n, gf_serve_params *p)
{
    if (!p || (n && !kv)) return GF_ERR_ARG;
    memset(p, 0, sizeof *p);
    if (kind != GF_ROUTE_SEARCH && kind != GF_ROUTE_REVERSE && kind != GF_ROUTE_COMPLETION) return GF_ERR_ARG;
    const char *v;
    size_t l;
    char sh[64];
    if (kind == GF_ROUTE_COMPLETION) {
        p->limit = 10;
        if ((v = get(kv, n, "text", &l))) {
            check_text(p, "text", v, l);
        } else detail(p, "text: required param");
        /* maximumResponses is the service's name; maxResponses is accepted too */
        const char *mr = "maximumResponses";
        if (!(v = get(kv, n, mr, &l))) v = get(kv, n, mr = "maxResponses", &l);
        if (v) get_int(p, mr, v, l, 1, 15, "Param limit must be an integer between 1 and 15", &p->limit);
        p->streetaddress = 1;
        if ((v = get(kv, n, "type", &l))) {
            /* comma-separated PositionOfInterest, StreetAddress: the index
             * holds addresses only, so PositionOfInterest alone answers none */
            p->streetaddress = 0;
            const char *t;
            size_t tl;
            for (size_t i = 0; next_item(v, l, &i, &t, &tl);) {
                if (tl && !seg_eq(t, tl, "PositionOfInterest") && !seg_eq(t, tl, "StreetAddress")) {
                    detail(p, "type: unexpected value '%s'", show(t, tl, sh, sizeof sh));
                    break;
                }
                if (seg_eq(t, tl, "StreetAddress")) p->streetaddress = 1;
            }
        }
        if ((v = get(kv, n, "lonlat", &l))) {
            const char *c = memchr(v, ',', l);
            double lo, la;
            if (!c || memchr(c + 1, ',', l - (size_t)(c + 1 - v)))
                detail(p, "lonlat: lonlat must be in the format \"lon,lat\"");
            else if (get_float(p, "lonlat", v, (size_t)(c - v), &lo) &&
                     get_float(p, "lonlat", c + 1, l - (size_t)(c + 1 - v), &la)) {
                if (lo < -180 || lo > 180) detail(p, "lonlat: lon must be a float between -180 and 180");
                else if (la < -90 || la > 90) detail(p, "lonlat: lat must be a float between -90 and 90");
                else { p->query.has_bias = 1; p->query.lon = lo; p->query.lat = la; }
            }
        }
        if ((v = get(kv, n, "terr", &l))) {
            const char *t;
            size_t tl;
            for (size_t i = 0; next_item(v, l, &i, &t, &tl);) {
                while (tl && isspace((unsigned char)*t)) { t++; tl--; }
                while (tl && isspace((unsigned char)t[tl - 1])) tl--;
                if (!terr_ok(t, tl)) {
                    detail(p, "terr: Unexpected value(s) for param terr ('%s': METROPOLE, DOMTOM, a department "
                           "code or five digits)", show(t, tl, sh, sizeof sh));
                    break;
                }
                if (p->nterr == GF_SERVE_MAX_TERR) {
                    detail(p, "terr: at most %d territories", GF_SERVE_MAX_TERR);
                    break;
                }
                p->terr[p->nterr++] = (gf_serve_terr){t, tl};
            }
        }
        if ((v = get(kv, n, "bbox", &l))) {
            /* xmin,ymin,xmax,ymax (WGS84): the answers inside */
            double b[4];
            static const char *const nm[4] = {"xmin", "ymin", "xmax", "ymax"};
            const char *t;
            size_t tl, i = 0;
            int k = 0, ok = 1, nd = p->ndetail;
            while (ok && next_item(v, l, &i, &t, &tl)) ok = k < 4 && get_float(p, "bbox", t, tl, &b[k++]);
            ok = ok && k == 4;
            /* four numbers, or its own message when one of them is not a number */
            if (!ok && p->ndetail == nd) detail(p, "bbox: bbox must be in the format \"xmin,ymin,xmax,ymax\"");
            for (k = 0; ok && k < 4; k++) {
                double lim = k % 2 ? 90 : 180;
                if (b[k] < -lim || b[k] > lim) {
                    detail(p, "bbox: %s must be a float between %g and %g", nm[k], -lim, lim);
                    ok = 0;
                }
            }
            if (ok) {
                p->has_bbox = 1;
                memcpy(p->bbox, b, sizeof b);
            }
        }
        p->query.prefix = 1; /* a search box's text: its last word is being typed */
        return p->ndetail ? GF_ERR_PARSE : GF_OK;
    }

    p->limit = 5; /* the service's default, /reverse's too (gpf-geocodeur api/params/base.js) */
    p->autocomplete = 1;
    if ((v = get(kv, n, "index", &l))) {
        /* the service's indexes are address, poi and parcel; only address is here */
        const char *t;
        size_t tl;
        for (size_t i = 0; next_item(v, l, &i, &t, &tl);) {
            if (tl && !seg_eq(t, tl, "address")) {
                if (seg_eq(t, tl, "poi") || seg_eq(t, tl, "parcel"))
                    detail(p, "index: '%.*s' is not served here (only address)", (int)tl, t);
                else detail(p, "index: unexpected value '%s'", show(t, tl, sh, sizeof sh));
                break;
            }
        }
    }
    if ((v = get(kv, n, "q", &l))) {
        check_text(p, "q", v, l);
    }
    if ((v = get(kv, n, "limit", &l)))
        get_int(p, "limit", v, l, 1, 20, "Param limit must be an integer between 1 and 20", &p->limit);
    int has_lon = 0, has_lat = 0;
    double lon = 0, lat = 0;
    if ((v = get(kv, n, "lon", &l)) && get_float(p, "lon", v, l, &lon)) {
        if (lon < -180 || lon > 180) detail(p, "lon: lon must be a float between -180 and 180");
        else has_lon = 1;
    }
    if ((v = get(kv, n, "lat", &l)) && get_float(p, "lat", v, l, &lat)) {
        if (lat < -90 || lat > 90) detail(p, "lat: lat must be a float between -90 and 90");
        else has_lat = 1;
    }
    int lon_given = get(kv, n, "lon", &l) != NULL, lat_given = get(kv, n, "lat", &l) != NULL;
    if ((v = get(kv, n, "type", &l))) {
        static const char *const names[] = {"housenumber", "street", "locality", "municipality"};
        static const gf_gc_type types[] = {GF_GC_HOUSENUMBER, GF_GC_STREET, GF_GC_LOCALITY, GF_GC_MUNICIPALITY};
        int k = 0;
        while (k < 4 && !seg_eq(v, l, names[k])) k++;
        if (k == 4) detail(p, "type: unexpected value '%s'", show(v, l, sh, sizeof sh));
        else p->query.type = types[k];
    }
    if ((v = get(kv, n, "postcode", &l))) {
        if (l != 5 || !all_digits(v, l)) detail(p, "postcode: Param postcode must contain 5 digits");
        else { p->query.postcode = v; p->query.postcodelen = l; }
    }
    if ((v = get(kv, n, "citycode", &l))) {
        int ok = l == 5 && (all_digits(v, l) || (v[0] >= '0' && v[0] <= '9' && (v[1] == 'A' || v[1] == 'B') &&
                                                 all_digits(v + 2, 3)));
        if (!ok) detail(p, "citycode: Param citycode is invalid");
        else { p->query.citycode = v; p->query.citycodelen = l; }
    }
    if ((v = get(kv, n, "city", &l))) {
        /* a commune's name: /search looks in it, /reverse keeps its answers */
        if (utf8_chars(v, l) > 50) detail(p, "city: must contain between 1 and 50 chars");
        else { p->query.city = v; p->query.citylen = l; }
    }
    if ((v = get(kv, n, "autocomplete", &l))) get_bool(p, "autocomplete", v, l, &p->autocomplete);
    if (lon_given != lat_given) detail(p, "lon/lat must be present together if defined");
    if (kind == GF_ROUTE_SEARCH && !p->query.q && !get(kv, n, "q", &l)) detail(p, "q is a required param");
    if (kind == GF_ROUTE_REVERSE && !lon_given) detail(p, "At least lon/lat or searchgeom must be defined");
    if (has_lon && has_lat) {
        if (kind == GF_ROUTE_REVERSE) { p->has_point = 1; p->lon = lon; p->lat = lat; }
        else { p->query.has_bias = 1; p->query.lon = lon; p->query.lat = lat; }
    }
    p->query.prefix = kind == GF_ROUTE_SEARCH && p->autocomplete;
    return p->ndetail ? GF_ERR_PARSE : GF_OK;
}

/* ---- Range ------------------------------------------------------------------ */

static int read_u64(const char **s, uint64_t *v)
{
    const char *p = *s;
    if (*p < '0' || *p > '9') return 0;
    uint64_t x = 0;
    while (*p >= '0' && *p <= '9') {
        if (x > (UINT64_MAX - 9) / 10) return 0;
        x = x * 10 + (uint64_t)(*p++ - '0');
    }
    *v = x;
    *s = p;
    return 1;
}

int gf_serve_parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
    if (!h) return 0;
    while (*h == ' ' || *h == '\t') h++;
    if (strncmp(h, "bytes=", 6)) return 0;
    h += 6;
    while (*h == ' ') h++;
    if (strchr(h, ',')) return 0; /* several ranges: the whole resource */
    uint64_t a, b;
    if (*h == '-') {
        h++;
        if (!read_u64(&h, &b)) return 0;
        while (*h == ' ') h++;
        if (*h) return 0;
        if (b == 0 || size == 0) return -1;
        if (b > size) b = size;
        *start = size - b;
        *len = b;
        return 1;
    }
    if (!read_u64(&h, &a) || *h++ != '-') return 0;
    int open = 1;
    b = 0;
    if (*h >= '0' && *h <= '9') {
        if (!read_u64(&h, &b)) return 0;
        open = 0;
    }
    while (*h == ' ') h++;
    if (*h) return 0;
    if (!open && b < a) return 0; /* invalid syntax: ignored, RFC 9110 14.1.1 */
    if (a >= size) return -1;
    if (open || b >= size) b = size - 1;
    *start = a;
    *len = b - a + 1;
    return 1;
}
