/* Fuzz target: arbitrary bytes through the reader (stream, gzip, tokenizer,
 * header mapping) and the typing stage, on batches of the reader's own
 * schema (the canonical fields plus the multilingual columns of the header).
 * Must never crash, and the reader's identity read = rows + rejects must
 * hold. */
#include <stdio.h>
#include <stdlib.h>

#include "geoflux/ingest.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = gf_fuzz_input(data, size);
    if (!path) return 0;
    gf_ctx *ctx;
    if (gf_ctx_create(&ctx) != GF_OK) return 0;
    const char *paths[1] = {path};
    gf_reader_opts o = {.csv = {.chunk = 61, .max_record = 4096}};
    gf_reader *r;
    if (gf_reader_open(ctx, paths, 1, &o, &r) == GF_OK) {
        gf_batch *b;
        if (gf_batch_create(gf_reader_schema(r), 16, &b) != GF_OK) abort();
        uint64_t rows = 0;
        gf_status st;
        for (;;) {
            gf_batch_reset(b);
            st = gf_reader_next(r, ctx, b);
            if (st != GF_OK) break;
            rows += b->n + b->nrej;
            gf_typing_stage_vt.run(NULL, ctx, 0, b);
            gf_batch_compact(b);
        }
        /* the identity holds for a stream read to its end; a read error (a
         * truncated or damaged gzip member) fails the whole run instead */
        if (st == GF_DONE && rows != gf_reader_rows(r)) abort();
        gf_batch_destroy(b);
        gf_reader_destroy(r);
    }
    gf_ctx_destroy(ctx);
    return 0;
}
