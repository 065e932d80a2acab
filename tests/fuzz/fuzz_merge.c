/* Fuzz target: geoflux merge's readers (src/merge/): the bytes become a
 * file, merged with itself, so that every tile is held by both inputs and
 * goes through the PMTiles directory walk, the MVT decoder, the layer
 * merge, the points layer tiled again and the archive writer; a report or
 * GeoPackage seed goes through those merges. Must never crash or hang;
 * refusing the file is fine. Seeds (tests/fuzz/corpus-fuzz_merge/): a small
 * PMTiles archive and a report.json that geoflux wrote. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/tmp/gf-fuzz-merge-XXXXXX";
    if (!mkdtemp(dir)) return 0;
    char in[64], out[64];
    snprintf(in, sizeof in, "%s/in", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    FILE *f = fopen(in, "wb");
    if (f) {
        if (size) fwrite(data, 1, size, f);
        fclose(f);
        gf_ctx *ctx = NULL;
        if (gf_ctx_create(&ctx) == GF_OK) {
            const char *inputs[2] = {in, in};
            gf_merge_opts o = {.inputs = inputs, .ninputs = 2, .output = out, .overwrite = 1, .tmpdir = NULL};
            gf_merge_stats s;
            (void)gf_merge_run(ctx, &o, &s);
            gf_ctx_destroy(ctx);
        }
    }
    unlink(out);
    unlink(in);
    rmdir(dir);
    return 0;
}
