/* Harmonised BAL 1.4 output (`geoflux convert --to-bal 1.4`): any input
 * version (BAL 1.1-1.5, BAN extracts) rewritten as a clean BAL 1.4 file,
 * UTF-8 without BOM, ';'-separated, LF, the 21 columns of the 1.4 order,
 * with normalised values (see src/write/bal.c), so that the reference
 * validator accepts what the validation stage let through. */
#ifndef GEOFLUX_BAL_H
#define GEOFLUX_BAL_H

#include "geoflux/write.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opens the writer for opts->path (opts->path "-" is standard output).
 * Only "1.4" is supported as version (GF_ERR_UNSUPPORTED otherwise).
 * *st is a sink state for gf_bal_sink_vt; the pipeline takes ownership. */
gf_status gf_bal_open(gf_ctx *ctx, const gf_output_opts *opts, const char *version, void **st);
/* One file per input: opts->path is an existing directory and the rows of
 * input i go to PATH/i.csv (every input gets its file, the header alone
 * when none of its rows is written), all committed together. Used by
 * `geoflux publish`, which harmonises every commune of a run in one job. */
gf_status gf_bal_open_per_input(gf_ctx *ctx, const gf_output_opts *opts, const char *version, int ninputs, void **st);
extern const gf_sink_vt gf_bal_sink_vt;
/* The header line of a BAL 1.4 file as geoflux writes it, newline included. */
extern const char gf_bal14_header[];

#ifdef __cplusplus
}
#endif
#endif
