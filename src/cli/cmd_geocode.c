/* geoflux geocode / reverse / index: geocoding tables (SCDL équipements
 * files or any CSV) against the address base, offline and in batch. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/commands.h"
#include "geoflux/equipment.h"
#include "geoflux/geocode.h"
#include "geoflux/gpkg.h"
#include "geoflux/pipeline.h"
#include "geoflux/reproject.h"
#include "geoflux/write.h"

static void help_geocode(FILE *f)
{
    fprintf(f,
        "usage: geoflux geocode (--addresses FILE... | --index FILE) INPUT.csv -o OUTPUT [OPTIONS]\n"
        "\n"
        "Geocodes every row of INPUT (an SCDL équipements file, 0.1.5 or the older\n"
        "template, or any CSV) against the address base, offline. Every row is written, in\n"
        "input order, with the input columns plus, in the Geoplateforme's order: result_index,\n"
        "latitude, longitude, result_label, result_score, result_score_next, result_type\n"
        "(housenumber, street, locality, municipality), result_id (cle_interop),\n"
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

/* Counts the rows breaking a rule of their schema (SCDL), written all the
 * same: a commit-only sink. (Statuses are counted by the stage.) */
typedef struct tally {
    uint64_t defects;
} tally;

static gf_status t_begin(void *st, gf_ctx *ctx, const gf_schema *s, int nw)
{
    (void)st; (void)ctx; (void)s; (void)nw;
    return GF_OK;
}

static gf_status t_commit(void *st, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    tally *t = st;
    (void)ctx; (void)enc;
    for (size_t r = 0; r < b->n; r++)
        if (b->errors && b->errors[r].len) t->defects++;
    return GF_OK;
}

