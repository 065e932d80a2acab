/* Typing stage: converts the reader's text columns to the schema types.
 * Runs on worker threads after validation, so it never judges a value: what
 * does not convert becomes null. Strings are trimmed.
 *
 * The batch contract (include/geoflux/batch.h): each column goes from
 * GF_COL_TEXT to GF_COL_TYPED here, and only here; columns already typed
 * (a source that produces numbers) are left as they are. A typed value never
 * overwrites its text: numbers take the column's own 8-byte slot, an ISO
 * date (10 bytes, longer than "DD/MM/YY") is appended to the arena. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geoflux/ingest.h"
#include "ingest/parse.h"

static void trim(const char **p, size_t *n)
{
    while (*n && ((**p == ' ') | (**p == '\t'))) { (*p)++; (*n)--; }
    while (*n && (((*p)[*n - 1] == ' ') | ((*p)[*n - 1] == '\t'))) (*n)--;
}

/* Types column f of b in place of its text. */
static gf_status type_column(gf_batch *b, int f)
{
    gf_col *c = &b->cols[f];
    gf_type t = b->schema->fields[f].type;
    for (size_t r = 0; r < b->n; r++) {
        if (!c->valid[r]) continue;
        gf_sref ref = c->v.s[r];
        const char *p = b->arena + ref.off;
        size_t n = ref.len;
        trim(&p, &n);
        switch (t) {
        case GF_T_STRING:
            c->v.s[r] = (gf_sref){(uint32_t)(p - b->arena), (uint32_t)n};
            c->valid[r] = n > 0;
            break;
        case GF_T_INT: {
            int64_t v;
            if (gf_parse_int(p, n, &v)) c->v.i[r] = v;
            else c->valid[r] = 0;
            break;
        }
        case GF_T_REAL: {
            double v;
            if (gf_parse_double(p, n, 1, &v)) c->v.d[r] = v;
            else c->valid[r] = 0;
            break;
        }
        case GF_T_BOOL: {
            int v;
            if (gf_parse_bool(p, n, &v)) c->v.i[r] = v;
            else c->valid[r] = 0;
            break;
        }
        case GF_T_DATE: {
            char iso[11];
            if (!gf_parse_date(p, n, iso)) {
                c->valid[r] = 0;
                break;
            }
            /* p is not used past this point: the arena may move */
            gf_status st = gf_batch_intern(b, iso, 10, &c->v.s[r]);
            if (st) return st;
            break;
        }
        }
    }
    c->state = GF_COL_TYPED;
    return GF_OK;
}

static gf_status run(void *st, gf_ctx *ctx, int worker, gf_batch *b)
{
    (void)st; (void)worker;
    gf_status s = gf_batch_expect(b, ctx, NULL, 0, -1, "typing");
    if (s) return s;
    const gf_schema *sc = b->schema;
    for (int f = 0; f < sc->nfields; f++)
        if (b->cols[f].state == GF_COL_TEXT && (s = type_column(b, f)))
            return gf_ctx_err(ctx, s, "typing: out of memory");
    /* Position flags, for the address schema. */
    if (sc->kind && strcmp(sc->kind, "address") == 0) {
        if ((s = gf_batch_expect(b, ctx, gf_address_schema(), 0, -1, "typing"))) return s;
        for (size_t r = 0; r < b->n; r++) {
            if (b->cols[GF_A_X].valid[r] && b->cols[GF_A_Y].valid[r]) b->flags[r] |= GF_ROW_HAS_XY;
            if (b->cols[GF_A_LONG].valid[r] && b->cols[GF_A_LAT].valid[r]) {
                double lo = b->cols[GF_A_LONG].v.d[r], la = b->cols[GF_A_LAT].v.d[r];
                if (lo >= -180 && lo <= 180 && la >= -90 && la <= 90 && !(lo == 0 && la == 0))
                    b->flags[r] |= GF_ROW_HAS_LONLAT;
            }
        }
    }
    return GF_OK;
}

const gf_stage_vt gf_typing_stage_vt = {
    .name = "typing",
    .run = run,
};
