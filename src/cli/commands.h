/* The geoflux subcommands: one file each under src/cli/. Each returns a
 * process exit code (see `geoflux --help`). */
#ifndef GF_CLI_COMMANDS_H
#define GF_CLI_COMMANDS_H

#include <stdio.h>

#include "geoflux/ctx.h"
#include "geoflux/ingest.h"
#include "geoflux/job.h"

/* Exit codes, documented in `geoflux --help` (the authoritative list) and
 * chosen from the class of the failing status (gf_cli_exit_for()), never
 * from the text of a message. */
enum {
    GF_EXIT_OK = 0,       /* success (validate: the file is valid) */
    GF_EXIT_INVALID = 1,  /* validate: the file has errors */
    GF_EXIT_USAGE = 2,    /* class usage or input: bad command line, or an input
                             missing, unreadable, a directory, not recognised */
    GF_EXIT_FAIL = 3      /* class output, dependency or internal: the run failed */
};

typedef struct gf_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} gf_cli_command;

int gf_cmd_convert(int argc, char **argv);
int gf_cmd_tiles(int argc, char **argv);   /* cmd_tiles.c: convert to a tile archive */
/* The convert job (cmd_convert.c) with the caller's usage text; tiles_only:
 * the output must be a PMTiles or MBTiles archive (usage error otherwise). */
int gf_cli_convert(int argc, char **argv, void (*usage)(FILE *), int tiles_only);
int gf_cmd_validate(int argc, char **argv); /* cmd_validate.c */
int gf_cmd_geocode(int argc, char **argv); /* cmd_geocode.c */
int gf_cmd_reverse(int argc, char **argv);
int gf_cmd_index(int argc, char **argv);
int gf_cmd_diff(int argc, char **argv);    /* cmd_diff.c */
int gf_cmd_publish(int argc, char **argv); /* cmd_publish.c */
int gf_cmd_serve(int argc, char **argv);   /* cmd_serve.c: the HTTP geocoding API, tiles, map */
int gf_cmd_merge(int argc, char **argv);   /* cmd_merge.c: joins the outputs of per-department runs */

/* Options shared by the pipeline commands (convert, geocode, reverse): put
 * GF_CLI_OUT_LONGOPTS in the command's option table and GF_CLI_OUT_SHORTOPTS
 * in its short options, and give each getopt result to gf_cli_out_opt()
 * first. Command-specific long options use values from 256 up. */
typedef struct gf_cli_out {
    const char *out, *format, *t_srs, *rejects, *layer;
    /* multi_out (set by the command before parsing): -o may be repeated, the
     * outputs after the first in more[0..nmore) */
    int multi_out, nmore;
    const char *more[GF_CONVERT_MAX_OUTPUTS - 1]; /* the job's bound: a 7th -o is refused while parsing */
    int threads, verbose, keep_invalid, summary_json, precision, append;
    int overwrite; /* --overwrite: existing outputs may be replaced (gf_output_check_paths) */
} gf_cli_out;
#define GF_CLI_OUT_INIT {.precision = -1}
enum { GF_O_TSRS = 200, GF_O_REJECTS, GF_O_KEEP, GF_O_SUMMARY, GF_O_LAYER, GF_O_PREC, GF_O_APPEND, GF_O_OVERWRITE };
#define GF_CLI_OUT_SHORTOPTS "o:f:j:qv"
#define GF_CLI_OUT_LONGOPTS                                                                                       \
    {"output", required_argument, 0, 'o'}, {"format", required_argument, 0, 'f'},                                \
    {"threads", required_argument, 0, 'j'}, {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'},   \
    {"t-srs", required_argument, 0, GF_O_TSRS}, {"rejects", required_argument, 0, GF_O_REJECTS},                 \
    {"keep-invalid", no_argument, 0, GF_O_KEEP}, {"summary", required_argument, 0, GF_O_SUMMARY},                \
    {"layer", required_argument, 0, GF_O_LAYER}, {"precision", required_argument, 0, GF_O_PREC},                 \
    {"append", no_argument, 0, GF_O_APPEND}, {"overwrite", no_argument, 0, GF_O_OVERWRITE}
/* Short options of every command start with ':' (missing values are told
 * apart from unknown options) and getopt's own messages are off
 * (gf_cli_getopt_init()). */
#define GF_CLI_OPTSTART ":"
/* 1: c is a shared option, stored in o; 0: it is not; -1: its value is
 * wrong or repeated (a message was printed). */
int gf_cli_out_opt(gf_cli_out *o, int c, const char *arg, const char *cmd);

/* Command-line parsing, the same for every command. Each function that
 * refuses prints one `geoflux: error: ...` line and returns -1 (0 on
 * success); the caller returns GF_EXIT_USAGE. */
void gf_cli_getopt_init(void);  /* optind = 1, getopt silent */
/* getopt_long returned '?' (unknown option) or ':' (missing value): one
 * line naming the option, then "see geoflux CMD --help". Returns
 * GF_EXIT_USAGE. */
int gf_cli_bad_option(const char *cmd, int c, char **argv);
/* A usage error found after parsing: the message, then the help pointer.
 * Returns GF_EXIT_USAGE. */
int gf_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Integers and numbers: the whole of arg, in [min, max]. */
int gf_cli_int(const char *opt, const char *arg, long min, long max, int *out);
int gf_cli_num(const char *opt, const char *arg, double min, double max, double *out);
/* A size: a number with an optional K, M (default) or G suffix, > 0. */
int gf_cli_size(const char *opt, const char *arg, size_t *out);
/* An option that takes one value: refused when given a second time. */
int gf_cli_once(const char *opt, const char **slot, const char *arg);
#define GF_CLI_MAX_THREADS 256

/* The library's checks made before any work (gf_job_check_input(),
 * gf_job_check_output()) and default rejects name (gf_job_rejects_path()),
 * for the commands not yet built as jobs. */
gf_status gf_cli_check_input(gf_ctx *ctx, const char *path);
gf_status gf_cli_check_output(gf_ctx *ctx, const char *path);
char *gf_cli_rejects_path(const char *out, const char *rejects);

/* --encoding: auto, utf-8 (utf8), latin1 (latin-1, iso-8859-1,
 * windows-1252, cp1252), any case. */
int gf_cli_encoding(const char *cmd, const char *arg, gf_encoding *out);

/* Prints s as a JSON string (gf_buf_json_str(), the writers' escaper);
 * NULL prints null. */
void gf_cli_json_str(FILE *f, const char *s);

/* Shared CLI helpers (src/cli/common.c). */
gf_ctx *gf_cli_ctx(int verbose);          /* context logging to stderr */
#define GF_CLI_REPEAT 3                   /* messages shown per code (gf_ctx_logc) */
int gf_cli_exit_for(gf_status st);        /* exit code for the class of st */
/* Prints `geoflux: error: MESSAGE` (the context's message, else the
 * status's name) and returns gf_cli_exit_for(st). */
int gf_cli_fail(gf_ctx *ctx, gf_status st);
int gf_cli_is_tty(void);
/* The geocoder index's line of geocode, reverse, index build and serve:
 * built or loaded, its size, the rows a build did not index; seconds < 0:
 * none printed. */
struct gf_gc_stats;
void gf_cli_index_line(int built, const struct gf_gc_stats *s, double seconds);

#endif
