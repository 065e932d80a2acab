/* The validate job (`geoflux validate`): each input on its own with the
 * reference validator's rules, reported as soon as it is done. */
#include "core/gdalerr.h"
#include "job/job_int.h"

gf_status gf_validate_job_check(gf_ctx *ctx, const gf_validate_job_opts *o)
{
    if (o->profile && !gf_validate_profile_known(o->profile))
        return gf_ctx_err(ctx, GF_ERR_ARG, "unknown profile '%s' (1.3, 1.3-relax, 1.4, 1.5)", o->profile);
    if (o->ninputs <= 0 || !o->inputs) return gf_ctx_err(ctx, GF_ERR_ARG, "no input file");
    return GF_OK;
}

gf_status gf_job_validate(gf_ctx *ctx, const gf_validate_job_opts *o)
{
    gf_gdal_register();
    gf_status st = gf_validate_job_check(ctx, o);
    if (st) return st;
    gf_validate_file_opts fo = {.profile = o->profile, .csv = o->csv};
    /* one engine for every file: its workers (and their PROJ objects) are
     * made once; none when one thread is asked for */
    gf_engine *e = NULL;
    if (o->threads != 1) {
        gf_engine_opts eo = {.threads = o->threads};
        if ((st = gf_engine_create(ctx, &eo, &e))) return st;
        if (gf_engine_threads(e) < 2) gf_engine_destroy(e), e = NULL;
    }
    fo.engine = e;
    for (int i = 0; i < o->ninputs; i++) {
        gf_validate_report r;
        gf_ctx_err(ctx, GF_OK, "%s", "");
        st = gf_validate_file(ctx, o->inputs[i], &fo, &r);
        if (o->on_file) o->on_file(o->user, i, o->inputs[i], st, st ? gf_ctx_errmsg(ctx) : "", st ? NULL : &r);
        if (!st) gf_validate_report_free(&r);
    }
    gf_engine_destroy(e);
    return GF_OK;
}
