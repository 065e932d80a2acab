/* The geocode, reverse and index build jobs (`geoflux geocode`, `reverse`,
 * `index build`): the checks made before any work, the index loaded or
 * built, the table's pipeline (reader -> SCDL checks -> typing -> geocode
 * or reverse -> output + rejects + a tally of the schema defects). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/gdalerr.h"
#include "geoflux/equipment.h"
#include "job/job_int.h"

/* Counts the rows breaking a rule of their schema (SCDL), written all the
 * same: a commit-only sink (statuses are counted by the geocode stage). */
static gf_status t_begin(void *st, gf_ctx *ctx, const gf_schema *s, int nw)
{
    (void)st; (void)ctx; (void)s; (void)nw;
    return GF_OK;
}

static gf_status t_commit(void *st, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    gf_job *j = st;
    (void)ctx; (void)enc;
    for (size_t r = 0; r < b->n; r++)
        if (b->errors && b->errors[r].len) j->defects++;
    return GF_OK;
}

static const gf_sink_vt tally_vt = {.name = "tally", .begin = t_begin, .commit = t_commit};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

gf_status gf_geocode_job_check(gf_ctx *ctx, const gf_geocode_job_opts *o)
{
    if (!o->input) return gf_ctx_err(ctx, GF_ERR_ARG, "no input table");
    if (!o->output) return gf_ctx_err(ctx, GF_ERR_ARG, "no output");
    if (!o->index == !o->naddresses)
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s", o->index ? "an index and address files are exclusive"
                                                          : "no address base (an index or address files)");
    if (o->naddresses < 0 || (o->naddresses && !o->addresses)) return gf_ctx_err(ctx, GF_ERR_ARG, "no address file");
    if (!o->reverse && !o->lat != !o->lon) return gf_ctx_err(ctx, GF_ERR_ARG, "lat and lon go together (the row's position)");
    if (o->reverse && (o->columns || o->postcode || o->citycode || o->city || o->far_m > 0))
        return gf_ctx_err(ctx, GF_ERR_ARG, "query columns, filters and far apply to geocoding, not to reverse");
    if (!o->reverse && o->max_m > 0) return gf_ctx_err(ctx, GF_ERR_ARG, "max distance applies to reverse, not to geocoding");
    if (o->far_m < 0 || o->max_m < 0) return gf_ctx_err(ctx, GF_ERR_ARG, "distances are positive");
    return GF_OK;
}

static gf_status load_index(gf_job *j, const gf_geocode_job_opts *o)
{
    double t0 = now_s();
    gf_gc_build_opts bo = {.paths = o->addresses, .npaths = o->naddresses, .postcodes = o->postcodes, .threads = o->threads};
    gf_status st = o->index ? gf_gc_index_load(j->ctx, o->index, &j->ix) : gf_gc_index_build(j->ctx, &bo, &j->ix);
    if (st) return st;
    gf_gc_index_stats(j->ix, &j->ixstats);
    j->ix_built = !o->index;
    j->ix_seconds = now_s() - t0;
    return GF_OK;
}

