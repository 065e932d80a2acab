/* geoflux: command dispatch and global help. */
#include <signal.h>
#ifdef __GLIBC__
#include <malloc.h>
#include <unistd.h>
#endif
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "geoflux/write.h"

/* SIGINT/SIGTERM: remove the run's temporary outputs (write.h), then die of
 * the signal as if unhandled, so the caller sees the usual status. */
static void on_signal(int sig)
{
    gf_atomic_cleanup_signal();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Subcommands: to add one, write src/cli/cmd_NAME.c and add a line here. */
static const gf_cli_command commands[] = {
    {"convert", "read BAL/BAN CSV, validate, reproject, join, write GeoJSON/NDJSON/GPKG/...", gf_cmd_convert},
    {"tiles", "convert to vector tiles: PMTiles or MBTiles (MVT), addresses and communes", gf_cmd_tiles},
    {"geocode", "geocode a table (SCDL equipment file, CSV) against BAL/BAN addresses", gf_cmd_geocode},
    {"reverse", "nearest address of each point of a table", gf_cmd_reverse},
    {"index", "index build: save a geocoding index to one file", gf_cmd_index},
    {"validate", "check BAL files like the reference validator (codes, levels, profiles)", gf_cmd_validate},
    {"diff", "addresses added, removed, modified and moved between two BAL files or extracts", gf_cmd_diff},
    {"publish", "publish a territory's BAL: harmonise, validate, guard, store revisions, build the site", gf_cmd_publish},
    {"merge", "join per-department outputs (PMTiles, MBTiles, GeoPackage) into one", gf_cmd_merge},
    {"serve", "HTTP: the national geocoding API (/search, /reverse), vector tiles, the map", gf_cmd_serve},
};

static void usage(FILE *f)
{
    fprintf(f,
            "geoflux %s: streaming address and geodata processing\n\n"
            "usage: geoflux COMMAND [OPTIONS]...\n\ncommands:\n",
            GF_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n`geoflux COMMAND --help` documents each command.\n\n"
            "exit codes:\n"
            "  0  success (validate: every file is valid; serve: stopped by SIGTERM/SIGINT)\n"
            "  1  validate: at least one file has errors; diff: the files differ;\n"
            "     publish: some submissions rejected or in conflict\n"
            "  2  usage error (unknown or repeated option, bad value, unknown CRS or format),\n"
            "     or an input that is missing, unreadable, a directory or not recognised\n"
            "  3  the run failed: an output could not be written (missing folder, disk full,\n"
            "     permission), PROJ/GDAL/GEOS/SQLite failed, or an internal error\n");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && argv[1][0] == '-' && strcmp(argv[1], "--help") && strcmp(argv[1], "-h") && strcmp(argv[1], "--version")) {
        fprintf(stderr, "geoflux: error: unknown option '%s' (see geoflux --help)\n", argv[1]);
        return GF_EXIT_USAGE;
    }
#ifdef __GLIBC__
    /* glibc gives each thread that meets a locked arena a new one, up to 8
     * per core, and memory freed in one is not reused by another: -j 8 on
     * two cores then holds more than -j 1 for the same rows in flight (12 %
     * more on a 300k-row BAL, under load). As many arenas as cores: no more
     * threads than that allocate at once anyway. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    mallopt(M_ARENA_MAX, ncpu > 1 ? (int)ncpu : 1);
#endif
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? GF_EXIT_USAGE : GF_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("geoflux %s\n", GF_VERSION);
        return GF_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "geoflux: error: unknown command '%s' (see geoflux --help)\n", argv[1]);
    return GF_EXIT_USAGE;
}
