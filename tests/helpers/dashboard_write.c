/* Test helper: writes the embedded dashboard into a directory with
 * gf_dashboard_write(), so that tests/cli/dashboard.sh can open it in a
 * browser beside a fixture SITE. Not a geoflux subcommand on purpose: the
 * integrator's `geoflux publish` is the one user of the function.
 * Usage: gf_dashboard_write SITE_DIR. Exit 0, or 1 with the message. */
#include <stdio.h>

#include "geoflux/ctx.h"
#include "publish/dashboard.h"

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: gf_dashboard_write SITE_DIR\n"); return 2; }
    gf_ctx *ctx = NULL;
    if (gf_ctx_create(&ctx)) { fprintf(stderr, "out of memory\n"); return 1; }
    gf_status st = gf_dashboard_write(ctx, argv[1]);
    if (st) fprintf(stderr, "gf_dashboard_write: %s: %s\n", gf_status_str(st), gf_ctx_errmsg(ctx));
    gf_ctx_destroy(ctx);
    return st ? 1 : 0;
}
