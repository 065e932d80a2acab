/* The convert job (`geoflux convert`, `geoflux tiles`): the options
 * checked, the stages in their order, the writers. The only place that
 * assembles this pipeline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_error.h>
#include <gdal.h>

#include "core/gdalerr.h"
#include "geoflux/bal.h"
#include "geoflux/gpkg.h"
#include "geoflux/tiles.h"
#include "job/job_int.h"

/* Output i of the job (0: output, then more_outputs) and its format
 * (format names the first one only). */
static int nouts(const gf_convert_opts *o) { return 1 + (o->nmore_outputs > 0 ? o->nmore_outputs : 0); }
static const char *out_path(const gf_convert_opts *o, int i) { return i ? o->more_outputs[i - 1] : o->output; }
static const gf_format *out_format(const gf_convert_opts *o, int i, gf_format *scratch)
{
    return gf_output_format_find(i ? NULL : o->format, out_path(o, i), scratch);
}

gf_status gf_convert_check(gf_ctx *ctx, const gf_convert_opts *o)
{
    gf_gdal_register(); /* the format table may ask GDAL for a driver */
    if (o->ninputs <= 0 || !o->inputs) return gf_ctx_err(ctx, GF_ERR_ARG, "no input file");
    if (!o->output) return gf_ctx_err(ctx, GF_ERR_ARG, "no output (-o FILE)");
    if (o->nmore_outputs < 0 || (o->nmore_outputs && !o->more_outputs) || nouts(o) > GF_CONVERT_MAX_OUTPUTS)
        return gf_ctx_err(ctx, GF_ERR_ARG, "at most %d outputs (-o) in one run", GF_CONVERT_MAX_OUTPUTS);
    if (nouts(o) > 1) {
        if (o->format)
            return gf_ctx_err(ctx, GF_ERR_ARG, "-f names the format of a single output: with several -o, each "
                                               "output takes the format of its extension");
        if (o->to_bal) return gf_ctx_err(ctx, GF_ERR_ARG, "--to-bal writes one BAL file: not with several -o");
        if (o->append) return gf_ctx_err(ctx, GF_ERR_ARG, "--append adds layers to one GeoPackage: not with several -o");
        int stdouts = 0;
        for (int i = 0; i < nouts(o); i++) {
            if (!out_path(o, i)) return gf_ctx_err(ctx, GF_ERR_ARG, "output %d: no path", i + 1);
            stdouts += !strcmp(out_path(o, i), "-");
        }
        if (stdouts > 1) return gf_ctx_err(ctx, GF_ERR_ARG, "-o -: standard output can take one output only");
    }
    if (o->prevalidated && (o->harmonise || o->keep_invalid || o->profile))
        return gf_ctx_err(ctx, GF_ERR_ARG, "prevalidated inputs are neither harmonised nor validated again");
    if (o->to_bal_per_input && (!o->to_bal || !o->rejects))
        return gf_ctx_err(ctx, GF_ERR_ARG, "one BAL file per input needs to_bal and a rejects path");
    int tiles = 0;
    for (int i = 0; i < nouts(o); i++) {
        gf_format scratch;
        const gf_format *f = out_format(o, i, &scratch);
        int t = f && (f->caps & GF_FMT_TILES);
        tiles |= t;
        if (o->tiles_only && !t)
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s: the output must be a .pmtiles or .mbtiles archive (-o FILE, or -f "
                                               "pmtiles|mbtiles)", out_path(o, i));
    }
    const gf_join_opts *jo = &o->join;
    if (jo->stats_path && !jo->path)
        return gf_ctx_err(ctx, GF_ERR_ARG, "--stats needs --communes (the statistics are per commune)");
    if (!jo->path && (jo->code_field || jo->name_field || jo->max_distance_m))
        return gf_ctx_err(ctx, GF_ERR_ARG,
                          "--communes-code-field, --communes-name-field and --max-distance need --communes");
    if (!tiles && (o->minzoom >= 0 || o->maxzoom >= 0 || o->attributes))
        return gf_ctx_err(ctx, GF_ERR_ARG,
                          "--minzoom, --maxzoom and --attributes are for tile outputs (.pmtiles, .mbtiles)");
    if (o->minzoom >= 0 && o->maxzoom >= 0 && o->minzoom > o->maxzoom)
        return gf_ctx_err(ctx, GF_ERR_ARG, "--minzoom %d is above --maxzoom %d", o->minzoom, o->maxzoom);
    return GF_OK;
}

/* Inputs, outputs and CRSs, before any work, each reported with the
 * user's own spelling. */
