/* Shared CLI helpers: the only place, with the commands, that prints.
 * Every message has one of two prefixes: `geoflux: error: ` (the run or
 * a row failed) and `geoflux: warning: `; informational lines have
 * `geoflux: `. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/commands.h"
#include "geoflux/geocode.h"
#include "geoflux/job.h"
#include "geoflux/pipeline.h"

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
        fprintf(stderr, "geoflux: error: out of memory\n");
        return NULL;
    }
    gf_ctx_set_log(ctx, log_stderr, NULL, verbose > 0 ? GF_LOG_INFO : verbose < 0 ? GF_LOG_SILENT : GF_LOG_WARN);
    /* repeated messages (rejected rows, a rule broken in every file): the
     * first GF_CLI_REPEAT of each code, then "... and N more (code X)";
     * -v shows them all */
    gf_ctx_set_log_repeat(ctx, verbose > 0 ? 0 : GF_CLI_REPEAT);
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
    case GF_CLASS_INTERNAL:
    case GF_CLASS_CANCELLED: break;
    }
    return GF_EXIT_FAIL;
}

int gf_cli_fail(gf_ctx *ctx, gf_status st)
{
    const char *m = gf_ctx_errmsg(ctx);
    gf_ctx_log_flush(ctx);
    if (gf_cli_is_tty()) fputs("\r\033[K", stderr); /* clear the progress line */
    fprintf(stderr, "geoflux: error: %s\n", m[0] ? m : gf_status_str(st));
    return gf_cli_exit_for(st);
}

int gf_cli_is_tty(void) { return isatty(STDERR_FILENO); }

void gf_cli_getopt_init(void)
{
    optind = 1;
    opterr = 0;
}

int gf_cli_bad_option(const char *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    char shortopt[3] = {'-', (char)optopt, 0};
    /* a short option in a group (-qx): argv names the group, optopt the letter */
    const char *name = optopt > 0 && optopt < 128 && !(arg[0] == '-' && arg[1] == '-') ? shortopt : arg;
    if (c == ':')
        fprintf(stderr, "geoflux: error: option '%s' needs a value (see geoflux %s --help)\n", name, cmd);
    else
        fprintf(stderr, "geoflux: error: unknown option '%s' (see geoflux %s --help)\n", name, cmd);
    return GF_EXIT_USAGE;
}

int gf_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("geoflux: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see geoflux %s --help)\n", cmd);
    return GF_EXIT_USAGE;
}

