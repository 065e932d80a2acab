/* The geoflux subcommands: one file each under src/cli/. Each returns a
 * process exit code (see `geoflux --help`). */
#ifndef GF_CLI_COMMANDS_H
#define GF_CLI_COMMANDS_H

#include "geoflux/ctx.h"

/* Exit codes, documented in `geoflux --help`. */
enum {
    GF_EXIT_OK = 0,       /* success (validate: the file is valid) */
    GF_EXIT_INVALID = 1,  /* validate: the file has errors */
    GF_EXIT_USAGE = 2,    /* bad command line, or an input could not be read */
    GF_EXIT_FAIL = 3      /* the run failed (I/O, PROJ, GDAL...) */
};

typedef struct gf_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} gf_cli_command;

int gf_cmd_convert(int argc, char **argv);
int gf_cmd_validate(int argc, char **argv); /* cmd_validate.c */
int gf_cmd_geocode(int argc, char **argv); /* cmd_geocode.c */
int gf_cmd_reverse(int argc, char **argv);
int gf_cmd_index(int argc, char **argv);

/* Shared CLI helpers (src/cli/common.c). */
gf_ctx *gf_cli_ctx(int verbose);          /* context logging to stderr */
int gf_cli_exit_for(int st);              /* gf_status -> exit code */
int gf_cli_is_tty(void);

#endif
