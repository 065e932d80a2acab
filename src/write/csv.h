/* Native CSV writer (used for `.csv` outputs and `-f csv`). */
#ifndef GF_WRITE_CSV_H
#define GF_WRITE_CSV_H

#include "geoflux/write.h"

/* Every schema column in order, then `errors` and `warnings` when the run
 * has validation codes; ',' separated, RFC 4180 quoting (fields holding a
 * comma, a quote, a line break or outer blanks are quoted, quotes doubled),
 * UTF-8, CRLF-free ("\n" line ends), written under a temporary name and
 * renamed at finish(). Reals use up to 15 significant digits; booleans are
 * true/false; null is an empty field. Caller frees with
 * gf_csv_sink_vt.destroy (the pipeline does it once added). */
gf_status gf_csv_writer_open(gf_ctx *ctx, const gf_output_opts *opts, void **st);
extern const gf_sink_vt gf_csv_sink_vt;

/* Appends one field to o, quoted as RFC 4180 does with sep as the
 * separator: a field holding sep, a quote or a line break (or, with
 * GF_CSV_QUOTE_BLANKS, a leading or trailing blank) is enclosed in quotes,
 * its quotes doubled. GF_ERR_NOMEM. The one field writer of the text
 * outputs (CSV, TSV, BAL, rejects). */
enum { GF_CSV_QUOTE_BLANKS = 1 };
gf_status gf_csv_put_field(gf_buf *o, const char *p, size_t n, char sep, unsigned flags);

#endif