int gf_cli_int(const char *opt, const char *arg, long min, long max, int *out)
{
    char *e = NULL;
    errno = 0;
    long v = strtol(arg, &e, 10);
    if (e == arg || *e || errno == ERANGE || v < min || v > max) {
        fprintf(stderr, "geoflux: error: %s '%s': expected an integer from %ld to %ld\n", opt, arg, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int gf_cli_num(const char *opt, const char *arg, double min, double max, double *out)
{
    char *e = NULL;
    errno = 0;
    double v = strtod(arg, &e);
    if (e == arg || *e || errno == ERANGE || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "geoflux: error: %s '%s': expected a number from %g to %g\n", opt, arg, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int gf_cli_size(const char *opt, const char *arg, size_t *out)
{
    char *e = NULL;
    errno = 0;
    double v = strtod(arg, &e);
    double mul = 1048576.0;
    if (e != arg && *e && !e[1]) {
        switch (*e) {
        case 'K': case 'k': mul = 1024.0; e++; break;
        case 'M': case 'm': e++; break;
        case 'G': case 'g': mul = 1073741824.0; e++; break;
        }
    }
    /* at most 1 TiB: beyond, a typo rather than a budget */
    if (e == arg || *e || errno == ERANGE || !isfinite(v) || v <= 0 || v * mul > 1099511627776.0 || v * mul < 1) {
        fprintf(stderr, "geoflux: error: %s '%s': expected a size like 256M or 1G (K, M, G; up to 1024G)\n", opt, arg);
        return -1;
    }
    *out = (size_t)(v * mul);
    return 0;
}

int gf_cli_once(const char *opt, const char **slot, const char *arg)
{
    if (*slot) {
        fprintf(stderr, "geoflux: error: %s given twice ('%s' and '%s')\n", opt, *slot, arg);
        return -1;
    }
    *slot = arg;
    return 0;
}

gf_status gf_cli_check_input(gf_ctx *ctx, const char *path) { return gf_job_check_input(ctx, path); }
gf_status gf_cli_check_output(gf_ctx *ctx, const char *path) { return gf_job_check_output(ctx, path); }
char *gf_cli_rejects_path(const char *out, const char *rejects) { return gf_job_rejects_path(out, rejects); }

int gf_cli_encoding(const char *cmd, const char *arg, gf_encoding *out)
{
    if (!strcasecmp(arg, "auto")) *out = GF_ENC_AUTO;
    else if (!strcasecmp(arg, "utf-8") || !strcasecmp(arg, "utf8")) *out = GF_ENC_UTF8;
    else if (!strcasecmp(arg, "latin1") || !strcasecmp(arg, "latin-1") || !strcasecmp(arg, "iso-8859-1") ||
             !strcasecmp(arg, "windows-1252") || !strcasecmp(arg, "cp1252")) *out = GF_ENC_LATIN1;
    else {
        gf_cli_usage(cmd, "--encoding '%s': expected auto, utf-8 or latin1", arg);
        return -1;
    }
    return 0;
}

void gf_cli_json_str(FILE *f, const char *s)
{
    if (!s) { fputs("null", f); return; }
    gf_buf b = {0};
    if (gf_buf_json_str(&b, s, strlen(s)) == GF_OK) fwrite(b.p, 1, b.len, f);
    else fputs("null", f);
    gf_buf_free(&b);
}

int gf_cli_out_opt(gf_cli_out *o, int c, const char *arg, const char *cmd)
{
    (void)cmd;
    switch (c) {
    case 'o':
        if (o->out && o->multi_out) {
            if (o->nmore >= (int)(sizeof o->more / sizeof o->more[0])) {
                fprintf(stderr, "geoflux: error: -o/--output: at most %d outputs\n", o->nmore + 1);
                return -1;
            }
            o->more[o->nmore++] = arg;
            return 1;
        }
        return gf_cli_once("-o/--output", &o->out, arg) ? -1 : 1;
    case 'f': return gf_cli_once("-f/--format", &o->format, arg) ? -1 : 1;
    case 'j': return gf_cli_int("-j/--threads", arg, 1, GF_CLI_MAX_THREADS, &o->threads) ? -1 : 1;
    case 'q': o->verbose = -1; return 1;
    case 'v': o->verbose = 1; return 1;
    case GF_O_TSRS: return gf_cli_once("--t-srs", &o->t_srs, arg) ? -1 : 1;
    case GF_O_REJECTS: return gf_cli_once("--rejects", &o->rejects, arg) ? -1 : 1;
    case GF_O_KEEP: o->keep_invalid = 1; return 1;
    case GF_O_LAYER: return gf_cli_once("--layer", &o->layer, arg) ? -1 : 1;
    case GF_O_PREC: return gf_cli_int("--precision", arg, 0, 15, &o->precision) ? -1 : 1;
    case GF_O_APPEND: o->append = 1; return 1;
    case GF_O_OVERWRITE: o->overwrite = 1; return 1;
    case GF_O_SUMMARY:
        if (strcmp(arg, "json") != 0) {
            fprintf(stderr, "geoflux: error: --summary '%s': only 'json' is known\n", arg);
            return -1;
        }
        o->summary_json = 1;
        return 1;
    }
    return 0;
}

void gf_cli_index_line(int built, const gf_gc_stats *s, double seconds)
{
    fprintf(stderr, "geoflux: index %s: %llu communes, %llu streets and places, %llu addresses", built ? "built" : "loaded",
            (unsigned long long)s->communes, (unsigned long long)s->streets, (unsigned long long)s->addresses);
    if (seconds >= 0) fprintf(stderr, ", %.0f MB, %.2f s", (double)s->bytes / 1e6, seconds);
    fputc('\n', stderr);
    if (s->rows_rejected)
        fprintf(stderr,
                "geoflux: warning: %llu of %llu rows not indexed: they break BAL rules, as `geoflux convert` would "
                "reject them (the first are above; `geoflux validate` lists them all)\n",
                (unsigned long long)s->rows_rejected, (unsigned long long)s->rows_read);
}
