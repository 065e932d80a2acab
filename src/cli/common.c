/* Shared CLI helpers: the only place, with the commands, that prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"

static void log_stderr(void *user, gf_log_level level, const char *msg)
{
    (void)user;
    const char *tag = level >= GF_LOG_ERROR ? "error: " : level >= GF_LOG_WARN ? "warning: " : "";
    if (gf_cli_is_tty()) fputs("\r\033[K", stderr); /* clear the progress line */
    fprintf(stderr, "geoflux: %s%s\n", tag, msg);
}

gf_ctx *gf_cli_ctx(int verbose)
{
    gf_ctx *ctx = NULL;
    if (gf_ctx_create(&ctx) != GF_OK) {
        fprintf(stderr, "geoflux: out of memory\n");
        return NULL;
    }
    gf_ctx_set_log(ctx, log_stderr, NULL, verbose > 0 ? GF_LOG_INFO : verbose < 0 ? GF_LOG_ERROR : GF_LOG_WARN);
    return ctx;
}

int gf_cli_exit_for(gf_status st)
{
    switch (gf_status_class_of(st)) {
    case GF_CLASS_NONE: return GF_EXIT_OK;
    case GF_CLASS_USAGE:
    case GF_CLASS_INPUT: return GF_EXIT_USAGE;
    case GF_CLASS_OUTPUT:
    case GF_CLASS_DEPENDENCY:
    case GF_CLASS_INTERNAL: break;
    }
    return GF_EXIT_FAIL;
}

int gf_cli_fail(gf_ctx *ctx, gf_status st)
{
    const char *m = gf_ctx_errmsg(ctx);
    if (gf_cli_is_tty()) fputs("\r\033[K", stderr); /* clear the progress line */
    fprintf(stderr, "geoflux: error: %s\n", m[0] ? m : gf_status_str(st));
    return gf_cli_exit_for(st);
}

int gf_cli_is_tty(void) { return isatty(STDERR_FILENO); }

int gf_cli_out_opt(gf_cli_out *o, int c, const char *arg, const char *cmd)
{
    switch (c) {
    case 'o': o->out = arg; return 1;
    case 'f': o->format = arg; return 1;
    case 'j': o->threads = atoi(arg); return 1;
    case 'q': o->verbose = -1; return 1;
    case 'v': o->verbose = 1; return 1;
    case GF_O_TSRS: o->t_srs = arg; return 1;
    case GF_O_REJECTS: o->rejects = arg; return 1;
    case GF_O_KEEP: o->keep_invalid = 1; return 1;
    case GF_O_LAYER: o->layer = arg; return 1;
    case GF_O_PREC: o->precision = atoi(arg); return 1;
    case GF_O_APPEND: o->append = 1; return 1;
    case GF_O_SUMMARY:
        if (strcmp(arg, "json") != 0) {
            fprintf(stderr, "geoflux %s: --summary takes 'json'\n", cmd);
            return -1;
        }
        o->summary_json = 1;
        return 1;
    }
    return 0;
}
