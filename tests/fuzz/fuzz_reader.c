/* Fuzz target: arbitrary bytes through the reader (stream, tokenizer, header
 * mapping), typing and validation-free stages. Must never crash, and the
 * reader's identity read = rows + rejects must hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/gf_fuzz_%d.csv", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    gf_ctx *ctx;
    gf_ctx_create(&ctx);
    const char *paths[1] = {path};
    gf_reader_opts o = {.csv = {.chunk = 61, .max_record = 4096}};
    gf_reader *r;
    if (gf_reader_open(ctx, paths, 1, &o, &r) == GF_OK) {
        gf_batch *b;
        gf_batch_create(gf_address_schema(), 16, &b);
        uint64_t rows = 0;
        for (;;) {
            gf_batch_reset(b);
            gf_status st = gf_reader_next(r, ctx, b);
            if (st != GF_OK) break;
            gf_typing_stage_vt.run(NULL, ctx, 0, b);
            rows += b->n + b->nrej;
        }
        if (rows != gf_reader_rows(r)) abort();
        gf_batch_destroy(b);
        gf_reader_destroy(r);
    }
    gf_ctx_destroy(ctx);
    unlink(path);
    return 0;
}
