/* What a result looks like to its readers: its label, its house number with
 * suffix, its position in the legal CRS of its territory. Shared by the CSV
 * stages (stage.c) and `geoflux serve`'s JSON answers, so that a column and
 * the property of the same name never disagree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proj.h>

#include "geocode/gc.h"

size_t gf_gc_result_label(const gf_gc_result *r, char *out, size_t outsz)
{
    if (!outsz) return 0;
    out[0] = 0;
    if (!r || r->type == GF_GC_NONE) return 0;
    int n;
    if (r->type == GF_GC_MUNICIPALITY)
        n = snprintf(out, outsz, "%s%s%s", r->postcode, r->postcode[0] ? " " : "", r->city);
    else if (r->postcode[0]) n = snprintf(out, outsz, "%s %s %s", r->name, r->postcode, r->city);
    else n = snprintf(out, outsz, "%s %s", r->name, r->city);
    if (n < 0) { out[0] = 0; return 0; }
    return (size_t)n < outsz ? (size_t)n : outsz - 1;
}

size_t gf_gc_result_housenumber(const gf_gc_result *r, char *out, size_t outsz)
{
    if (!outsz) return 0;
    out[0] = 0;
    if (!r || r->type == GF_GC_NONE || r->housenumber < 0) return 0;
    int n = snprintf(out, outsz, "%lld%s", (long long)r->housenumber, r->suffix);
    if (n < 0) { out[0] = 0; return 0; }
    return (size_t)n < outsz ? (size_t)n : outsz - 1;
}

int gf_gc_legal_epsg(const char *citycode) { return citycode ? gc_legal_epsg(citycode) : 0; }

/* The EPSG codes gc_legal_epsg() returns, one PROJ object each. */
static const int legal_codes[] = {2154, 5490, 2972, 2975, 4467, 4471};
#define NLEGAL (sizeof legal_codes / sizeof legal_codes[0])

struct gf_gc_legal {
    PJ *pj[NLEGAL];
    PJ_CONTEXT *made_in[NLEGAL]; /* the PROJ context each was created in */
};

gf_status gf_gc_legal_create(gf_gc_legal **out)
{
    if (!out) return GF_ERR_ARG;
    *out = calloc(1, sizeof **out);
    return *out ? GF_OK : GF_ERR_NOMEM;
}

void gf_gc_legal_destroy(gf_gc_legal *l)
{
    if (!l) return;
    for (size_t k = 0; k < NLEGAL; k++)
        if (l->pj[k]) proj_destroy(l->pj[k]);
    free(l);
}

gf_status gf_gc_legal_trans(gf_gc_legal *l, gf_ctx *ctx, int epsg, double *x, double *y, size_t n)
{
    if (!l || !ctx || (n && (!x || !y))) return GF_ERR_ARG;
    size_t k = 0;
    while (k < NLEGAL && legal_codes[k] != epsg) k++;
    if (k == NLEGAL) return gf_ctx_err(ctx, GF_ERR_ARG, "EPSG:%d is not a legal CRS of a French territory", epsg);
    PJ_CONTEXT *pc = (PJ_CONTEXT *)gf_ctx_proj(ctx);
    if (l->pj[k] && l->made_in[k] != pc) { /* a PJ belongs to one PROJ context */
        proj_destroy(l->pj[k]);
        l->pj[k] = NULL;
    }
    if (!l->pj[k]) {
        char to[16];
        snprintf(to, sizeof to, "EPSG:%d", epsg);
        PJ *p = proj_create_crs_to_crs(pc, "EPSG:4326", to, NULL);
        if (p) {
            l->pj[k] = proj_normalize_for_visualization(pc, p);
            proj_destroy(p);
        }
        if (!l->pj[k]) return gf_ctx_err(ctx, GF_ERR_PROJ, "PROJ: cannot transform EPSG:4326 to %s", to);
        l->made_in[k] = pc;
    }
    if (n) proj_trans_generic(l->pj[k], PJ_FWD, x, sizeof(double), n, y, sizeof(double), n, NULL, 0, 0, NULL, 0, 0);
    return GF_OK;
}
