/* geoflux diff: the changes between two address files (src/job/diff.c);
 * options parsed, the job run, its counts printed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "geoflux/diff.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: geoflux diff OLD NEW -o CHANGES.csv|CHANGES.geojson [OPTIONS]\n"
        "\n"
        "The addresses added, removed, modified (which fields) and moved between two BAL\n"
        "files (any version 1.1-1.5) or BAN extracts. Addresses are matched on id_ban_adresse\n"
        "when both files have it, else cle_interop (a BAN extract's id), else commune +\n"
        "street + number + suffix; fields are compared when both files have them.\n"
        "\n"
        "  -o, --output FILE   .csv (change;id;commune_insee;voie_nom;numero;suffixe;fields;\n"
        "                      distance_m;old_lon;old_lat;new_lon;new_lat) or .geojson (points);\n"
        "                      - for CSV on standard output\n"
        "      --move M        moved beyond M metres (default 1)\n"
        "      --overwrite     replace OUTPUT if it exists\n"
        "      --encoding E    auto (default), utf-8 or latin1\n"
        "      --summary json  print the counts as one JSON object on standard output\n"
        "  -j, --threads N     worker threads (default: all cores)\n"
        "  -q, --quiet         no counts on standard error\n"
        "\n"
        "exit codes: 0 no change, 1 the files differ, 2 usage error or unreadable input,\n"
        "3 run failed\n");
}

int gf_cmd_diff(int argc, char **argv)
{
    enum { O_MOVE = 256, O_OVERWRITE, O_ENC, O_SUMMARY };
    static const struct option lo[] = {{"output", required_argument, 0, 'o'}, {"move", required_argument, 0, O_MOVE},
                                       {"overwrite", no_argument, 0, O_OVERWRITE},
                                       {"encoding", required_argument, 0, O_ENC},
                                       {"summary", required_argument, 0, O_SUMMARY},
                                       {"threads", required_argument, 0, 'j'}, {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    gf_diff_opts o = {0};
    int quiet = 0, json = 0, bad = 0;
    gf_cli_getopt_init();
    int c;
    while ((c = getopt_long(argc, argv, GF_CLI_OPTSTART "ho:j:q", lo, NULL)) != -1) {
        switch (c) {
        case 'h': help(stdout); return GF_EXIT_OK;
        case 'o': bad = gf_cli_once("--output", &o.output, optarg); break;
        case 'j': bad = gf_cli_int("--threads", optarg, 1, GF_CLI_MAX_THREADS, &o.threads); break;
        case 'q': quiet = 1; break;
        case O_MOVE: bad = gf_cli_num("--move", optarg, 0, 1e7, &o.move_m); break;
        case O_OVERWRITE: o.overwrite = 1; break;
        case O_ENC: bad = gf_cli_encoding("diff", optarg, &o.read.csv.encoding); break;
        case O_SUMMARY:
            if (strcmp(optarg, "json")) return gf_cli_usage("diff", "--summary '%s': expected json", optarg);
            json = 1;
            break;
        default: return gf_cli_bad_option("diff", c, argv);
        }
        if (bad) return GF_EXIT_USAGE;
    }
    if (argc - optind != 2) return gf_cli_usage("diff", "expected two files, OLD and NEW (got %d)", argc - optind);
    if (!o.output) return gf_cli_usage("diff", "no output: -o CHANGES.csv, CHANGES.geojson, or - for CSV on standard output");
    o.old_path = argv[optind];
    o.new_path = argv[optind + 1];
    if (json && !strcmp(o.output, "-"))
        return gf_cli_usage("diff", "--summary json and -o - would both write to standard output");
    gf_ctx *ctx = gf_cli_ctx(quiet ? -1 : 0);
    if (!ctx) return GF_EXIT_FAIL;
    gf_diff_stats s;
    gf_status st = gf_diff_run(ctx, &o, &s);
    gf_ctx_log_flush(ctx);
    if (st) {
        int code = gf_cli_fail(ctx, st);
        gf_ctx_destroy(ctx);
        return code;
    }
    uint64_t changes = s.added + s.removed + s.modified + s.moved;
    if (json) {
        printf("{\"old_rows\":%llu,\"new_rows\":%llu,\"old_rejected\":%llu,\"new_rejected\":%llu,"
               "\"old_addresses\":%llu,\"new_addresses\":%llu,\"added\":%llu,\"removed\":%llu,\"modified\":%llu,"
               "\"moved\":%llu,\"unchanged\":%llu,\"key\":",
               (unsigned long long)s.rows[0], (unsigned long long)s.rows[1], (unsigned long long)s.rejected[0],
               (unsigned long long)s.rejected[1], (unsigned long long)s.addresses[0],
               (unsigned long long)s.addresses[1], (unsigned long long)s.added, (unsigned long long)s.removed,
               (unsigned long long)s.modified, (unsigned long long)s.moved, (unsigned long long)s.unchanged);
        gf_cli_json_str(stdout, s.key);
        printf(",\"not_compared\":");
        gf_cli_json_str(stdout, s.not_compared);
        printf(",\"output\":");
        gf_cli_json_str(stdout, o.output);
        printf("}\n");
    }
    if (!quiet) {
        fprintf(stderr, "geoflux: %s: %llu addresses (%llu rows), %s: %llu addresses (%llu rows); matched on %s\n",
                o.old_path, (unsigned long long)s.addresses[0], (unsigned long long)s.rows[0], o.new_path,
                (unsigned long long)s.addresses[1], (unsigned long long)s.rows[1], s.key);
        fprintf(stderr, "geoflux: added %llu, removed %llu, modified %llu, moved %llu, unchanged %llu\n",
                (unsigned long long)s.added, (unsigned long long)s.removed, (unsigned long long)s.modified,
                (unsigned long long)s.moved, (unsigned long long)s.unchanged);
        if (s.not_compared[0]) fprintf(stderr, "geoflux: in one file only, not compared: %s\n", s.not_compared);
        if (s.rejected[0] || s.rejected[1])
            fprintf(stderr, "geoflux: warning: rows that could not be read: %llu in OLD, %llu in NEW (not compared)\n",
                    (unsigned long long)s.rejected[0], (unsigned long long)s.rejected[1]);
        if (strcmp(o.output, "-")) fprintf(stderr, "geoflux: output: %s\n", o.output);
    }
    gf_ctx_destroy(ctx);
    return changes ? GF_EXIT_INVALID : GF_EXIT_OK;
}
