/* Columnar batch storage and its contract checks (include/geoflux/batch.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geoflux/batch.h"

gf_status gf_batch_create(const gf_schema *s, size_t cap, gf_batch **out)
{
    gf_batch *b = calloc(1, sizeof *b);
    if (!b) return GF_ERR_NOMEM;
    b->own_schema = *s;
    b->schema = &b->own_schema;
    b->cap = cap;
    int ok = 1;
    for (int i = 0; i < s->nfields; i++) {
        b->cols[i].valid = calloc(cap, 1);
        /* int64, double and gf_sref are all 8 bytes. */
        b->cols[i].v.i = malloc(cap * 8);
        ok &= b->cols[i].valid && b->cols[i].v.i;
    }
    b->gx = malloc(cap * sizeof(double));
    b->gy = malloc(cap * sizeof(double));
    b->lon = malloc(cap * sizeof(double));
    b->lat = malloc(cap * sizeof(double));
    b->flags = malloc(cap * sizeof(uint32_t));
    b->line = malloc(cap * sizeof(uint64_t));
    b->src = malloc(cap * sizeof(uint32_t));
    b->raw = malloc(cap * sizeof(gf_sref));
    b->errors = malloc(cap * sizeof(gf_sref));
    b->warnings = malloc(cap * sizeof(gf_sref));
    b->acap = cap * 256;
    b->arena = malloc(b->acap);
    ok &= b->gx && b->gy && b->lon && b->lat && b->flags && b->line && b->src && b->raw &&
          b->errors && b->warnings && b->arena;
    if (!ok) {
        gf_batch_destroy(b);
        return GF_ERR_NOMEM;
    }
    *out = b;
    return GF_OK;
}

void gf_batch_destroy(gf_batch *b)
{
    if (!b) return;
    for (int i = 0; i < GF_MAX_FIELDS; i++) {
        free(b->cols[i].valid);
        free(b->cols[i].v.i);
    }
    free(b->gx); free(b->gy); free(b->lon); free(b->lat);
    free(b->flags); free(b->line); free(b->src); free(b->raw);
    free(b->errors); free(b->warnings); free(b->arena); free(b->rej);
    free(b);
}

void gf_batch_reset(gf_batch *b)
{
    for (int i = 0; i < b->schema->nfields; i++) b->cols[i].state = GF_COL_TEXT;
    b->n = 0;
    b->nrej = 0;
    b->alen = 0;
}

long gf_batch_add_row(gf_batch *b, uint64_t line, uint32_t src)
{
    if (b->n >= b->cap) return -1;
    size_t r = b->n++;
    for (int i = 0; i < b->schema->nfields; i++) b->cols[i].valid[r] = 0;
    b->gx[r] = b->gy[r] = b->lon[r] = b->lat[r] = NAN;
    b->flags[r] = 0;
    b->line[r] = line;
    b->src[r] = src;
    b->raw[r] = (gf_sref){0, 0};
    b->errors[r] = (gf_sref){0, 0};
    b->warnings[r] = (gf_sref){0, 0};
    return (long)r;
}

/* Room for len more bytes at the arena's end (offsets are 32-bit). */
static gf_status arena_reserve(gf_batch *b, size_t len)
{
    if (len > UINT32_MAX || b->alen + len > UINT32_MAX) return GF_ERR_NOMEM;
    if (b->alen + len > b->acap) {
        size_t nc = b->acap ? b->acap : 4096;
        while (nc < b->alen + len) nc *= 2;
        char *na = realloc(b->arena, nc);
        if (!na) return GF_ERR_NOMEM;
        b->arena = na;
        b->acap = nc;
    }
    return GF_OK;
}

gf_status gf_batch_intern(gf_batch *b, const char *p, size_t len, gf_sref *ref)
{
    gf_status st = arena_reserve(b, len);
    if (st) return st;
    if (len) memcpy(b->arena + b->alen, p, len);
    ref->off = (uint32_t)b->alen;
    ref->len = (uint32_t)len;
    b->alen += len;
    return GF_OK;
}

static int stores_sref(gf_type t) { return t == GF_T_STRING || t == GF_T_DATE; }

/* A column switches to GF_COL_TYPED on its first number; text already in
 * it would then be read as numbers, so that is refused. */
static int make_typed(gf_batch *b, int col)
{
    gf_col *c = &b->cols[col];
    if (c->state == GF_COL_TYPED) return 1;
    for (size_t r = 0; r < b->n; r++)
        if (c->valid[r]) return 0;
    c->state = GF_COL_TYPED;
    return 1;
}

gf_status gf_batch_set_str(gf_batch *b, int col, size_t row, const char *p, size_t len)
{
    if (col < 0 || col >= b->schema->nfields || row >= b->n ||
        (b->cols[col].state == GF_COL_TYPED && !stores_sref(b->schema->fields[col].type)))
        return GF_ERR_INTERNAL;
    gf_status st = gf_batch_intern(b, p, len, &b->cols[col].v.s[row]);
    if (st == GF_OK) b->cols[col].valid[row] = 1;
    return st;
}

