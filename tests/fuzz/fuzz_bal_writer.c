/* Fuzz target: the BAL 1.4 writer (src/write/bal.c) fed from the reader
 * through `convert --to-bal 1.4 --keep-invalid`'s stages, so every value the
 * reader can deliver reaches the writer's rewriting (ids, cle_interop,
 * voie_nom, suffixe, cad_parcelles, coordinates). Must never crash; the
 * output goes to a private temporary name, removed after each input. */
#include <string.h>

#include "geoflux/bal.h"
#include "fuzz_convert.h"

static char out_path[80];

static gf_status open_bal(gf_ctx *ctx, const gf_sink_vt **vt, void **st)
{
    gf_output_opts oo = {.path = out_path, .precision = -1};
    *vt = &gf_bal_sink_vt;
    return gf_bal_open(ctx, &oo, "1.4", st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!out_path[0]) {
        const char *in = gf_fuzz_input(data, 0);
        if (!in) return 0;
        snprintf(out_path, sizeof out_path, "%s.bal.csv", in);
    }
    gf_fuzz_convert(data, size, 1, open_bal);
    unlink(out_path);
    return 0;
}