static const gf_sink_vt tally_vt = {.name = "tally", .begin = t_begin, .commit = t_commit};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static gf_status load_index(gf_ctx *ctx, const char *index, const char **addrs, int naddrs, const char *postcodes,
                            int threads, int verbose, gf_gc_index **out)
{
    double t0 = now_s();
    gf_status st;
    if (index) st = gf_gc_index_load(ctx, index, out);
    else st = gf_gc_index_build(ctx, addrs, naddrs, postcodes, threads, out);
    if (st) return st;
    if (verbose >= 0) {
        gf_gc_stats s;
        gf_gc_index_stats(*out, &s);
        fprintf(stderr, "geoflux: index %s: %llu communes, %llu streets and places, %llu addresses, %.0f MB, %.2f s\n",
                index ? "loaded" : "built", (unsigned long long)s.communes, (unsigned long long)s.streets,
                (unsigned long long)s.addresses, (double)s.bytes / 1e6, now_s() - t0);
    }
    return GF_OK;
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
    int code = GF_EXIT_FAIL;
    gf_gc_index *ix = NULL;
    gf_pipeline *p = NULL;
    gf_table_reader *tr = NULL;
    gf_crs_info crs = {0};
    char *rejects_path = NULL;
    tally tl = {0};
    gf_status st;
    const gf_sink_vt *svt;
    void *sst, *gstage = NULL; /* gstage: borrowed, owned by the pipeline */
    gf_gc_counts tc;
    /* before any work (the index build): inputs readable, outputs creatable */
    if ((st = gf_cli_check_input(ctx, input))) goto fail;
    for (int i = 0; i < naddrs; i++)
        if ((st = gf_cli_check_input(ctx, addrs[i]))) goto fail;
    if (index && (st = gf_cli_check_input(ctx, index))) goto fail;
    if (postcodes && !index && (st = gf_cli_check_input(ctx, postcodes))) goto fail;
    if ((st = gf_cli_check_output(ctx, out))) goto fail;
    if (rejects && (st = gf_cli_check_output(ctx, rejects))) goto fail;
    /* outputs are neither inputs nor each other (write.h), checked before
     * the index is built */
    rejects_path = gf_cli_rejects_path(out, rejects);
    if (!rejects_path) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto fail; }
    {
        const char *ins[64 + 3];
        int nin = 0;
        ins[nin++] = input;
        if (index) ins[nin++] = index;
        for (int i = 0; i < naddrs; i++) ins[nin++] = addrs[i];
        if (postcodes) ins[nin++] = postcodes;
        const gf_path_role outs[] = {{out, "output"}, {rejects_path, rejects ? "--rejects" : "rejects file"}};
        if ((st = gf_output_check_paths(ctx, ins, nin, outs, 2, GF_CHECK_OVERWRITE | (append ? GF_CHECK_APPEND : 0))))
            goto fail;
    }
    if ((st = gf_crs_resolve(ctx, t_srs ? t_srs : "EPSG:4326", &crs))) goto fail;
    gf_ctx_log(ctx, GF_LOG_INFO, "output CRS: %s (%s)", gf_crs_label(&crs), crs.name);
    /* an --index file that cannot be used is an unreadable input: its
     * loader says so with GF_ERR_INPUT or GF_ERR_PARSE (exit 2) */
    if ((st = load_index(ctx, index, addrs, naddrs, postcodes, threads, verbose, &ix))) goto fail;
    gf_csv_opts co = {0};
    if ((st = gf_table_open(ctx, input, &co, &tr))) goto fail;
    gf_table_reader *reader = tr;
    gf_pipeline_opts po = {.threads = threads};
    if ((st = gf_pipeline_create(ctx, &po, &p))) goto fail;
    gf_pipeline_set_source(p, &gf_table_source_vt, tr, gf_table_schema(tr), (void (*)(void *))gf_table_destroy);
    tr = NULL;
    /* SCDL rules are checked and reported (errors column, summary), but a
     * row breaking one is geocoded and written all the same: batch
     * geocoders never withhold a row */
    {
        gf_reverse_opts ro = {.index = ix, .lat_col = lat, .lon_col = lon, .max_m = maxd, .result_columns = rcols,
                              .columns_style = style};
        gf_geocode_opts go = {.index = ix, .columns = columns[0] ? columns : NULL, .postcode = postcode,
                              .citycode = citycode, .city = city, .lat_col = lat, .lon_col = lon, .bias = lat && lon,
                              .far_m = far,
                              .result_columns = rcols, .columns_style = style};
        if ((st = gf_geocode_table_stages(ctx, p, reader, reverse ? NULL : &go, reverse ? &ro : NULL, t_srs, &gstage)))
            goto fail;
    }
    gf_output_opts oo = {.path = out, .format = format, .layer = layer, .append = append, .precision = precision, .epsg = crs.epsg,
                         .srs_wkt = crs.wkt, .srs_geographic = crs.geographic};
    const char *inputs[1] = {input};
    oo.inputs = inputs; oo.ninputs = 1; /* `source` of the GeoPackage's rejects table */
    if ((st = gf_output_open(ctx, &oo, &svt, &sst))) goto fail;
    if ((st = gf_pipeline_add_sink(p, svt, sst))) { svt->destroy(sst); goto fail; }
    if ((st = gf_rejects_open(ctx, rejects_path, inputs, 1, &sst))) goto fail;
    if ((st = gf_pipeline_add_sink(p, &gf_rejects_sink_vt, sst))) { gf_rejects_sink_vt.destroy(sst); goto fail; }
    if ((st = gf_pipeline_add_sink(p, &tally_vt, &tl))) goto fail;
    gf_run_stats s;
    st = gf_pipeline_run(p, &s);
    gf_ctx_log_flush(ctx);
    if (st) goto fail;
    gf_geocode_stage_counts(gstage, &tc);
    double rate = s.seconds > 0 ? (double)s.read / s.seconds : 0;
    if (summary) {
        printf("{\"read\":%llu,\"written\":%llu,\"rejected\":%llu,\"ok\":%llu,\"not_found\":%llu,\"skipped\":%llu,"
               "\"error\":%llu,\"housenumber\":%llu,\"street\":%llu,\"locality\":%llu,\"municipality\":%llu,"
               "\"schema_defects\":%llu,\"seconds\":%.3f,\"rows_per_s\":%.0f,\"crs\":",
               (unsigned long long)s.read, (unsigned long long)s.written, (unsigned long long)s.rejected,
               (unsigned long long)tc.ok, (unsigned long long)tc.not_found, (unsigned long long)tc.skipped,
               (unsigned long long)tc.error, (unsigned long long)tc.types[1], (unsigned long long)tc.types[2],
               (unsigned long long)tc.types[3], (unsigned long long)tc.types[4], (unsigned long long)tl.defects,
               s.seconds, rate);
        gf_cli_json_str(stdout, gf_crs_label(&crs));
        printf(",\"crs_name\":");
        gf_cli_json_str(stdout, crs.name);
        printf("}\n");
    }
    if (verbose >= 0) {
        fprintf(stderr, "geoflux: read %llu, written %llu, rejected %llu; ", (unsigned long long)s.read,
                (unsigned long long)s.written, (unsigned long long)s.rejected);
        fprintf(stderr, "status: %llu ok (%llu housenumber, %llu street, %llu locality, %llu municipality), "
                "%llu not-found, %llu skipped, %llu error", (unsigned long long)tc.ok, (unsigned long long)tc.types[1],
                (unsigned long long)tc.types[2], (unsigned long long)tc.types[3], (unsigned long long)tc.types[4],
                (unsigned long long)tc.not_found, (unsigned long long)tc.skipped, (unsigned long long)tc.error);
        if (tl.defects)
            fprintf(stderr, "; %llu rows break a schema rule (codes in the errors column), written all the same",
                    (unsigned long long)tl.defects);
        fprintf(stderr, "; %.2f s, %.0f rows/s\n", s.seconds, rate);
        if (s.rejected || rejects) fprintf(stderr, "geoflux: rejects: %s\n", rejects_path + (rejects_path[0] == '?'));
    }
    code = GF_EXIT_OK;
    goto done;
