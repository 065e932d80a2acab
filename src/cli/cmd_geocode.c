/* geoflux geocode / reverse / index: geocoding tables (SCDL équipements
 * files or any CSV) against the address base, offline and in batch: options
 * parsed here, the jobs built and run by the library (src/job/geocode.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "geoflux/equipment.h"
#include "geoflux/geocode.h"
#include "geoflux/job.h"

static void help_geocode(FILE *f)
{
    fprintf(f,
        "usage: geoflux geocode (--addresses FILE... | --index FILE) INPUT.csv -o OUTPUT [OPTIONS]\n"
        "\n"
        "Geocodes every row of INPUT (an SCDL équipements file, 0.1.5 or the older\n"
        "template, or any CSV) against the address base, offline. Every row is written, in\n"
        "input order, with the input columns plus, in the Geoplateforme's order: result_index,\n"
        "latitude, longitude, result_label, result_score, result_score_next, result_type\n"
        "(housenumber, street, locality, municipality), result_id (cle_interop; a street's up to\n"
        "the number, 35047_0380),\n"
        "result_housenumber, result_name, result_street, result_postcode, result_city,\n"
        "result_context, result_citycode, result_oldcitycode, result_oldcity, result_district,\n"
        "result_importance, result_x, result_y (Lambert-93, or the legal CRS overseas),\n"
        "result_status (ok, not-found, skipped, error); when the input has coordinates,\n"
        "result_distance (metres to the result) and result_far (beyond --far).\n"
        "result_score in [0,1]: text similarity x commune certainty x house number match\n"
        "(1: the same normalised address); result_score_next: the best other candidate.\n"
        "\n"
        "address base:\n"
        "      --addresses FILE   BAL or BAN file (gzip ok); repeat for several\n"
        "      --index FILE       an index saved by `geoflux index build` instead\n"
        "      --postcodes FILE   La Poste postcode base (CSV, gzip ok) for postcodes and\n"
        "                         communes without addresses (default: $GEOFLUX_POSTCODES)\n"
        "query:\n"
        "      --columns A,B      input columns joined into the query (repeatable; default:\n"
        "                         ADR_NUMERO,ADR_NOMVOIE for SCDL files, else adresse/address/q)\n"
        "      --postcode COL     postcode filter column (default: ADR_CODEPOSTAL/postcode/code_postal)\n"
        "      --citycode COL     INSEE code filter column (default: citycode/code_insee)\n"
        "      --city COL         commune name column (default: ADR_COMMUNE/ADR_VILLE/city/commune)\n"
        "      --lat COL --lon COL  the row's own WGS84 position, as the service's lat/lon: among\n"
        "                         equally good names the nearest wins (rows naming no commune\n"
        "                         look in the communes within 10 km); also checked against the\n"
        "                         result. Without them, coordinate columns found by name\n"
        "                         (EQUIP_LAT/EQUIP_LONG, lat/lon, ...) are only checked\n"
        "      --far METRES       distance flagged in result_far (default 100)\n"
        "      --result-columns A,B  result columns to write, in that order\n"
        "      --columns-style S  geoplateforme (default) or api-adresse (the older order: no\n"
        "                         result_index, result_importance, result_x, result_y)\n"
        "output:\n"
        "  -o, --output FILE      .csv (native writer), .geojson, .geojsonl, .gpkg, ...\n"
        "  -f, --format NAME      csv, geojson, geojsonl, gpkg, or an OGR driver name\n"
        "      --t-srs CRS        output CRS of the geometry (default EPSG:4326)\n"
        "      --layer NAME       layer name (GeoPackage: default \"equipments\" for SCDL files)\n"
        "      --append           GeoPackage: add the layer (and its rejects) to an existing\n"
        "                         file, e.g. the one `geoflux convert` wrote for the addresses\n"
        "      --rejects FILE     CSV records that cannot be parsed (default OUTPUT.rejects.csv);\n"
        "                         every other row is written, in input order: rows breaking an\n"
        "                         SCDL rule carry its code in the errors column\n"
        "  -j, --threads N        worker threads (default: all cores)\n"
        "      --summary json     counts as one JSON object on standard output\n"
        "  -q, --quiet / -v, --verbose\n"
        "\n"
        "example:\n"
        "  geoflux geocode --addresses data/samples/bal/bal_35047_v1.3.csv \\\n"
        "      data/samples/equipements/equipements-35047.csv -o out/equipements.geojson\n"
        "\n"
        "exit codes: 0 ok, 2 usage error or unreadable input, 3 run failed (see geoflux --help)\n");
}

static void help_reverse(FILE *f)
{
    fprintf(f,
        "usage: geoflux reverse (--addresses FILE... | --index FILE) INPUT.csv -o OUTPUT [OPTIONS]\n"
        "\n"
        "For each row's point (WGS84 columns lat/lon, latitude/longitude, EQUIP_LAT/EQUIP_LONG,\n"
        "or --lat/--lon), the nearest address: result_index, result_latitude, result_longitude,\n"
        "result_distance (metres), result_label, result_type, result_id, result_housenumber,\n"
        "result_name, result_street, result_postcode, result_city, result_context,\n"
        "result_citycode, result_oldcitycode, result_oldcity, result_district,\n"
        "result_importance, result_x, result_y, result_status.\n"
        "\n"
        "      --addresses FILE, --index FILE, --postcodes FILE   as for geocode\n"
        "      --lat COL --lon COL   coordinate columns\n"
        "      --max-distance M      beyond M metres: result_status not-found (default 500)\n"
        "      --result-columns A,B, --columns-style S   as for geocode\n"
        "  -o, -f, --t-srs, -j, -q, -v, --summary json   as for geocode\n");
}

static void help_index(FILE *f)
{
    fprintf(f,
        "usage: geoflux index build FILE... -o INDEX [--postcodes FILE] [-j N]\n"
        "\n"
        "Builds the geocoding index from BAL/BAN files (and the La Poste postcode base)\n"
        "and saves it as one flat file, memory-mapped by `--index INDEX` later.\n");
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int run_cmd(int argc, char **argv, int reverse)
{
    enum { O_ADDR = 256, O_INDEX, O_PC, O_COLS, O_POSTCODE, O_CITYCODE, O_CITY, O_LAT, O_LON, O_FAR, O_MAXD, O_RCOLS,
           O_STYLE };
    static const struct option lo[] = {
        GF_CLI_OUT_LONGOPTS, {"help", no_argument, 0, 'h'}, {"addresses", required_argument, 0, O_ADDR}, {"index", required_argument, 0, O_INDEX},
        {"postcodes", required_argument, 0, O_PC}, {"columns", required_argument, 0, O_COLS},
        {"postcode", required_argument, 0, O_POSTCODE}, {"citycode", required_argument, 0, O_CITYCODE},
        {"city", required_argument, 0, O_CITY}, {"lat", required_argument, 0, O_LAT}, {"lon", required_argument, 0, O_LON},
        {"far", required_argument, 0, O_FAR}, {"max-distance", required_argument, 0, O_MAXD},
        {"result-columns", required_argument, 0, O_RCOLS}, {"columns-style", required_argument, 0, O_STYLE}, {0, 0, 0, 0}};
    gf_cli_out cli = GF_CLI_OUT_INIT;
    const char *index = NULL, *postcodes = getenv("GEOFLUX_POSTCODES");
    const char *postcode = NULL, *citycode = NULL, *city = NULL, *lat = NULL, *lon = NULL, *rcols = NULL;
    int style = GF_GC_STYLE_GEOPLATEFORME;
    const char *addrs[64];
    int naddrs = 0, maxd_given = 0;
    double far = 0, maxd = GF_GC_REVERSE_MAX_M;
    char columns[1024] = "";
    const char *cmd = reverse ? "reverse" : "geocode";
    gf_cli_getopt_init();
    int c, bad = 0;
    const char *pc_opt = NULL;
    while ((c = getopt_long(argc, argv, GF_CLI_OPTSTART GF_CLI_OUT_SHORTOPTS "h", lo, NULL)) != -1) {
        int k = gf_cli_out_opt(&cli, c, optarg, cmd);
        if (k < 0) return GF_EXIT_USAGE;
        if (k) continue;
        switch (c) {
        case 'h': reverse ? help_reverse(stdout) : help_geocode(stdout); return GF_EXIT_OK;
        case O_ADDR:
            if (naddrs >= 64) return gf_cli_usage(cmd, "at most 64 --addresses");
            addrs[naddrs++] = optarg;
            break;
        case O_INDEX: bad = gf_cli_once("--index", &index, optarg); break;
        case O_PC: bad = gf_cli_once("--postcodes", &pc_opt, optarg); postcodes = optarg; break;
        case O_COLS: {
            size_t l = strlen(columns);
            snprintf(columns + l, sizeof columns - l, "%s%s", l ? "," : "", optarg);
            break;
        }
        case O_POSTCODE: bad = gf_cli_once("--postcode", &postcode, optarg); break;
        case O_CITYCODE: bad = gf_cli_once("--citycode", &citycode, optarg); break;
        case O_CITY: bad = gf_cli_once("--city", &city, optarg); break;
        case O_RCOLS:
            if (!optarg[0]) return gf_cli_usage(cmd, "--result-columns: no column named");
            bad = gf_cli_once("--result-columns", &rcols, optarg);
            break;
        case O_STYLE:
            if (!strcmp(optarg, "geoplateforme")) style = GF_GC_STYLE_GEOPLATEFORME;
            else if (!strcmp(optarg, "api-adresse")) style = GF_GC_STYLE_API_ADRESSE;
            else return gf_cli_usage(cmd, "--columns-style '%s': expected geoplateforme or api-adresse", optarg);
            break;
        case O_LAT: bad = gf_cli_once("--lat", &lat, optarg); break;
        case O_LON: bad = gf_cli_once("--lon", &lon, optarg); break;
        case O_FAR: bad = gf_cli_num("--far", optarg, 0.001, 2e7, &far); break; /* metres, > 0 */
        case O_MAXD:
            bad = gf_cli_num("--max-distance", optarg, 0.001, 2e7, &maxd);
            maxd_given = 1;
            break;
        default: return gf_cli_bad_option(cmd, c, argv);
        }
        if (bad) return GF_EXIT_USAGE;
    }
    const char *out = cli.out, *format = cli.format, *t_srs = cli.t_srs, *rejects = cli.rejects, *layer = cli.layer;
    int threads = cli.threads, verbose = cli.verbose, summary = cli.summary_json,
        precision = cli.precision, append = cli.append;
    if (argc - optind != 1 || !out || (!index && naddrs == 0) || (index && naddrs))
        return gf_cli_usage(cmd, "%s",
                            argc - optind != 1 ? "one INPUT file expected" : !out ? "no output (-o FILE)"
                            : index ? "--index and --addresses are exclusive" : "no address base (--addresses FILE or --index FILE)");
    const char *input = argv[optind];
    if (cli.keep_invalid)
        return gf_cli_usage(cmd, "--keep-invalid does not apply: every row is written (rows breaking an SCDL rule "
                                 "carry its code in the errors column)");
    if (!reverse && !lat != !lon) return gf_cli_usage(cmd, "--lat and --lon go together (the row's position)");
    /* options of the other command are refused, not ignored */
    const char *wrong = reverse ? (far > 0 ? "--far" : columns[0] ? "--columns" : postcode ? "--postcode"
                                   : citycode ? "--citycode" : city ? "--city" : NULL)
                                : (maxd_given ? "--max-distance" : NULL);
    if (wrong) return gf_cli_usage(cmd, "%s applies to `geoflux %s` only", wrong, reverse ? "geocode" : "reverse");
    gf_ctx *ctx = gf_cli_ctx(verbose);
    if (!ctx) return GF_EXIT_FAIL;
    gf_geocode_job_opts go = {.reverse = reverse, .input = input, .index = index, .addresses = addrs,
                              .naddresses = naddrs, .postcodes = postcodes, .output = out, .format = format,
                              .layer = layer, .t_srs = t_srs, .rejects = rejects, .append = append,
                              .precision = precision, .threads = threads, .columns = columns[0] ? columns : NULL,
                              .postcode = postcode, .citycode = citycode, .city = city, .far_m = far, .lat = lat,
                              .lon = lon, .max_m = reverse ? maxd : 0, .result_columns = rcols, .columns_style = style};
    gf_job *job = NULL;
    gf_geocode_info gi;
    gf_run_stats s;
    int code = GF_EXIT_OK;
    gf_status st = gf_job_geocode(ctx, &go, &job);
    if (!st && verbose >= 0) {
        gf_job_geocode_info(job, &gi);
        gf_cli_index_line(gi.index_built, &gi.index, gi.index_seconds);
    }
    if (!st) st = gf_job_run(job, NULL, &s);
    if (st) {
        code = gf_cli_fail(ctx, st);
        goto done;
    }
    gf_job_geocode_info(job, &gi);
    const gf_gc_counts *tc = &gi.counts;
    double rate = s.seconds > 0 ? (double)s.read / s.seconds : 0;
    if (summary) {
        printf("{\"read\":%llu,\"written\":%llu,\"rejected\":%llu,\"ok\":%llu,\"not_found\":%llu,\"skipped\":%llu,"
               "\"error\":%llu,\"housenumber\":%llu,\"street\":%llu,\"locality\":%llu,\"municipality\":%llu,"
               "\"schema_defects\":%llu,\"seconds\":%.3f,\"rows_per_s\":%.0f,\"crs\":",
               (unsigned long long)s.read, (unsigned long long)s.written, (unsigned long long)s.rejected,
               (unsigned long long)tc->ok, (unsigned long long)tc->not_found, (unsigned long long)tc->skipped,
               (unsigned long long)tc->error, (unsigned long long)tc->types[1], (unsigned long long)tc->types[2],
               (unsigned long long)tc->types[3], (unsigned long long)tc->types[4], (unsigned long long)gi.defects,
               s.seconds, rate);
        gf_cli_json_str(stdout, gf_crs_label(gi.crs));
        printf(",\"crs_name\":");
        gf_cli_json_str(stdout, gi.crs->name);
        printf("}\n");
    }
    if (verbose >= 0) {
        fprintf(stderr, "geoflux: read %llu, written %llu, rejected %llu; ", (unsigned long long)s.read,
                (unsigned long long)s.written, (unsigned long long)s.rejected);
        fprintf(stderr, "status: %llu ok (%llu housenumber, %llu street, %llu locality, %llu municipality), "
                "%llu not-found, %llu skipped, %llu error", (unsigned long long)tc->ok, (unsigned long long)tc->types[1],
                (unsigned long long)tc->types[2], (unsigned long long)tc->types[3], (unsigned long long)tc->types[4],
                (unsigned long long)tc->not_found, (unsigned long long)tc->skipped, (unsigned long long)tc->error);
        if (gi.defects)
            fprintf(stderr, "; %llu rows break a schema rule (codes in the errors column), written all the same",
                    (unsigned long long)gi.defects);
        fprintf(stderr, "; %.2f s, %.0f rows/s\n", s.seconds, rate);
        if (s.rejected || rejects) fprintf(stderr, "geoflux: rejects: %s\n", gi.rejects);
    }
