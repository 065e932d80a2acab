/* geoflux merge: options parsed into gf_merge_run() (src/merge/), counts
 * printed. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "geoflux/merge.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: geoflux merge INPUT... -o OUTPUT [OPTIONS]\n"
        "\n"
        "Joins the outputs of independent runs (one per department, say) into what one\n"
        "run over all their inputs writes. INPUTs are all of one format, recognised\n"
        "from their bytes:\n"
        "  PMTiles / MBTiles  the union of the tiles; a tile held by several inputs (a\n"
        "                     shared border) is merged: layers of one name become one\n"
        "                     layer, a feature identical in two inputs is kept once;\n"
        "                     feature ids of each input are offset by the ids of the\n"
        "                     inputs before it; metadata (bounds, zooms, vector_layers)\n"
        "                     merged; the points layer below maxzoom is tiled again\n"
        "                     from the maxzoom points, as one run over all would.\n"
        "                     OUTPUT is of the inputs' format.\n"
        "  GeoPackage         the rows of every table appended in input order (same\n"
        "                     tables and CRS required, columns united; a commune of\n"
        "                     the `communes` statistics in two inputs is refused)\n"
        "  report.json        reports of `geoflux publish`: communes concatenated (one in\n"
        "                     two reports is refused), totals recomputed, same options\n"
        "                     required\n"
        "See docs/merge.md for the rules and what still differs from a single run.\n"
        "\n"
        "  -o, --output FILE   the merged file (required); written under a temporary\n"
        "                      name, renamed at the end\n"
        "      --overwrite     replace OUTPUT if it exists (else refused, exit 2);\n"
        "      --force         the same\n"
        "      --tmpdir DIR    tiles: scratch files (points sorted and tiled again, tile\n"
        "                      data of a PMTiles output); default: next to OUTPUT\n"
        "      --summary json  print the counts as one JSON object on standard output\n"
        "  -q, --quiet         only errors\n"
        "\n"
        "example:\n"
        "  geoflux merge dept-35.pmtiles dept-54.pmtiles -o france.pmtiles\n"
        "\n"
        "exit codes: 0 ok, 2 usage error or unreadable input, 3 run failed (see geoflux --help)\n");
}

int gf_cmd_merge(int argc, char **argv)
{
    enum { O_OVERWRITE = 256, O_TMPDIR, O_SUMMARY };
    static const struct option lo[] = {{"output", required_argument, 0, 'o'}, {"overwrite", no_argument, 0, O_OVERWRITE},
                                       {"force", no_argument, 0, O_OVERWRITE}, {"tmpdir", required_argument, 0, O_TMPDIR},
                                       {"summary", required_argument, 0, O_SUMMARY}, {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    gf_merge_opts o = {0};
    int quiet = 0, json = 0, bad = 0;
    gf_cli_getopt_init();
    int c;
    while ((c = getopt_long(argc, argv, GF_CLI_OPTSTART "ho:q", lo, NULL)) != -1) {
        switch (c) {
        case 'h': help(stdout); return GF_EXIT_OK;
        case 'o': bad = gf_cli_once("--output", &o.output, optarg); break;
        case 'q': quiet = 1; break;
        case O_OVERWRITE: o.overwrite = 1; break;
        case O_TMPDIR: bad = gf_cli_once("--tmpdir", &o.tmpdir, optarg); break;
        case O_SUMMARY:
            if (strcmp(optarg, "json")) return gf_cli_usage("merge", "--summary '%s': expected json", optarg);
            json = 1;
            break;
        default: return gf_cli_bad_option("merge", c, argv);
        }
        if (bad) return GF_EXIT_USAGE;
    }
    if (optind >= argc) return gf_cli_usage("merge", "no input: give the files to merge");
    if (!o.output) return gf_cli_usage("merge", "no output: -o FILE");
    o.inputs = (const char *const *)argv + optind;
    o.ninputs = argc - optind;
    gf_ctx *ctx = gf_cli_ctx(quiet ? -1 : 0);
    if (!ctx) return GF_EXIT_FAIL;
    gf_merge_stats s;
    gf_status st = gf_merge_run(ctx, &o, &s);
    gf_ctx_log_flush(ctx);
    if (st) {
        int code = gf_cli_fail(ctx, st);
        gf_ctx_destroy(ctx);
        return code;
    }
    if (json) {
        printf("{\"format\":");
        gf_cli_json_str(stdout, gf_merge_kind_str(s.kind));
        /* rows: GeoPackage rows appended to the first input's; reports: communes */
        printf(",\"inputs\":%d,\"tiles\":%llu,\"merged_tiles\":%llu,\"features_dropped\":%llu,\"points_retiled\":%s,"
               "\"rows\":%llu,\"output\":", o.ninputs, s.tiles, s.merged_tiles, s.features_dropped,
               s.retiled ? "true" : "false", s.rows);
        gf_cli_json_str(stdout, o.output);
        printf("}\n");
    }
    if (!quiet) {
        if (s.kind == GF_MERGE_REPORT)
            fprintf(stderr, "geoflux: merged %d reports: %llu communes\n", o.ninputs, s.rows);
        else if (s.kind == GF_MERGE_GPKG)
            fprintf(stderr, "geoflux: merged %d GeoPackages: %llu rows appended to the first's\n", o.ninputs, s.rows);
        else
            fprintf(stderr, "geoflux: merged %d %s archives: %llu tiles, %llu held by several inputs, %llu identical features kept once\n",
                    o.ninputs, gf_merge_kind_str(s.kind), s.tiles, s.merged_tiles, s.features_dropped);
        fprintf(stderr, "geoflux: output: %s\n", o.output);
    }
    gf_ctx_destroy(ctx);
    return GF_EXIT_OK;
}
