/* geoflux merge of publication reports (SITE/report.json of `geoflux
 * publish`, docs/publish.md): communes concatenated and sorted by code (a
 * commune in two reports is refused: two runs decided on it), submissions
 * concatenated in input order, totals recomputed (communes by status) or
 * summed (submissions, rows, equipments), options required equal (the
 * guards of one run), perimeters of one kind joined. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "geoflux/write.h"
#include "merge/merge_int.h"

#define MR_MAX_BYTES ((size_t)1 << 30)

static gf_status load(gf_ctx *ctx, const char *path, json_object **out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: cannot open it", path);
    gf_buf b = {0};
    char chunk[65536];
    size_t n;
    gf_status st = GF_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > MR_MAX_BYTES) { st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: larger than 1 GB", path); break; }
        if (gf_buf_append(&b, chunk, n)) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
    }
    if (!st && ferror(f)) st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: read error", path);
    fclose(f);
    if (!st) {
        struct json_tokener *tok = json_tokener_new();
        *out = tok ? json_tokener_parse_ex(tok, b.p ? b.p : "", (int)b.len) : NULL;
        if (!tok) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        else if (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(*out, json_type_object)) {
            st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a JSON object", path);
            json_object_put(*out);
            *out = NULL;
        }
        json_tokener_free(tok);
    }
    gf_buf_free(&b);
    return st;
}

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* Adds the integers of src into acc (objects of numbers, nested once:
 * counts.submissions, equipments.warnings); other values must be equal. */
static gf_status sum_into(gf_ctx *ctx, json_object *acc, json_object *src, const char *what, const char *path)
{
    /* json-c's foreach walks an object's table: anything else is refused
     * here (a report whose counts are not objects is not publish's) */
    if (!json_object_is_type(src, json_type_object) || !json_object_is_type(acc, json_type_object))
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: %s is not an object as in publish's report.json", path, what);
    json_object_object_foreach(src, k, v)
    {
        json_object *a = get(acc, k);
        if (json_object_is_type(v, json_type_int)) {
            int64_t x = json_object_get_int64(v), y = a ? json_object_get_int64(a) : 0, sum;
            if (__builtin_add_overflow(x, y, &sum))
                return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: %s.%s: the counts overflow (not publish's)", path, what, k);
            json_object_object_add(acc, k, json_object_new_int64(sum));
        } else if (json_object_is_type(v, json_type_object)) {
            if (!a) json_object_object_add(acc, k, a = json_object_new_object());
            gf_status st = sum_into(ctx, a, v, what, path);
            if (st) return st;
        } else if (!a) {
            json_object_object_add(acc, k, json_object_get(v));
        } else if (!json_object_equal(a, v)) {
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s: %s.%s differs from the first report's (%s): not one run's setting", path,
                              what, k, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        }
    }
    return GF_OK;
}

static int by_code(const void *a, const void *b)
{
    json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
    const char *cx = json_object_get_string(get(x, "code")), *cy = json_object_get_string(get(y, "code"));
    int c = strcmp(cx ? cx : "", cy ? cy : "");
    return c;
}

/* object keys sorted (equipments.warnings/errors), recursively for objects of objects */
static json_object *sorted_copy(json_object *o)
{
    if (!json_object_is_type(o, json_type_object)) return json_object_get(o);
    size_t n = (size_t)json_object_object_length(o), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    json_object *r = json_object_new_object();
    if (!keys || !r) { free(keys); json_object_put(r); return NULL; }
    json_object_object_foreach(o, k, v) { (void)v; keys[i++] = k; }
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) { const char *t = keys[b]; keys[b] = keys[b - 1]; keys[b - 1] = t; }
    for (i = 0; i < n; i++) json_object_object_add(r, keys[i], sorted_copy(get(o, keys[i])));
    free(keys);
    return r;
}

