/* Fuzz target: the SCDL équipements reader (src/ingest/equipment.c: layout
 * detection from the header, rows, rejects) and its validation stage, run
 * as `geoflux geocode` runs them: table source -> SCDL validation ->
 * typing -> geocoding against a small real index (tests/fuzz/gc_sample.h)
 * -> a sink, on one worker. Must never crash or hang, and every row read
 * must be written or rejected. The input is the file's bytes; its first
 * byte, when it is '!', asks for --keep-invalid. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gc_sample.h"
#include "geoflux/equipment.h"
#include "geoflux/ingest.h"

static gf_gc_index *ix;

/* Once, on the first input (the ctest replay has no LLVMFuzzerInitialize). */
static void setup(void)
{
    gf_ctx *ctx;
    if (gf_ctx_create(&ctx) != GF_OK || gc_sample_build(ctx, gc_sample_bal, &ix) != GF_OK) {
        fprintf(stderr, "fuzz_scdl: cannot build the sample index\n");
        abort();
    }
    gf_ctx_destroy(ctx);
}

typedef struct { uint64_t rows; } counter;

static gf_status c_begin(void *st, gf_ctx *ctx, const gf_schema *s, int nworkers)
{
    (void)st; (void)ctx; (void)s; (void)nworkers;
    return GF_OK;
}

static gf_status c_commit(void *st, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    (void)ctx; (void)enc;
    counter *c = st;
    c->rows += b->n;
    /* every text value of the batch lies in its arena */
    for (int f = 0; f < b->schema->nfields; f++) {
        if (b->schema->fields[f].type != GF_T_STRING) continue;
        for (size_t r = 0; r < b->n; r++)
            if (b->cols[f].valid[r] && (uint64_t)b->cols[f].v.s[r].off + b->cols[f].v.s[r].len > b->alen) abort();
    }
    return GF_OK;
}

static const gf_sink_vt counter_vt = {.name = "counter", .begin = c_begin, .commit = c_commit};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ix) setup();
    int keep = size > 0 && data[0] == '!';
    char path[64];
    snprintf(path, sizeof path, "/tmp/gf_fuzz_scdl_%d.csv", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data + keep, 1, size - (size_t)keep, f);
    fclose(f);
    gf_ctx *ctx;
    if (gf_ctx_create(&ctx) != GF_OK) { unlink(path); return 0; }
    gf_table_reader *tr = NULL;
    gf_csv_opts co = {.chunk = 61, .max_record = 4096};
    gf_pipeline *p = NULL;
    counter cnt = {0};
    void *st;
    if (gf_table_open(ctx, path, &co, &tr) != GF_OK) goto done;
    (void)gf_table_layout_name(gf_table_layout_of(tr));
    gf_table_reader *reader = tr;
    gf_pipeline_opts po = {.threads = 1, .batch_rows = 7}; /* small batches: fast, and rows cross batch boundaries */
    if (gf_pipeline_create(ctx, &po, &p) != GF_OK) goto done;
    gf_pipeline_set_source(p, &gf_table_source_vt, tr, gf_table_schema(tr), (void (*)(void *))gf_table_destroy);
    tr = NULL;
    if (gf_equip_validate_create(ctx, reader, keep, &st) != GF_OK) goto done;
    if (gf_pipeline_add_stage(p, &gf_equip_validate_stage_vt, st) != GF_OK) { free(st); goto done; }
    if (gf_pipeline_add_stage(p, &gf_typing_stage_vt, NULL) != GF_OK) goto done;
    gf_geocode_opts go = {.index = ix};
    if (gf_geocode_stage_create(ctx, &go, &st) != GF_OK) goto done;
    if (gf_pipeline_add_stage(p, &gf_geocode_stage_vt, st) != GF_OK) { gf_geocode_stage_vt.destroy(st); goto done; }
    if (gf_pipeline_add_sink(p, &counter_vt, &cnt) != GF_OK) goto done;
    gf_run_stats rs;
    if (gf_pipeline_run(p, &rs) == GF_OK && (rs.written != cnt.rows || rs.read != rs.written + rs.rejected)) abort();
done:
    gf_pipeline_destroy(p);
    gf_table_destroy(tr);
    gf_ctx_destroy(ctx);
    unlink(path);
    return 0;
}
