/* geoflux convert: the main job. Reads BAL/BAN CSV inputs, validates,
 * types, reprojects (and joins) every row, and writes the output plus a
 * rejects file, in one streaming pass. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "geoflux/gpkg.h"
#include "geoflux/ingest.h"
#include "geoflux/join.h"
#include "geoflux/pipeline.h"
#include "geoflux/reproject.h"
#include "geoflux/validate.h"
#include "geoflux/bal.h"
#include "geoflux/tiles.h"
#include "geoflux/write.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: geoflux convert INPUT... -o OUTPUT [OPTIONS]\n"
        "\n"
        "Reads BAL (1.1-1.5) or BAN (current or legacy) CSV files as one stream,\n"
        "checks every row, positions it, and writes OUTPUT in one pass.\n"
        "INPUT may be gzip-compressed (detected) or '-' for standard input;\n"
        "';' ',' or tab separators and UTF-8 (with or without BOM) or Latin-1 are detected.\n"
        "\n"
        "output:\n"
        "  -o, --output FILE      output file ('-' = standard output, NDJSON)\n"
        "  -f, --format NAME      geojson, geojsonl (NDJSON), csv, gpkg, pmtiles, mbtiles, fgb,\n"
        "                         shp, kml, gml, sqlite (any case: -f GPKG is -f gpkg, the\n"
        "                         native writer), or ogr:DRIVER for a GDAL driver (ogr:GPKG,\n"
        "                         ogr:CSV); default: from the extension (.geojson .geojsonl\n"
        "                         .ndjson .csv .gpkg .pmtiles .mbtiles .fgb .shp .kml .gml .sqlite)\n"
        "                         NDJSON and tiles hold WGS84 only, .geojson an EPSG code, .csv\n"
        "                         the input's columns: a --t-srs they cannot carry is refused\n"
        "      --layer NAME       layer name (GeoPackage, tiles); default: addresses\n"
        "      --append           GeoPackage: add the layers to an existing file (written\n"
        "                         on a copy, renamed over it at the end); refused elsewhere\n"
        "      --overwrite        replace outputs that exist (OUTPUT, --rejects, --stats, and\n"
        "                         the default rejects file, which belongs to the run: a stale\n"
        "                         one is removed when the new run has no rejects; --append\n"
        "                         replaces it too); without it an existing output is\n"
        "                         refused (exit 2). Outputs are\n"
        "                         written under temporary names and renamed together at the\n"
        "                         end: a failed run leaves none of them\n"
        "      --precision N      coordinate decimals (default 7 for degrees, 2 for metres)\n"
        "      --minzoom Z, --maxzoom Z  tiles (.pmtiles, .mbtiles): zoom range (default 0-14)\n"
        "      --attributes a,b   tiles: properties kept in the tiles (default: all)\n"
        "      --max-memory SIZE  tiles: memory for the tile sort, e.g. 256M (default), 1G;\n"
        "                         GeoPackage: for the R-tree's boxes (default 4M features;\n"
        "                         beyond, sorted runs spill to --tmpdir)\n"
        "      --tmpdir DIR       tiles, GeoPackage R-tree: scratch files (default: next to the output)\n"
        "      --rejects FILE     rejected rows as CSV (source;line;reason;raw); default:\n"
        "                         OUTPUT.rejects.csv, written only when a row is rejected\n"
        "      --keep-invalid     keep rows that break a BAL rule, with their codes in the\n"
        "                         'errors' property (unparseable rows are always rejected)\n"
        "      --profile P        BAL validation profile: 1.3, 1.3-relax, 1.4, 1.5 (default: from\n"
        "                         each input's header, as the reference validator does); rows\n"
        "                         with errors go to the rejects with their codes, warnings\n"
        "                         are kept in the 'warnings' property\n"
        "      --to-bal 1.4       write OUTPUT as a clean BAL 1.4 CSV (UTF-8, ';', normalised\n"
        "                         values, x/y recomputed from long/lat) instead of geodata\n"
        "\n"
        "communes (spatial join):\n"
        "      --communes FILE    commune boundaries (any OGR source: GeoJSON, GPKG, Shapefile);\n"
        "                         adds commune_geo, commune_geo_nom, join_status (match,\n"
        "                         mismatch, outside, no_position) and join_distance_m\n"
        "      --communes-code-field F, --communes-name-field F  (default: detected)\n"
        "      --max-distance M   outside every polygon: nearest commune within M metres (200)\n"
        "      --stats FILE       one row per commune (.geojson with its polygon, or .csv);\n"
        "                         also the 'communes' layer of .gpkg/.pmtiles/.mbtiles outputs\n"
        "\n"
        "coordinates:\n"
        "      --s-srs CRS        CRS of the x/y columns (default: detected per row among\n"
        "                         Lambert-93, CC42-CC50 and the overseas legal systems)\n"
        "      --t-srs CRS        output CRS (default EPSG:4326): an authority code (EPSG:2154),\n"
        "                         WKT, a PROJ string or the exact name of one CRS; -v prints\n"
        "                         the CRS used\n"
        "\n"
        "input:\n"
        "      --encoding E       auto (default), utf-8 or latin1\n"
        "      --sep C            field separator (default: detected among ; , tab)\n"
        "\n"
        "run:\n"
        "  -j, --threads N        worker threads (default: all cores); output bytes do not\n"
        "                         depend on it\n"
        "      --summary json     print the counts as one JSON object on standard output\n"
        "  -q, --quiet            only the error that stops a run (no counts, no rejected rows)\n"
        "  -v, --verbose          also informational messages (layout and CRS used, ...) and\n"
        "                         every repeated message (default: 3 per code, then a count)\n"
        "\n"
        "Every run ends with its counts: read = written + rejected.\n"
        "\n"
        "example:\n"
        "  geoflux convert data/samples/bal/*.csv -o out/adresses.geojson\n"
        "  zcat adresses-31.csv.gz | geoflux convert - -o adresses-31.geojsonl --t-srs EPSG:2154\n"
        "\n"
        "exit codes: 0 ok, 2 usage error or unreadable input, 3 run failed (see geoflux --help)\n");
}

typedef struct progress_state {
    int tty;
    struct timespec last;
    const gf_reader *reader;
} progress_state;

static void progress(void *user, const gf_run_stats *s)
{
    progress_state *p = user;
    if (!p->tty) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - p->last.tv_sec) + (double)(now.tv_nsec - p->last.tv_nsec) * 1e-9;
    if (dt < 0.2) return;
    p->last = now;
    uint64_t done = 0, total = 0;
    if (p->reader) gf_reader_progress(p->reader, &done, &total);
    char bar[48] = "";
    if (total) {
        int w = 30, k = (int)((double)done / (double)total * w);
        if (k > w) k = w;
        bar[0] = '[';
        for (int i = 0; i < w; i++) bar[1 + i] = i < k ? '#' : '.';
        snprintf(bar + 1 + w, sizeof bar - 1 - (size_t)w, "] %3d%% ", (int)(100.0 * (double)done / (double)total));
    }
    fprintf(stderr, "\r\033[Kgeoflux: %s%llu rows, %llu rejected, %.0f rows/s", bar, (unsigned long long)s->read,
            (unsigned long long)s->rejected, s->seconds > 0 ? (double)s->read / s->seconds : 0.0);
}

int gf_cmd_convert(int argc, char **argv) { return gf_cli_convert(argc, argv, help, 0); }

int gf_cli_convert(int argc, char **argv, void (*usage)(FILE *), int tiles_only)
{
    enum { O_SSRS = 256, O_ENC, O_SEP, O_BAL_PROFILE, O_TO_BAL, O_MINZOOM, O_MAXZOOM, O_ATTRS, O_MAXMEM, O_TMPDIR, O_COMMUNES, O_COMMUNES_CODE, O_COMMUNES_NAME, O_MAXDIST, O_STATS };
    static const struct option lo[] = {
        GF_CLI_OUT_LONGOPTS, {"help", no_argument, 0, 'h'}, {"s-srs", required_argument, 0, O_SSRS},
        {"encoding", required_argument, 0, O_ENC}, {"sep", required_argument, 0, O_SEP},
        {"profile", required_argument, 0, O_BAL_PROFILE}, {"to-bal", required_argument, 0, O_TO_BAL},
        {"minzoom", required_argument, 0, O_MINZOOM}, {"maxzoom", required_argument, 0, O_MAXZOOM},
        {"attributes", required_argument, 0, O_ATTRS}, {"max-memory", required_argument, 0, O_MAXMEM},
        {"tmpdir", required_argument, 0, O_TMPDIR},
        {"communes", required_argument, 0, O_COMMUNES}, {"communes-code-field", required_argument, 0, O_COMMUNES_CODE},
        {"communes-name-field", required_argument, 0, O_COMMUNES_NAME}, {"max-distance", required_argument, 0, O_MAXDIST},
        {"stats", required_argument, 0, O_STATS}, {0, 0, 0, 0}};
    gf_cli_out cli = GF_CLI_OUT_INIT;
    const char *s_srs = NULL;
    gf_reader_opts ro = {0};
    const char *bal_profile = NULL, *to_bal = NULL; /* --profile, --to-bal VERSION */
    int minzoom = -1, maxzoom = -1; /* tiles; < 0: the sink's defaults (0, 14) */
    const char *attributes = NULL, *tmpdir = NULL;
    size_t max_memory = 0;
    gf_join_opts jo = {0}; /* --communes: spatial join */
    gf_extra_layer join_xl = {0};
    gf_atomic join_tmp = {.fd = -1}; /* the communes layer handed to the writer, removed after the run */
    const char *cmd = tiles_only ? "tiles" : "convert";
    gf_cli_getopt_init();
    int c, bad = 0;
    while ((c = getopt_long(argc, argv, GF_CLI_OPTSTART GF_CLI_OUT_SHORTOPTS "h", lo, NULL)) != -1) {
        int k = gf_cli_out_opt(&cli, c, optarg, cmd);
        if (k < 0) return GF_EXIT_USAGE;
        if (k) continue;
        switch (c) {
        case 'h': usage(stdout); return GF_EXIT_OK;
        case O_SSRS: bad = gf_cli_once("--s-srs", &s_srs, optarg); break;
        case O_BAL_PROFILE: bad = gf_cli_once("--profile", &bal_profile, optarg); break;
        case O_TO_BAL: bad = gf_cli_once("--to-bal", &to_bal, optarg); break;
        case O_MINZOOM: bad = gf_cli_int("--minzoom", optarg, 0, 30, &minzoom); break;
        case O_MAXZOOM: bad = gf_cli_int("--maxzoom", optarg, 0, 30, &maxzoom); break;
        case O_ATTRS: bad = gf_cli_once("--attributes", &attributes, optarg); break;
        case O_TMPDIR: bad = gf_cli_once("--tmpdir", &tmpdir, optarg); break;
        case O_COMMUNES: bad = gf_cli_once("--communes", &jo.path, optarg); break;
        case O_COMMUNES_CODE: bad = gf_cli_once("--communes-code-field", &jo.code_field, optarg); break;
        case O_COMMUNES_NAME: bad = gf_cli_once("--communes-name-field", &jo.name_field, optarg); break;
        case O_STATS: bad = gf_cli_once("--stats", &jo.stats_path, optarg); break;
        case O_MAXDIST:
            bad = gf_cli_num("--max-distance", optarg, 0, 1e6, &jo.max_distance_m);
            if (!bad && jo.max_distance_m == 0) jo.max_distance_m = -1; /* 0: no nearest search */
            break;
        case O_MAXMEM: bad = gf_cli_size("--max-memory", optarg, &max_memory); break;
        case O_ENC:
            if (!strcasecmp(optarg, "auto")) ro.csv.encoding = GF_ENC_AUTO;
            else if (!strcasecmp(optarg, "utf-8") || !strcasecmp(optarg, "utf8")) ro.csv.encoding = GF_ENC_UTF8;
            else if (!strcasecmp(optarg, "latin1") || !strcasecmp(optarg, "latin-1") || !strcasecmp(optarg, "iso-8859-1") ||
                     !strcasecmp(optarg, "windows-1252") || !strcasecmp(optarg, "cp1252")) ro.csv.encoding = GF_ENC_LATIN1;
            else return gf_cli_usage(cmd, "--encoding '%s': expected auto, utf-8 or latin1", optarg);
            break;
        case O_SEP:
            if (!strcmp(optarg, "\\t") || !strcmp(optarg, "tab")) ro.csv.sep = '\t';
            else if (strlen(optarg) == 1) ro.csv.sep = optarg[0];
            else return gf_cli_usage(cmd, "--sep '%s': expected one character (or tab)", optarg);
            break;
        default: return gf_cli_bad_option(cmd, c, argv);
        }
        if (bad) return GF_EXIT_USAGE;
    }
    const char *out = cli.out, *format = cli.format, *t_srs = cli.t_srs, *rejects = cli.rejects, *layer = cli.layer;
    int threads = cli.threads, verbose = cli.verbose, keep_invalid = cli.keep_invalid, summary_json = cli.summary_json,
        precision = cli.precision, append = cli.append;
    int ninputs = argc - optind;
    if (ninputs <= 0 || !out) return gf_cli_usage(cmd, "%s", ninputs <= 0 ? "no input file" : "no output (-o FILE)");
    gf_format fscratch;
    const gf_format *ofmt = gf_output_format_find(format, out, &fscratch);
    int is_tiles = ofmt && ofmt->vt == &gf_tiles_sink_vt;
    if (tiles_only && !is_tiles)
        return gf_cli_usage(cmd, "the output must be a .pmtiles or .mbtiles archive (-o FILE, or -f pmtiles|mbtiles)");
    if (summary_json && !strcmp(out, "-"))
        return gf_cli_usage(cmd, "--summary json and -o - both use standard output");
    if (jo.stats_path && !jo.path) return gf_cli_usage(cmd, "--stats needs --communes (the statistics are per commune)");
    if (!jo.path && (jo.code_field || jo.name_field || jo.max_distance_m))
        return gf_cli_usage(cmd, "--communes-code-field, --communes-name-field and --max-distance need --communes");
    if (!is_tiles && (minzoom >= 0 || maxzoom >= 0 || attributes))
        return gf_cli_usage(cmd, "--minzoom, --maxzoom and --attributes are for tile outputs (.pmtiles, .mbtiles)");
    if (minzoom >= 0 && maxzoom >= 0 && minzoom > maxzoom)
        return gf_cli_usage(cmd, "--minzoom %d is above --maxzoom %d", minzoom, maxzoom);
    const char *const *inputs = (const char *const *)(argv + optind);

    gf_ctx *ctx = gf_cli_ctx(verbose);
    if (!ctx) return GF_EXIT_FAIL;
    int code = GF_EXIT_FAIL;
    gf_pipeline *p = NULL;
    gf_reader *reader = NULL;
    gf_crs_info crs = {0}, scrs = {0};
    char *rejects_path = NULL;
    gf_status st;

    /* outputs are neither inputs nor each other (write.h) */
    rejects_path = gf_cli_rejects_path(out, rejects);
    if (!rejects_path) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto fail; }
    {
        const gf_path_role outs[] = {{out, "output"}, {rejects_path, rejects ? "--rejects" : "rejects file"},
                                     {jo.stats_path, "--stats"}};
        unsigned cf = (cli.overwrite ? GF_CHECK_OVERWRITE : 0) | (append ? GF_CHECK_APPEND : 0);
        if ((st = gf_output_check_paths(ctx, inputs, ninputs, outs, 3, cf))) goto fail;
    }

    /* before any work: every input readable, every output creatable, both
     * CRSs resolved, each reported with the user's own spelling */
    for (int i = 0; i < ninputs; i++)
        if ((st = gf_cli_check_input(ctx, inputs[i]))) goto fail;
    if (jo.path && (st = gf_cli_check_input(ctx, jo.path))) goto fail;
    if ((st = gf_cli_check_output(ctx, out))) goto fail;
    if (rejects && (st = gf_cli_check_output(ctx, rejects))) goto fail;
    if (jo.stats_path && (st = gf_cli_check_output(ctx, jo.stats_path))) goto fail;
    gf_reproject_opts rpo = {.s_srs = s_srs, .t_srs = t_srs};
    if ((st = gf_crs_resolve(ctx, t_srs ? t_srs : "EPSG:4326", &crs))) goto fail;
    gf_ctx_log(ctx, GF_LOG_INFO, "output CRS: %s (%s)", gf_crs_label(&crs), crs.name);
    if (s_srs) {
        if ((st = gf_crs_resolve(ctx, s_srs, &scrs))) goto fail;
        gf_ctx_log(ctx, GF_LOG_INFO, "x/y CRS (--s-srs): %s (%s)", gf_crs_label(&scrs), scrs.name);
    }
    if ((st = gf_reader_open(ctx, inputs, ninputs, &ro, &reader))) goto fail;
    gf_pipeline_opts po = {.threads = threads};
    progress_state ps = {.tty = gf_cli_is_tty() && verbose >= 0};
    clock_gettime(CLOCK_MONOTONIC, &ps.last);
    po.progress = progress;
    po.progress_user = &ps;
    if ((st = gf_pipeline_create(ctx, &po, &p))) goto fail;
    ps.reader = reader;
    gf_pipeline_set_source(p, &gf_reader_source_vt, reader, gf_reader_schema(reader), (void (*)(void *))gf_reader_destroy);
    reader = NULL; /* owned by the pipeline */

    /* stages, in order */
    {   /* BAL validation on the text columns, before typing */
        gf_validate_opts vo = {.profile = bal_profile, .keep_invalid = keep_invalid};
        void *vs = NULL;
        if ((st = gf_validate_create(ctx, &vo, ps.reader, &vs))) goto fail;
        if ((st = gf_pipeline_add_stage(p, &gf_validate_stage_vt, vs))) { gf_validate_stage_vt.destroy(vs); goto fail; }
    }
    if ((st = gf_pipeline_add_stage(p, &gf_typing_stage_vt, NULL))) goto fail;
    void *rp = NULL;
    if ((st = gf_reproject_create(ctx, &rpo, &rp))) goto fail;
    if ((st = gf_pipeline_add_stage(p, &gf_reproject_stage_vt, rp))) { gf_reproject_stage_vt.destroy(rp); goto fail; }
    if (jo.path) { /* join after reproject: it reads b->lon/b->lat */
        const char *se = jo.stats_path ? strrchr(jo.stats_path, '.') : NULL;
        /* the communes layer goes into outputs that hold several layers natively */
        if (ofmt && (ofmt->caps & GF_FMT_MULTILAYER) && (ofmt->vt == &gf_gpkg_sink_vt || ofmt->vt == &gf_tiles_sink_vt)) {
            if (se && (!strcasecmp(se, ".geojson") || !strcasecmp(se, ".json"))) {
                join_xl.path = jo.stats_path;
            } else { /* a GeoJSON next to the output, removed after the run */
                char *base = malloc(strlen(out) + 20);
                if (!base) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto fail; }
                sprintf(base, "%s.communes.geojson", out);
                st = gf_atomic_create(ctx, base, 0, &join_tmp);
                free(base);
                if (st || (st = gf_atomic_close(ctx, &join_tmp))) goto fail;
                jo.layer_path = join_xl.path = join_tmp.tmp;
            }
            join_xl.name = "communes";
        }
        jo.out_srs_wkt = crs.wkt;
        jo.out_geographic = crs.geographic;
        void *js = NULL;
        if ((st = gf_join_create(ctx, &jo, &js))) goto fail;
        if ((st = gf_pipeline_add_stage(p, &gf_join_stage_vt, js))) { gf_join_stage_vt.destroy(js); goto fail; }
    }

    /* sinks */
    gf_output_opts oo = {.path = out, .format = format, .layer = layer, .append = append, .precision = precision,
                         .epsg = crs.epsg, .srs_wkt = crs.wkt, .srs_geographic = crs.geographic,
                         .srs_explicit = t_srs != NULL, .srs_name = t_srs};
    oo.minzoom = minzoom; oo.maxzoom = maxzoom; oo.attributes = attributes; /* tiles */
    oo.max_memory = max_memory; oo.tmpdir = tmpdir; oo.threads = threads;
    if (join_xl.name) { oo.extra_layers = &join_xl; oo.nextra_layers = 1; } /* --communes */
    const gf_sink_vt *svt;
    void *sst;
    if (to_bal) { /* harmonised BAL instead of a geodata format */
        svt = &gf_bal_sink_vt;
        if ((st = gf_bal_open(ctx, &oo, to_bal, &sst))) goto fail;
    } else if ((st = gf_output_open(ctx, &oo, &svt, &sst))) goto fail;
    if (svt == &gf_gpkg_sink_vt) gf_gpkg_set_inputs(sst, inputs, ninputs); /* `source` of the rejects table */
    if ((st = gf_pipeline_add_sink(p, svt, sst))) { svt->destroy(sst); goto fail; }
    if ((st = gf_rejects_open(ctx, rejects_path, inputs, ninputs, &sst))) goto fail;
    if ((st = gf_pipeline_add_sink(p, &gf_rejects_sink_vt, sst))) { gf_rejects_sink_vt.destroy(sst); goto fail; }

    gf_run_stats s;
    st = gf_pipeline_run(p, &s);
    if (ps.tty) fputs("\r\033[K", stderr);
    gf_ctx_log_flush(ctx);
    if (st) goto fail;
    if (s.read != s.written + s.rejected) {
        fprintf(stderr, "geoflux: error: internal: read %llu != written %llu + rejected %llu\n",
                (unsigned long long)s.read, (unsigned long long)s.written, (unsigned long long)s.rejected);
        code = GF_EXIT_FAIL;
        goto done;
    }
    const char *rj = rejects_path[0] == '?' ? rejects_path + 1 : rejects_path;
    double rate = s.seconds > 0 ? (double)s.read / s.seconds : 0;
    if (summary_json) {
        printf("{\"read\":%llu,\"written\":%llu,\"rejected\":%llu,\"invalid_kept\":%llu,\"with_warnings\":%llu,"
               "\"no_position\":%llu,\"pos_mismatch\":%llu,\"seconds\":%.3f,\"rows_per_s\":%.0f,\"output\":",
               (unsigned long long)s.read, (unsigned long long)s.written, (unsigned long long)s.rejected,
               (unsigned long long)s.invalid_kept, (unsigned long long)s.with_warnings,
               (unsigned long long)s.no_position, (unsigned long long)s.pos_mismatch, s.seconds, rate);
        gf_cli_json_str(stdout, out);
        printf(",\"rejects\":");
        gf_cli_json_str(stdout, s.rejected || rejects ? rj : NULL);
        printf(",\"crs\":");
        gf_cli_json_str(stdout, gf_crs_label(&crs));
        printf(",\"crs_name\":");
        gf_cli_json_str(stdout, crs.name);
        if (s_srs) {
            printf(",\"s_srs\":");
            gf_cli_json_str(stdout, gf_crs_label(&scrs));
        }
        printf("}\n");
    }
    if (verbose >= 0) {
        fprintf(stderr, "geoflux: read %llu, written %llu, rejected %llu", (unsigned long long)s.read,
                (unsigned long long)s.written, (unsigned long long)s.rejected);
        if (s.invalid_kept) fprintf(stderr, " (%llu kept with errors)", (unsigned long long)s.invalid_kept);
        fprintf(stderr, "; %llu with warnings, %llu without position, %llu x/y vs long/lat mismatches; %.2f s, %.0f rows/s\n",
                (unsigned long long)s.with_warnings, (unsigned long long)s.no_position,
                (unsigned long long)s.pos_mismatch, s.seconds, rate);
        fprintf(stderr, "geoflux: output: %s\n", out);
        if (s.rejected || rejects) fprintf(stderr, "geoflux: rejects: %s\n", rj);
    }
    /* the default rejects file belongs to the run: with --overwrite, one left
     * by an earlier run must not outlive a run without rejects */
    if (!rejects && !s.rejected && cli.overwrite && strcmp(out, "-")) unlink(rejects_path + 1);
    code = GF_EXIT_OK;
    goto done;
fail:
    code = gf_cli_fail(ctx, st);
done:
    gf_atomic_free(&join_tmp);
    free(rejects_path);
    gf_pipeline_destroy(p);
    gf_reader_destroy(reader);
    gf_crs_info_free(&crs);
    gf_crs_info_free(&scrs);
    gf_ctx_destroy(ctx);
    return code;
}
