/* Shared CLI helpers: the only place, with the commands, that prints. */
#include <stdio.h>
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

int gf_cli_exit_for(int st)
{
    switch (st) {
    case GF_OK: return GF_EXIT_OK;
    case GF_ERR_ARG:
    case GF_ERR_SCHEMA:
        return GF_EXIT_USAGE;
    default: return GF_EXIT_FAIL;
    }
}

int gf_cli_is_tty(void) { return isatty(STDERR_FILENO); }