static gf_status build(gf_job *j, const gf_geocode_job_opts *o)
{
    gf_ctx *ctx = j->ctx;
    gf_status st;
    /* before any work (the index build): inputs readable, outputs creatable */
    if ((st = gf_job_check_input(ctx, o->input))) return st;
    for (int i = 0; i < o->naddresses; i++)
        if ((st = gf_job_check_input(ctx, o->addresses[i]))) return st;
    if (o->index && (st = gf_job_check_input(ctx, o->index))) return st;
    if (o->postcodes && !o->index && (st = gf_job_check_input(ctx, o->postcodes))) return st;
    if ((st = gf_job_check_output(ctx, o->output))) return st;
    if (o->rejects && (st = gf_job_check_output(ctx, o->rejects))) return st;
    /* outputs are neither inputs nor each other (write.h), checked before
     * the index is built */
    if (!(j->rejects_path = gf_job_rejects_path(o->output, o->rejects))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    {
        const char **ins = malloc(sizeof *ins * (size_t)(o->naddresses + 3));
        if (!ins) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        int nin = 0;
        ins[nin++] = o->input;
        if (o->index) ins[nin++] = o->index;
        for (int i = 0; i < o->naddresses; i++) ins[nin++] = o->addresses[i];
        if (o->postcodes) ins[nin++] = o->postcodes;
        const gf_path_role outs[] = {{o->output, "output"}, {j->rejects_path, o->rejects ? "--rejects" : "rejects file"}};
        st = gf_output_check_paths(ctx, ins, nin, outs, 2, GF_CHECK_OVERWRITE | (o->append ? GF_CHECK_APPEND : 0));
        free(ins);
        if (st) return st;
    }
    if ((st = gf_crs_resolve(ctx, o->t_srs ? o->t_srs : "EPSG:4326", &j->crs))) return st;
    gf_ctx_log(ctx, GF_LOG_INFO, "output CRS: %s (%s)", gf_crs_label(&j->crs), j->crs.name);
    /* an index file that cannot be used is an unreadable input: its loader
     * says so with GF_ERR_INPUT or GF_ERR_PARSE */
    if ((st = load_index(j, o))) return st;
    gf_table_reader *tr = NULL;
    gf_csv_opts co = {0};
    if ((st = gf_table_open(ctx, o->input, &co, &tr))) return st;
    gf_pipeline_opts po = {.threads = o->threads, .progress = gf_job_progress_cb, .progress_user = j};
    if ((st = gf_pipeline_create(ctx, &po, &j->p))) { gf_table_destroy(tr); return st; }
    gf_pipeline_set_source(j->p, &gf_table_source_vt, tr, gf_table_schema(tr), (void (*)(void *))gf_table_destroy);
    /* SCDL rules are checked and reported (errors column, counts), but a
     * row breaking one is geocoded and written all the same: batch
     * geocoders never withhold a row */
    gf_reverse_opts ro = {.index = j->ix, .lat_col = o->lat, .lon_col = o->lon,
                          .max_m = o->max_m > 0 ? o->max_m : GF_GC_REVERSE_MAX_M,
                          .result_columns = o->result_columns, .columns_style = o->columns_style};
    gf_geocode_opts go = {.index = j->ix, .columns = o->columns, .postcode = o->postcode, .citycode = o->citycode,
                          .city = o->city, .lat_col = o->lat, .lon_col = o->lon, .bias = o->lat && o->lon,
                          .far_m = o->far_m, .result_columns = o->result_columns, .columns_style = o->columns_style};
    if ((st = gf_geocode_table_stages(ctx, j->p, tr, o->reverse ? NULL : &go, o->reverse ? &ro : NULL, o->t_srs,
                                      &j->gstage)))
        return st;
    j->table[0] = o->input;
    const char *const *inputs = j->table; /* borrowed by the sinks until the job ends */
    gf_output_opts oo = {.path = o->output, .format = o->format, .layer = o->layer, .append = o->append,
                         .precision = o->precision, .epsg = j->crs.epsg, .srs_wkt = j->crs.wkt,
                         .srs_geographic = j->crs.geographic};
    oo.inputs = inputs; oo.ninputs = 1; /* `source` of the GeoPackage's rejects table */
    const gf_sink_vt *svt;
    void *sst;
    if ((st = gf_output_open(ctx, &oo, &svt, &sst))) return st;
    if ((st = gf_pipeline_add_sink(j->p, svt, sst))) { svt->destroy(sst); return st; }
    if ((st = gf_rejects_open(ctx, j->rejects_path, inputs, 1, &sst))) return st;
    if ((st = gf_pipeline_add_sink(j->p, &gf_rejects_sink_vt, sst))) { gf_rejects_sink_vt.destroy(sst); return st; }
    return gf_pipeline_add_sink(j->p, &tally_vt, j);
}

gf_status gf_job_geocode(gf_ctx *ctx, const gf_geocode_job_opts *o, gf_job **out)
{
    *out = NULL;
    gf_gdal_register();
    gf_status st = gf_geocode_job_check(ctx, o);
    if (st) return st;
    gf_job *j = calloc(1, sizeof *j);
    if (!j) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    j->ctx = ctx;
    if ((st = build(j, o))) {
        gf_job_destroy(j);
        return st;
    }
    *out = j;
    return GF_OK;
}

void gf_job_geocode_info(const gf_job *j, gf_geocode_info *out)
{
    memset(out, 0, sizeof *out);
    out->index = j->ixstats;
    out->index_built = j->ix_built;
    out->index_seconds = j->ix_seconds;
    out->crs = &j->crs;
    out->rejects = j->rejects_path ? j->rejects_path + (j->rejects_path[0] == '?') : NULL;
    if (j->gstage) gf_geocode_stage_counts(j->gstage, &out->counts);
    out->defects = j->defects;
}

gf_status gf_job_index_build(gf_ctx *ctx, const gf_index_job_opts *o, gf_gc_stats *stats)
{
    gf_gdal_register();
    if (!o->output) return gf_ctx_err(ctx, GF_ERR_ARG, "no output");
    if (o->ninputs <= 0 || !o->inputs) return gf_ctx_err(ctx, GF_ERR_ARG, "no input file");
    gf_status st = GF_OK;
    /* before the build: inputs readable, the output's folder writable, the
     * index not written over one of its inputs */
    for (int i = 0; i < o->ninputs && !st; i++) st = gf_job_check_input(ctx, o->inputs[i]);
    if (!st && o->postcodes) st = gf_job_check_input(ctx, o->postcodes);
    if (!st) st = gf_job_check_output(ctx, o->output);
    if (!st) {
        const char **ins = malloc(sizeof *ins * (size_t)(o->ninputs + 1));
        if (!ins) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        int nin = 0;
        for (int i = 0; i < o->ninputs; i++) ins[nin++] = o->inputs[i];
        if (o->postcodes) ins[nin++] = o->postcodes;
        const gf_path_role outs[] = {{o->output, "output"}};
        st = gf_output_check_paths(ctx, ins, nin, outs, 1, GF_CHECK_OVERWRITE);
        free(ins);
    }
    gf_gc_index *ix = NULL;
    gf_gc_build_opts bo = {.paths = o->inputs, .npaths = o->ninputs, .postcodes = o->postcodes, .threads = o->threads};
    if (!st) st = gf_gc_index_build(ctx, &bo, &ix);
    if (!st && stats) gf_gc_index_stats(ix, stats);
    if (!st) st = gf_gc_index_save(ix, ctx, o->output);
    gf_gc_index_destroy(ix);
    return st;
}
