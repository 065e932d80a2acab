/* geoflux publish: a department's harvest -> harmonise -> publish run
 * (src/publish/, docs/publish.md); options parsed, the run made, its
 * counts printed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "geoflux/publish.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: geoflux publish SOURCE... --store STORE -o SITE [OPTIONS]\n"
        "\n"
        "Publishes the Base Adresse Locale of a territory from the files its communes and\n"
        "EPCIs send. Every file under SOURCE (directories are walked) is a submission; its\n"
        "producer is the folder holding it, or what --manifest says. BAL files of every\n"
        "version (multi-commune files are split by commune) and BAN extracts are harmonised\n"
        "to BAL 1.4 and validated with the reference rules; each commune's revision is\n"
        "checked (perimeter, share of valid rows, deletions against the published revision,\n"
        "producers in conflict), compared with the published one (same file or same rows in\n"
        "any order: unchanged) and stored in STORE (SQLite, one transaction per run). SITE is\n"
        "then rebuilt from STORE and swapped in atomically: report.json, bal/CODE.csv,\n"
        "adresses.csv.gz, changes.csv, communes.geojson, adresses.gpkg, adresses.pmtiles.\n"
        "A run that changes nothing leaves SITE as it is.\n"
        "\n"
        "  -o, --output SITE        publication directory (created; an existing directory\n"
        "                           that is not a geoflux publication is never replaced)\n"
        "      --store STORE        revision store, created when missing\n"
        "      --perimeter SPEC     department code (31, 2A, 974), file of INSEE codes, or\n"
        "                           boundaries file: communes outside are refused\n"
        "      --communes FILE      commune boundaries (polygons) for the map files and\n"
        "                           communes.geojson\n"
        "      --manifest FILE      CSV file;producer;received_at naming each submission's\n"
        "                           producer and date\n"
        "      --at DATE            the run's date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ);\n"
        "                           default now, or SOURCE_DATE_EPOCH\n"
        "      --min-valid SHARE    a revision needs this share of valid rows (default 0.95)\n"
        "      --warn-deletion SHARE  warn when this share of the published addresses is gone\n"
        "                           (default 0.2)\n"
        "      --max-deletion SHARE refuse a revision removing more (default 0.8)\n"
        "      --prefer PRODUCER    the producer that wins when two send one commune\n"
        "      --max-size SIZE      larger files are rejected (default 512M)\n"
        "      --max-memory SIZE    what the run's indexes and sorts may hold in memory at\n"
        "                           once: the validation's file-wide tables while the\n"
        "                           communes are checked, then the map files' R-tree and\n"
        "                           tile sort, which spill to disk past it (default: 256M\n"
        "                           for the tables, 128M for the map files)\n"
        "      --summary json       print the run's report (report.json) on standard output\n"
        "  -j, --threads N          worker threads (default: all cores)\n"
        "  -q, --quiet              no counts on standard error\n"
        "  -v, --verbose            also what each step did and how long it took\n"
        "\n"
        "exit codes: 0 every submission published or unchanged, 1 some rejected or in\n"
        "conflict, 2 usage error or missing source, 3 the run failed (STORE and SITE are\n"
        "then as they were; a second run on a STORE in use fails with 3)\n");
}

int gf_cmd_publish(int argc, char **argv)
{
    enum { O_STORE = 256, O_PERIM, O_COMMUNES, O_MANIFEST, O_AT, O_MINV, O_WARND, O_MAXD, O_PREFER, O_MAXSIZE, O_MAXMEM, O_SUMMARY };
    static const struct option lo[] = {
        {"output", required_argument, 0, 'o'},        {"store", required_argument, 0, O_STORE},
        {"perimeter", required_argument, 0, O_PERIM}, {"communes", required_argument, 0, O_COMMUNES},
        {"manifest", required_argument, 0, O_MANIFEST}, {"at", required_argument, 0, O_AT},
        {"min-valid", required_argument, 0, O_MINV},  {"warn-deletion", required_argument, 0, O_WARND},
        {"max-deletion", required_argument, 0, O_MAXD}, {"prefer", required_argument, 0, O_PREFER},
        {"max-size", required_argument, 0, O_MAXSIZE}, {"summary", required_argument, 0, O_SUMMARY},
        {"max-memory", required_argument, 0, O_MAXMEM},
        {"threads", required_argument, 0, 'j'},       {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},                {0, 0, 0, 0}};
    gf_publish_opts o = GF_PUBLISH_OPTS_INIT;
    int quiet = 0, verbose = 0, json = 0, bad = 0;
    size_t maxsize = 0;
    gf_cli_getopt_init();
    int c;
    while ((c = getopt_long(argc, argv, GF_CLI_OPTSTART "ho:j:qv", lo, NULL)) != -1) {
        switch (c) {
        case 'h': help(stdout); return GF_EXIT_OK;
        case 'o': bad = gf_cli_once("--output", &o.site, optarg); break;
        case 'j': bad = gf_cli_int("--threads", optarg, 1, GF_CLI_MAX_THREADS, &o.threads); break;
        case 'q': quiet = 1; break;
        case 'v': verbose = 1; break;
        case O_STORE: bad = gf_cli_once("--store", &o.store, optarg); break;
        case O_PERIM: bad = gf_cli_once("--perimeter", &o.perimeter, optarg); break;
        case O_COMMUNES: bad = gf_cli_once("--communes", &o.communes, optarg); break;
        case O_MANIFEST: bad = gf_cli_once("--manifest", &o.manifest, optarg); break;
        case O_AT: bad = gf_cli_once("--at", &o.at, optarg); break;
        case O_PREFER: bad = gf_cli_once("--prefer", &o.prefer, optarg); break;
        case O_MINV: bad = gf_cli_num("--min-valid", optarg, 0, 1, &o.min_valid); break;
        case O_WARND: bad = gf_cli_num("--warn-deletion", optarg, 0, 1, &o.warn_deletion); break;
        case O_MAXD: bad = gf_cli_num("--max-deletion", optarg, 0, 1, &o.max_deletion); break;
        case O_MAXSIZE: bad = gf_cli_size("--max-size", optarg, &maxsize); break;
        case O_MAXMEM: bad = gf_cli_size("--max-memory", optarg, &o.max_memory); break;
        case O_SUMMARY:
            if (strcmp(optarg, "json")) return gf_cli_usage("publish", "--summary '%s': expected json", optarg);
            json = 1;
            break;
        default: return gf_cli_bad_option("publish", c, argv);
        }
        if (bad) return GF_EXIT_USAGE;
    }
    o.max_size = maxsize;
    if (optind >= argc) return gf_cli_usage("publish", "no source: give the files or directories of the submissions");
    if (!o.store) return gf_cli_usage("publish", "no revision store: --store STORE (created when missing)");
    if (!o.site) return gf_cli_usage("publish", "no publication directory: -o SITE");
    if (o.warn_deletion >= 0 && o.max_deletion >= 0 && o.warn_deletion > o.max_deletion)
        return gf_cli_usage("publish", "--warn-deletion %g is above --max-deletion %g", o.warn_deletion, o.max_deletion);
    /* SITE without its trailing slashes: SITE.geoflux-new is built beside it */
    char *site = strdup(o.site);
    if (!site) return GF_EXIT_FAIL;
    for (size_t n = strlen(site); n > 1 && site[n - 1] == '/'; n--) site[n - 1] = 0;
    o.site = site;
    o.sources = (const char *const *)argv + optind;
    o.nsources = argc - optind;
    gf_ctx *ctx = gf_cli_ctx(quiet ? -1 : verbose);
    if (!ctx) {
        free(site);
        return GF_EXIT_FAIL;
    }
    gf_publish_summary s;
    gf_status st = gf_publish_run(ctx, &o, &s);
    gf_ctx_log_flush(ctx);
    if (st) {
        int code = gf_cli_fail(ctx, st);
        gf_ctx_destroy(ctx);
        gf_publish_summary_free(&s);
        free(site);
        return code;
    }
    if (json && s.report_json) fputs(s.report_json, stdout);
    if (!quiet) {
        fprintf(stderr, "geoflux: submissions: %d (accepted %d, unchanged %d, rejected %d, conflict %d)\n", s.sub_total,
                s.sub_accepted, s.sub_unchanged, s.sub_rejected, s.sub_conflict);
        fprintf(stderr, "geoflux: communes: published %d, unchanged %d, rejected %d, conflict %d, missing %d\n",
                s.c_published, s.c_unchanged, s.c_rejected, s.c_conflict, s.c_missing);
        fprintf(stderr, "geoflux: rows: read %llu = published %llu + rejected %llu\n", (unsigned long long)s.rows_read,
                (unsigned long long)s.rows_published, (unsigned long long)s.rows_rejected);
        fprintf(stderr, "geoflux: %s: %s\n", o.site, s.site_rebuilt ? "published" : "unchanged (nothing new to publish)");
    }
    int code = s.sub_rejected || s.sub_conflict || s.c_rejected || s.c_conflict ? GF_EXIT_INVALID : GF_EXIT_OK;
    gf_publish_summary_free(&s);
    gf_ctx_destroy(ctx);
    free(site);
    return code;
}