done:
    gf_job_destroy(job);
    gf_ctx_destroy(ctx);
    return code;
}

int gf_cmd_geocode(int argc, char **argv) { return run_cmd(argc, argv, 0); }
int gf_cmd_reverse(int argc, char **argv) { return run_cmd(argc, argv, 1); }

int gf_cmd_index(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "build") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { help_index(stdout); return GF_EXIT_OK; }
        if (argc < 2) return gf_cli_usage("index", "missing subcommand: geoflux index build FILE... -o INDEX");
        return gf_cli_usage("index", "unknown subcommand '%s' (build)", argv[1]);
    }
    enum { O_PC = 256 };
    static const struct option lo[] = {{"output", required_argument, 0, 'o'}, {"threads", required_argument, 0, 'j'},
        {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'},
        {"postcodes", required_argument, 0, O_PC}, {0, 0, 0, 0}};
    const char *out = NULL, *postcodes = getenv("GEOFLUX_POSTCODES");
    int threads = 0, verbose = 0, c;
    argc--;
    argv++;
    gf_cli_getopt_init();
    const char *pc_opt = NULL;
    while ((c = getopt_long(argc, argv, GF_CLI_OPTSTART "o:j:qvh", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'o': bad = gf_cli_once("-o/--output", &out, optarg); break;
        case 'j': bad = gf_cli_int("-j/--threads", optarg, 1, GF_CLI_MAX_THREADS, &threads); break;
        case 'q': verbose = -1; break;
        case 'v': verbose = 1; break;
        case 'h': help_index(stdout); return GF_EXIT_OK;
        case O_PC: bad = gf_cli_once("--postcodes", &pc_opt, optarg); postcodes = optarg; break;
        default: return gf_cli_bad_option("index", c, argv);
        }
        if (bad) return GF_EXIT_USAGE;
    }
    if (optind >= argc || !out) return gf_cli_usage("index", "%s", !out ? "no output (-o FILE)" : "no input file");
    gf_ctx *ctx = gf_cli_ctx(verbose);
    if (!ctx) return GF_EXIT_FAIL;
    double t0 = now_s();
    gf_index_job_opts io = {.inputs = (const char *const *)(argv + optind), .ninputs = argc - optind,
                            .postcodes = postcodes, .output = out, .threads = threads};
    gf_gc_stats gs;
    gf_status st = gf_job_index_build(ctx, &io, &gs);
    int code = GF_EXIT_OK;
    if (st) {
        code = gf_cli_fail(ctx, st);
    } else if (verbose >= 0) {
        gf_cli_index_line(1, &gs, now_s() - t0);
        fprintf(stderr, "geoflux: index written to %s (%.2f s in all)\n", out, now_s() - t0);
    }
    gf_ctx_destroy(ctx);
    return code;
}