fail:
    code = gf_cli_fail(ctx, st);
done:
    gf_pipeline_destroy(p);
    gf_table_destroy(tr);
    gf_gc_index_destroy(ix);
    gf_crs_info_free(&crs);
    free(rejects_path);
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
    gf_gc_index *ix = NULL;
    double t0 = now_s();
    gf_status st = GF_OK;
    /* before the build: inputs readable, the output's folder writable */
    for (int i = optind; i < argc && st == GF_OK; i++) st = gf_cli_check_input(ctx, argv[i]);
    if (st == GF_OK && postcodes) st = gf_cli_check_input(ctx, postcodes);
    if (st == GF_OK) st = gf_cli_check_output(ctx, out);
    if (st == GF_OK) { /* the index is not written over one of its inputs */
        const char **ins = malloc(sizeof *ins * (size_t)(argc - optind + 1));
        int nin = 0;
        if (!ins) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        else {
            for (int i = optind; i < argc; i++) ins[nin++] = argv[i];
            if (postcodes) ins[nin++] = postcodes;
            const gf_path_role outs[] = {{out, "output"}};
            st = gf_output_check_paths(ctx, ins, nin, outs, 1, GF_CHECK_OVERWRITE);
            free(ins);
        }
    }
    if (st == GF_OK)
        st = load_index(ctx, NULL, (const char **)(argv + optind), argc - optind, postcodes, threads, verbose, &ix);
    if (st == GF_OK) st = gf_gc_index_save(ix, ctx, out);
    int code = GF_EXIT_OK;
    if (st) {
        code = gf_cli_fail(ctx, st);
    } else if (verbose >= 0) {
        fprintf(stderr, "geoflux: index written to %s (%.2f s in all)\n", out, now_s() - t0);
    }
    gf_gc_index_destroy(ix);
    gf_ctx_destroy(ctx);
    return code;
}