static gf_status check_paths(gf_job *j)
{
    gf_ctx *ctx = j->ctx;
    const gf_convert_opts *o = &j->o;
    gf_status st;
    /* outputs are neither inputs nor each other (write.h) */
    gf_path_role outs[GF_CONVERT_MAX_OUTPUTS + 2] = {{o->to_bal_per_input ? NULL : o->output, "output"},
                                                     {j->rejects_path, o->rejects ? "--rejects" : "rejects file"},
                                                     {o->join.stats_path, "--stats"}};
    int nout = 3;
    for (int i = 1; i < nouts(o); i++) outs[nout++] = (gf_path_role){out_path(o, i), "output"};
    unsigned cf = (o->overwrite ? GF_CHECK_OVERWRITE : 0) | (o->append ? GF_CHECK_APPEND : 0);
    if ((st = gf_output_check_paths(ctx, o->inputs, o->ninputs, outs, nout, cf))) return st;
    for (int i = 0; i < o->ninputs; i++)
        if ((st = gf_job_check_input(ctx, o->inputs[i]))) return st;
    if (o->join.path && (st = gf_job_check_input(ctx, o->join.path))) return st;
    if (o->to_bal_per_input) {
        struct stat sb;
        if (stat(o->output, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(o->output, W_OK) != 0)
            return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: not a writable directory (one BAL file per input)", o->output);
    } else {
        for (int i = 0; i < nouts(o); i++)
            if ((st = gf_job_check_output(ctx, out_path(o, i)))) return st;
    }
    if (o->rejects && (st = gf_job_check_output(ctx, o->rejects))) return st;
    if (o->join.stats_path && (st = gf_job_check_output(ctx, o->join.stats_path))) return st;
    if ((st = gf_crs_resolve(ctx, o->t_srs ? o->t_srs : "EPSG:4326", &j->crs))) return st;
    gf_ctx_log(ctx, GF_LOG_INFO, "output CRS: %s (%s)", gf_crs_label(&j->crs), j->crs.name);
    if (o->s_srs) {
        if ((st = gf_crs_resolve(ctx, o->s_srs, &j->scrs))) return st;
        gf_ctx_log(ctx, GF_LOG_INFO, "x/y CRS (--s-srs): %s (%s)", gf_crs_label(&j->scrs), j->scrs.name);
    }
    return GF_OK;
}

/* The join after reproject (it reads b->lon/b->lat). Its statistics also
 * go, as a layer held in memory, into outputs that hold several layers
 * natively (GeoPackage, tiles): the job makes the dataset, the join fills
 * it at its end(), the writer copies it at finish(). */
static gf_status make_join(gf_job *j, int side_layers, void **out)
{
    gf_ctx *ctx = j->ctx;
    gf_join_opts jo = j->o.join;
    gf_status st = GF_OK;
    jo.layer_ds = NULL;
    /* a side layer of the caller's called "communes" takes the statistics' place */
    int replaced = 0;
    for (int i = 0; i < j->o.nextra_layers; i++)
        replaced |= j->o.extra_layers[i].name && !strcmp(j->o.extra_layers[i].name, "communes");
    if (side_layers && !replaced) {
        gf_gdal_errs ge;
        gf_gdal_enter(&ge, ctx);
        GDALDriverH mem = GDALGetDriverByName("Memory");
        j->join_ds = mem ? GDALCreate(mem, "communes", 0, 0, 0, GDT_Unknown, NULL) : NULL;
        if (!j->join_ds) st = gf_ctx_err(ctx, GF_ERR_GDAL, "cannot create the communes layer in memory: %s",
                                         gf_gdal_msg(&ge, "no Memory driver"));
        gf_gdal_leave(&ge);
        if (!j->join_ds) return st;
        j->join_xl = (gf_extra_layer){.name = "communes", .path = "the communes statistics", .dataset = j->join_ds};
        jo.layer_ds = j->join_ds;
    }
    jo.out_srs_wkt = j->crs.wkt;
    jo.out_geographic = j->crs.geographic;
    return gf_join_create(ctx, &jo, out);
}

/* What grows with the input and draws from --max-memory: the outputs that
 * sort or index (tiles, GeoPackage), and the validation's file-wide tables
 * when the job validates. Each takes an equal share; the CLI's --max-memory
 * help and docs say so. */
static int memory_shares(const gf_convert_opts *o)
{
    int n = o->prevalidated ? 0 : 1;
    if (o->to_bal) return n;
    for (int i = 0; i < nouts(o); i++) {
        gf_format scratch;
        const gf_format *f = out_format(o, i, &scratch);
        n += f && ((f->caps & GF_FMT_TILES) || !strcmp(f->name, "gpkg"));
    }
    return n;
}

static gf_status add_sinks(gf_job *j)
{
    gf_ctx *ctx = j->ctx;
    const gf_convert_opts *o = &j->o;
    gf_status st;
    gf_output_opts oo = {.path = o->output, .format = o->format, .layer = o->layer, .append = o->append,
                         .precision = o->precision, .epsg = j->crs.epsg, .srs_wkt = j->crs.wkt,
                         .srs_geographic = j->crs.geographic, .srs_explicit = o->t_srs != NULL,
                         .srs_name = o->t_srs, .minzoom = o->minzoom, .maxzoom = o->maxzoom,
                         .attributes = o->attributes, .max_memory = o->max_memory, .tmpdir = o->tmpdir,
                         .threads = o->threads, .inputs = o->inputs, .ninputs = o->ninputs,
                         .time = o->time};
    int nx = 0;
    if (j->join_xl.name || o->nextra_layers > 0) {
        if (!(j->xl = calloc((size_t)o->nextra_layers + 1, sizeof *j->xl))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        if (j->join_xl.name) j->xl[nx++] = j->join_xl;
        for (int i = 0; i < o->nextra_layers; i++) j->xl[nx++] = o->extra_layers[i];
        oo.extra_layers = j->xl;
        oo.nextra_layers = nx;
    }
    const gf_sink_vt *svt;
    void *sst;
    if (o->to_bal) { /* harmonised BAL instead of a geodata format */
        svt = &gf_bal_sink_vt;
        if ((st = o->to_bal_per_input ? gf_bal_open_per_input(ctx, &oo, o->to_bal, o->ninputs, &sst)
                                      : gf_bal_open(ctx, &oo, o->to_bal, &sst)))
            return st;
        if ((st = gf_pipeline_add_sink(j->p, svt, sst))) { svt->destroy(sst); return st; }
    } else {
        /* the outputs that sort or index share the memory budget with the
         * validation's tables */
        int shares = memory_shares(o);
        if (o->max_memory && shares > 1) {
            oo.max_memory = o->max_memory / (size_t)shares;
            oo.memory_shares = shares;
        }
        for (int i = 0; i < nouts(o); i++) {
            oo.path = out_path(o, i);
            oo.format = i ? NULL : o->format;
            if ((st = gf_output_open(ctx, &oo, &svt, &sst))) return st;
            if ((st = gf_pipeline_add_sink(j->p, svt, sst))) { svt->destroy(sst); return st; }
        }
    }
    if ((st = gf_rejects_open(ctx, j->rejects_path, o->inputs, o->ninputs, &sst))) return st;
    if ((st = gf_pipeline_add_sink(j->p, &gf_rejects_sink_vt, sst))) gf_rejects_sink_vt.destroy(sst);
    return st;
}

static gf_status build(gf_job *j)
{
    gf_ctx *ctx = j->ctx;
    const gf_convert_opts *o = &j->o;
    gf_status st;
    if ((st = gf_convert_check(ctx, o))) return st;
    if (!(j->rejects_path = gf_job_rejects_path(o->output, o->rejects)))
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if ((st = check_paths(j))) return st;

    gf_reader *reader = NULL;
    if ((st = gf_reader_open(ctx, o->inputs, o->ninputs, &o->read, &reader))) return st;
    gf_pipeline_opts po = {.threads = o->threads, .progress = gf_job_progress_cb, .progress_user = j,
                           .profile = o->profile_stages};
    if ((st = gf_pipeline_create(ctx, &po, &j->p))) { gf_reader_destroy(reader); return st; }
    gf_pipeline_set_source(j->p, &gf_reader_source_vt, reader, gf_reader_schema(reader),
                           (void (*)(void *))gf_reader_destroy);
    j->reader = reader; /* owned by the pipeline */

    /* stages, in order: the repairs and BAL validation on the text
     * columns, typing, reprojection, then the join, which reads the
     * positions. The join's boundaries are loaded first: the repairs use
     * them too. */
    void *js = NULL, *hs = NULL, *vs = NULL, *rp = NULL;
    int side = 0; /* an output takes the join's statistics as a layer */
    for (int i = 0; i < nouts(o); i++) {
        gf_format scratch;
        const gf_format *f = out_format(o, i, &scratch);
        side |= f && (f->caps & GF_FMT_EXTRA_LAYERS);
    }
    if (o->join.path && (st = make_join(j, side, &js))) return st;
    if (o->harmonise) {
        gf_harmonise_opts ho = o->harm;
        if (!ho.communes) ho.communes = gf_join_stage_index(js);
        if (!ho.s_srs) ho.s_srs = o->s_srs; /* long/lat from x/y in the CRS given for them */
        if ((st = gf_harmonise_create(ctx, &ho, j->reader, &hs)) ||
            (st = gf_pipeline_add_stage(j->p, &gf_harmonise_stage_vt, hs))) {
            gf_harmonise_stage_vt.destroy(hs);
            gf_join_stage_vt.destroy(js);
            return st;
        }
    }
    gf_validate_opts vo = {.profile = o->profile, .keep_invalid = o->keep_invalid, .harmonised = o->harmonise};
    if (o->max_memory) {
        int shares = memory_shares(o);
        vo.max_memory = o->max_memory / (size_t)(shares > 1 ? shares : 1);
    }
    if (o->prevalidated) {
        /* rows geoflux validated itself (a publication's harmonised rows) */
    } else if ((st = gf_validate_create(ctx, &vo, j->reader, &vs))) {
        gf_join_stage_vt.destroy(js);
        return st;
    } else if ((st = gf_pipeline_add_stage(j->p, &gf_validate_stage_vt, vs))) {
        gf_validate_stage_vt.destroy(vs);
        gf_join_stage_vt.destroy(js);
        return st;
    }
    if ((st = gf_pipeline_add_stage(j->p, &gf_typing_stage_vt, NULL))) { gf_join_stage_vt.destroy(js); return st; }
    gf_reproject_opts rpo = {.s_srs = o->s_srs, .t_srs = o->t_srs};
    if ((st = gf_reproject_create(ctx, &rpo, &rp))) { gf_join_stage_vt.destroy(js); return st; }
    if ((st = gf_pipeline_add_stage(j->p, &gf_reproject_stage_vt, rp))) {
        gf_reproject_stage_vt.destroy(rp);
        gf_join_stage_vt.destroy(js);
        return st;
    }
    if (js && (st = gf_pipeline_add_stage(j->p, &gf_join_stage_vt, js))) { gf_join_stage_vt.destroy(js); return st; }
    return add_sinks(j);
}

gf_status gf_job_convert(gf_ctx *ctx, const gf_convert_opts *o, gf_job **out)
{
    *out = NULL;
    gf_job *j = calloc(1, sizeof *j);
    if (!j) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    j->ctx = ctx;
    j->o = *o;
    j->progress = o->progress;
    j->progress_user = o->progress_user;
    gf_status st = build(j);
    if (st) {
        gf_job_destroy(j);
        return st;
    }
    *out = j;
    return GF_OK;
}

void gf_job_convert_info(const gf_job *j, gf_convert_info *out)
{
    out->crs_label = gf_crs_label(&j->crs);
    out->crs_name = j->crs.name;
    out->s_srs_label = j->o.s_srs ? gf_crs_label(&j->scrs) : NULL;
    out->rejects = j->rejects_path[0] == '?' ? j->rejects_path + 1 : j->rejects_path;
}

/* The stages' names as the user knows them (the options' words); the
 * pipeline's are its modules'. */
static const char *stage_label(const char *name)
{
    static const char *const map[][2] = {{"validate", "validation"}, {"reproject", "reprojection"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(name, map[i][0])) return map[i][1];
    return name;
}

gf_status gf_job_convert_profile(const gf_job *j, gf_pipeline_profile *out)
{
    if (!j->p) return gf_ctx_err(j->ctx, GF_ERR_ARG, "not a convert job");
    gf_status st = gf_pipeline_profile_get(j->p, out);
    if (st) return st;
    /* sinks in add_sinks()'s order: the outputs (one BAL file with to_bal), then the rejects */
    int nsinks = 0;
    for (int k = 0; k < out->nlines; k++) nsinks += out->line[k].part == GF_PROF_SINK;
    for (int k = 0; k < out->nlines; k++) {
        gf_prof_line *l = &out->line[k];
        switch (l->part) {
        case GF_PROF_SOURCE: l->name = "read+tokenise"; break;
        case GF_PROF_STAGE: l->name = stage_label(l->name); break;
        case GF_PROF_SINK:
            if (l->index == nsinks - 1) {
                l->name = "rejects";
                l->output = j->rejects_path[0] == '?' ? j->rejects_path + 1 : j->rejects_path;
            } else {
                l->name = "write";
                l->output = out_path(&j->o, l->index);
            }
            break;
        case GF_PROF_COMMIT_WAIT: break;
        }
    }
    return GF_OK;
}