gf_status gf_merge_reports(gf_ctx *ctx, const gf_merge_opts *o, gf_merge_stats *stats)
{
    gf_status st = GF_OK;
    int n = o->ninputs;
    json_object **in = calloc((size_t)n, sizeof *in);
    json_object *res = json_object_new_object(), *communes = json_object_new_array(), *subs = json_object_new_array();
    json_object *counts_sub = json_object_new_object(), *rows = json_object_new_object(), *equip = NULL;
    json_object **all = NULL;
    gf_atomic out = {.fd = -1, .slot = -1};
    char *pvalue = NULL;
    if (!in || !res || !communes || !subs || !counts_sub || !rows) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto done; }
    for (int i = 0; i < n && !st; i++) st = load(ctx, o->inputs[i], &in[i]);
    if (st) goto done;
    /* generated_at: the latest; options equal; perimeters of one kind */
    const char *at = NULL, *pkind = NULL;
    int64_t pcommunes = 0;
    int has_perimeter = 0;
    size_t ncommunes = 0;
    for (int i = 0; i < n; i++) {
        const char *path = o->inputs[i];
        json_object *c = get(in[i], "communes"), *g = get(in[i], "generated_at"), *p = get(in[i], "perimeter");
        if (!json_object_is_type(c, json_type_array) || !json_object_is_type(get(in[i], "counts"), json_type_object)) {
            st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a publication report (no communes array or counts)", path);
            goto done;
        }
        ncommunes += json_object_array_length(c);
        if (g && json_object_is_type(g, json_type_string) && (!at || strcmp(json_object_get_string(g), at) > 0))
            at = json_object_get_string(g);
        if (i && !json_object_equal(get(in[i], "options"), get(in[0], "options"))) {
            st = gf_ctx_err(ctx, GF_ERR_ARG, "%s: its options (--min-valid, --warn-deletion, --max-deletion, --prefer) differ "
                            "from %s's: the reports are not of one run's rules", path, o->inputs[0]);
            goto done;
        }
        if (i && !p != !has_perimeter) {
            st = gf_ctx_err(ctx, GF_ERR_ARG, "%s: %s a perimeter and %s %s", path, p ? "has" : "has no", o->inputs[0],
                            has_perimeter ? "has one" : "has none");
            goto done;
        }
        if (p && json_object_is_type(p, json_type_object)) {
            const char *k = json_object_get_string(get(p, "kind")), *v = json_object_get_string(get(p, "value"));
            if (has_perimeter && strcmp(k ? k : "", pkind)) {
                st = gf_ctx_err(ctx, GF_ERR_ARG, "%s: perimeter of kind %s, %s's is %s", path, k ? k : "?", o->inputs[0], pkind);
                goto done;
            }
            has_perimeter = 1;
            pkind = k ? k : "";
            if (__builtin_add_overflow(pcommunes, json_object_get_int64(get(p, "communes")), &pcommunes)) {
                st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: perimeter.communes overflows (not publish's)", path);
                goto done;
            }
            size_t ol = pvalue ? strlen(pvalue) : 0, vl = v ? strlen(v) : 0;
            int seen = 0; /* "a,b": each value once (runs over one perimeter file name it alike) */
            for (const char *q = pvalue; q && !seen; q = strchr(q, ',') ? strchr(q, ',') + 1 : NULL)
                seen = !strncmp(q, v ? v : "", vl) && (q[vl] == ',' || !q[vl]);
            if (!seen) {
                char *nv = realloc(pvalue, ol + vl + 2);
                if (!nv) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto done; }
                if (ol) nv[ol++] = ',';
                memcpy(nv + ol, v ? v : "", vl + 1);
                pvalue = nv;
            }
        }
        json_object *cs = get(get(in[i], "counts"), "submissions"), *cr = get(get(in[i], "counts"), "rows");
        if ((cs && (st = sum_into(ctx, counts_sub, cs, "counts.submissions", path))) ||
            (cr && (st = sum_into(ctx, rows, cr, "counts.rows", path))))
            goto done;
        json_object *e = get(in[i], "equipments");
        if (e && json_object_is_type(e, json_type_object)) {
            if (!equip && !(equip = json_object_new_object())) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto done; }
            if ((st = sum_into(ctx, equip, e, "equipments", path))) goto done;
        }
        json_object *s = get(in[i], "submissions");
        for (size_t k = 0; s && json_object_is_type(s, json_type_array) && k < json_object_array_length(s); k++)
            json_object_array_add(subs, json_object_get(json_object_array_get_idx(s, k)));
    }
    /* communes: sorted by code, each once */
    all = calloc(ncommunes ? ncommunes : 1, sizeof *all);
    const char **from = calloc(ncommunes ? ncommunes : 1, sizeof *from);
    if (!all || !from) { free(from); st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto done; }
    size_t na = 0;
    for (int i = 0; i < n; i++) {
        json_object *c = get(in[i], "communes");
        for (size_t k = 0; k < json_object_array_length(c); k++) {
            json_object *x = json_object_array_get_idx(c, k);
            if (!json_object_is_type(get(x, "code"), json_type_string)) {
                free(from);
                st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: a commune without a code", o->inputs[i]);
                goto done;
            }
            from[na] = o->inputs[i];
            all[na++] = x;
        }
    }
    /* a stable sort keeping the input each came from beside it */
    for (size_t a = 1; a < na; a++)
        for (size_t b = a; b > 0 && by_code(&all[b - 1], &all[b]) > 0; b--) {
            json_object *t = all[b]; all[b] = all[b - 1]; all[b - 1] = t;
            const char *f = from[b]; from[b] = from[b - 1]; from[b - 1] = f;
        }
    int64_t byst[5] = {0};
    static const char *stname[5] = {"published", "unchanged", "rejected", "conflict", "missing"};
    for (size_t a = 0; a < na; a++) {
        if (a && !by_code(&all[a - 1], &all[a])) {
            st = gf_ctx_err(ctx, GF_ERR_ARG, "commune %s is in %s and in %s: two runs decided on it (give each run its own "
                            "communes: --perimeter)", json_object_get_string(get(all[a], "code")), from[a - 1], from[a]);
            free(from);
            goto done;
        }
        const char *s = json_object_get_string(get(all[a], "status"));
        for (int k = 0; k < 5; k++) byst[k] += s && !strcmp(s, stname[k]);
        json_object_array_add(communes, json_object_get(all[a]));
    }
    free(from);

    json_object_object_add(res, "geoflux", json_object_new_string(GF_VERSION));
    json_object_object_add(res, "generated_at", at ? json_object_new_string(at) : NULL);
    if (has_perimeter) {
        json_object *p = json_object_new_object();
        json_object_object_add(p, "kind", json_object_new_string(pkind));
        json_object_object_add(p, "value", json_object_new_string(pvalue ? pvalue : ""));
        json_object_object_add(p, "communes", json_object_new_int64(pcommunes));
        json_object_object_add(res, "perimeter", p);
    } else {
        json_object_object_add(res, "perimeter", NULL);
    }
    json_object_object_add(res, "options", json_object_get(get(in[0], "options")));
    json_object *counts = json_object_new_object(), *cc = json_object_new_object();
    for (int k = 0; k < 5; k++) json_object_object_add(cc, stname[k], json_object_new_int64(byst[k]));
    json_object_object_add(counts, "submissions", json_object_get(counts_sub));
    json_object_object_add(counts, "communes", cc);
    json_object_object_add(counts, "rows", json_object_get(rows));
    json_object_object_add(res, "counts", counts);
    if (equip) {
        json_object *w = get(equip, "warnings"), *e = get(equip, "errors");
        if (w) json_object_object_add(equip, "warnings", sorted_copy(w));
        if (e) json_object_object_add(equip, "errors", sorted_copy(e));
        json_object_object_add(res, "equipments", json_object_get(equip));
    }
    json_object_object_add(res, "communes", json_object_get(communes));
    json_object_object_add(res, "submissions", json_object_get(subs));
    stats->rows = na;

    const char *text = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto done; }
    if ((st = gf_atomic_create(ctx, o->output, 0, &out))) goto done;
    size_t len = strlen(text);
    for (size_t w = 0; w < len;) {
        ssize_t r = write(out.fd, text + w, len - w);
        if (r < 0) { st = gf_ctx_err(ctx, GF_ERR_IO, "%s: write failed", o->output); goto done; }
        w += (size_t)r;
    }
    if (write(out.fd, "\n", 1) != 1) { st = gf_ctx_err(ctx, GF_ERR_IO, "%s: write failed", o->output); goto done; }
    if ((st = gf_atomic_close(ctx, &out)) || (st = gf_atomic_publish(ctx, &out))) goto done;
done:
    gf_atomic_free(&out);
    free(all);
    free(pvalue);
    if (in)
        for (int i = 0; i < n; i++) json_object_put(in[i]);
    free(in);
    json_object_put(res);
    json_object_put(communes);
    json_object_put(subs);
    json_object_put(counts_sub);
    json_object_put(rows);
    json_object_put(equip);
    return st;
}
