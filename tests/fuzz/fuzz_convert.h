/* Shared by the fuzz targets that run `convert`'s stages: the reader, then
 * validation, typing and reprojection on one worker (the main thread),
 * into an optional sink. Checks the run's identity read = written +
 * rejected whenever the run succeeds. */
#ifndef GF_FUZZ_CONVERT_H
#define GF_FUZZ_CONVERT_H

#include <stdlib.h>

#include "geoflux/engine.h"
#include "geoflux/ingest.h"
#include "geoflux/reproject.h"
#include "geoflux/validate.h"
#include "fuzz_input.h"

/* The sink, when make_sink is not NULL, is opened by it after the stages
 * (it receives ctx) and owned by the pipeline. keep_invalid lets rows with
 * BAL errors reach the sink, as --keep-invalid does. */
typedef gf_status (*gf_fuzz_sink_fn)(gf_ctx *ctx, const gf_sink_vt **vt, void **st);

/* One context and one engine for the whole session, as a long-running
 * server keeps them: what they make lazily (PROJ contexts, the
 * reprojection stage's transformations, cached per worker) is made once,
 * not per input, where it was most of an input's cost (about one input a
 * second under ASan). Never freed: reachable at exit, not a leak. */
static gf_ctx *gf_fuzz_session(gf_engine **eng)
{
    static gf_ctx *ctx;
    static gf_engine *e;
    if (!ctx && gf_ctx_create(&ctx) != GF_OK) return NULL;
    if (!e) {
        gf_engine_opts eo = {.threads = 1};
        if (gf_engine_create(ctx, &eo, &e) != GF_OK) return NULL;
    }
    *eng = e;
    return ctx;
}

static void gf_fuzz_convert(const uint8_t *data, size_t size, int keep_invalid, gf_fuzz_sink_fn make_sink)
{
    const char *path = gf_fuzz_input(data, size);
    if (!path) return;
    gf_engine *eng;
    gf_ctx *ctx = gf_fuzz_session(&eng);
    if (!ctx) return;
    const char *paths[1] = {path};
    gf_reader_opts ro = {.csv = {.chunk = 509, .max_record = 8192}};
    gf_reader *rd = NULL;
    gf_pipeline *p = NULL;
    void *vs = NULL, *rp = NULL, *sst = NULL;
    const gf_sink_vt *svt = NULL;
    gf_pipeline_opts po = {.threads = 1, .batch_rows = 7};
    if (gf_reader_open(ctx, paths, 1, &ro, &rd) != GF_OK) goto done;
    if (gf_pipeline_create(ctx, &po, &p) != GF_OK) goto done;
    gf_pipeline_set_engine(p, eng);
    gf_pipeline_set_source(p, &gf_reader_source_vt, rd, gf_reader_schema(rd), (void (*)(void *))gf_reader_destroy);
    const gf_reader *reader = rd;
    rd = NULL; /* owned by the pipeline */
    gf_validate_opts vo = {.keep_invalid = keep_invalid};
    if (gf_validate_create(ctx, &vo, reader, &vs) != GF_OK) goto done;
    if (gf_pipeline_add_stage(p, &gf_validate_stage_vt, vs) != GF_OK) { gf_validate_stage_vt.destroy(vs); goto done; }
    if (gf_pipeline_add_stage(p, &gf_typing_stage_vt, NULL) != GF_OK) goto done;
    gf_reproject_opts rpo = {0};
    if (gf_reproject_create(ctx, &rpo, &rp) != GF_OK) goto done;
    if (gf_pipeline_add_stage(p, &gf_reproject_stage_vt, rp) != GF_OK) { gf_reproject_stage_vt.destroy(rp); goto done; }
    if (make_sink) {
        if (make_sink(ctx, &svt, &sst) != GF_OK) goto done;
        if (gf_pipeline_add_sink(p, svt, sst) != GF_OK) { svt->destroy(sst); goto done; }
    }
    gf_run_stats s;
    if (gf_pipeline_run(p, &s) == GF_OK && s.read != s.written + s.rejected) abort();
done:
    gf_reader_destroy(rd);
    gf_pipeline_destroy(p);
}

#endif