gf_status gf_batch_set_int(gf_batch *b, int col, size_t row, int64_t v)
{
    if (col < 0 || col >= b->schema->nfields || row >= b->n) return GF_ERR_INTERNAL;
    gf_type t = b->schema->fields[col].type;
    if ((t != GF_T_INT && t != GF_T_BOOL) || !make_typed(b, col)) return GF_ERR_INTERNAL;
    b->cols[col].v.i[row] = v;
    b->cols[col].valid[row] = 1;
    return GF_OK;
}

gf_status gf_batch_set_real(gf_batch *b, int col, size_t row, double v)
{
    if (col < 0 || col >= b->schema->nfields || row >= b->n) return GF_ERR_INTERNAL;
    if (b->schema->fields[col].type != GF_T_REAL || !make_typed(b, col)) return GF_ERR_INTERNAL;
    b->cols[col].v.d[row] = v;
    b->cols[col].valid[row] = 1;
    return GF_OK;
}

gf_status gf_batch_expect(const gf_batch *b, gf_ctx *ctx, const gf_schema *s, int exact, int state,
                          const char *who)
{
    const gf_schema *bs = b->schema;
    if (bs != &b->own_schema || !gf_schema_same_fields(bs, &b->own_schema, bs->nfields))
        return gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s: the batch does not carry the schema it was built for", who);
    if (s && (s->nfields > bs->nfields || (exact && s->nfields != bs->nfields) ||
              !gf_schema_same_fields(bs, s, s->nfields)))
        return gf_ctx_err(ctx, GF_ERR_INTERNAL,
                          "%s: given a batch of another schema (%s, %d fields; expected %s, %d fields%s)", who,
                          bs->kind ? bs->kind : "?", bs->nfields, s->kind ? s->kind : "?", s->nfields,
                          exact ? "" : " or more");
    if (state >= 0)
        for (int i = 0; i < bs->nfields; i++)
            if ((int)b->cols[i].state != state && !(state == GF_COL_TYPED && stores_sref(bs->fields[i].type)))
                return gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s: column %s is %s, expected %s", who, bs->fields[i].name,
                                  b->cols[i].state == GF_COL_TEXT ? "text" : "typed",
                                  state == GF_COL_TEXT ? "text" : "typed");
    return GF_OK;
}

gf_status gf_batch_add_issue(gf_batch *b, size_t row, int is_error, const char *code)
{
    gf_sref *list = is_error ? &b->errors[row] : &b->warnings[row];
    size_t cl = strlen(code), ol = list->len;
    /* Rebuild "old|code" at the arena end: lists are short and rare, and
     * however long, every code is kept. */
    size_t need = ol + (ol ? 1 : 0) + cl;
    gf_status st = arena_reserve(b, need);
    if (st) return st;
    char *dst = b->arena + b->alen; /* the old list lies before alen */
    if (ol) {
        memmove(dst, b->arena + list->off, ol);
        dst[ol++] = '|';
    }
    memcpy(dst + ol, code, cl);
    list->off = (uint32_t)b->alen;
    list->len = (uint32_t)need;
    b->alen += need;
    b->flags[row] |= is_error ? GF_ROW_INVALID : GF_ROW_WARN;
    return GF_OK;
}

static gf_status push_reject(gf_batch *b, uint64_t line, uint32_t src, gf_sref raw, const char *reason)
{
    if (b->nrej == b->rejcap) {
        size_t nc = b->rejcap ? b->rejcap * 2 : 64;
        gf_reject *nr = realloc(b->rej, nc * sizeof *nr);
        if (!nr) return GF_ERR_NOMEM;
        b->rej = nr;
        b->rejcap = nc;
    }
    gf_reject *r = &b->rej[b->nrej];
    r->line = line;
    r->src = src;
    r->raw = raw;
    gf_status st = gf_batch_intern(b, reason, strlen(reason), &r->reason);
    if (st) return st;
    b->nrej++;
    return GF_OK;
}

gf_status gf_batch_reject(gf_batch *b, size_t row, const char *reason)
{
    if (b->flags[row] & GF_ROW_DROP) return GF_OK;
    b->flags[row] |= GF_ROW_DROP;
    return push_reject(b, b->line[row], b->src[row], b->raw[row], reason);
}

gf_status gf_batch_reject_raw(gf_batch *b, uint64_t line, uint32_t src, const char *raw,
                              size_t rawlen, const char *reason)
{
    gf_sref r;
    gf_status st = gf_batch_intern(b, raw, rawlen, &r);
    if (st) return st;
    return push_reject(b, line, src, r, reason);
}

void gf_batch_compact(gf_batch *b)
{
    size_t w = 0;
    int nf = b->schema->nfields;
    for (size_t r = 0; r < b->n; r++) {
        if (b->flags[r] & GF_ROW_DROP) continue;
        if (w != r) {
            for (int i = 0; i < nf; i++) {
                b->cols[i].valid[w] = b->cols[i].valid[r];
                b->cols[i].v.i[w] = b->cols[i].v.i[r];
            }
            b->gx[w] = b->gx[r]; b->gy[w] = b->gy[r];
            b->lon[w] = b->lon[r]; b->lat[w] = b->lat[r];
            b->flags[w] = b->flags[r]; b->line[w] = b->line[r]; b->src[w] = b->src[r];
            b->raw[w] = b->raw[r]; b->errors[w] = b->errors[r]; b->warnings[w] = b->warnings[r];
        }
        w++;
    }
    b->n = w;
}
