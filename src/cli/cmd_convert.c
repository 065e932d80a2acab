/* geoflux convert: options parsed into a convert job (src/job/convert.c,
 * which checks them, assembles the pipeline and runs it), progress and
 * counts printed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/commands.h"
#include "geoflux/job.h"

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
        "  -o, --output FILE      output file ('-' = standard output, NDJSON); repeat it for\n"
        "                         several outputs in one pass (each in its extension's format,\n"
        "                         at most 6; a failed run writes none of them)\n"
        "  -f, --format NAME      geojson, geojsonl (NDJSON), csv, tsv (WKT column), gpkg, pmtiles,\n"
        "                         mbtiles, fgb, shp, kml, gml, sqlite (any case: -f GPKG is -f gpkg,\n"
        "                         the native writer), or ogr:DRIVER for a GDAL driver (ogr:GPKG,\n"
        "                         ogr:CSV); default: from the extension (.geojson .geojsonl\n"
        "                         .ndjson .csv .tsv .gpkg .pmtiles .mbtiles .fgb .shp .kml .gml .sqlite)\n"
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
        "      --max-memory SIZE  tiles: memory of the tile phase (sort and encoding), e.g.\n"
        "                         128M (default), 1G; a maximum-zoom tile too dense for it is\n"
        "                         refused, with the budget that would hold it;\n"
        "                         GeoPackage: for the R-tree's boxes (default 4M features;\n"
        "                         beyond, sorted runs spill to --tmpdir); shared equally by\n"
        "                         the tile and GeoPackage outputs of one run and the\n"
        "                         validation's file-wide tables (256M alone by default)\n"
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
        "      --harmonise        repair what is mechanically fixable before validating:\n"
        "                         surrounding spaces, French, Excel and date-time dates,\n"
        "                         oui/non certification, cle_interop case and padding, numero\n"
        "                         leading zeros, decimal commas, header aliases, long/lat from\n"
        "                         x/y (detected CRS), swapped long/lat (with --communes); the\n"
        "                         summary counts each repair.* code; what cannot be repaired\n"
        "                         is still rejected\n"
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
        "      --profile-stages   at the end, the CPU time of each stage (read+tokenise,\n"
        "                         harmonise, validation, typing, reprojection, join, one line\n"
        "                         per output, commit wait): thread CPU seconds summed over\n"
        "                         the threads, and microseconds per row read, on standard\n"
        "                         error (and under \"profile\" in --summary json); outputs\n"
        "                         are unchanged. Not with -q unless with --summary json.\n"
        "                         (--profile is the BAL validation profile)\n"
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
} progress_state;

static void progress(void *user, const gf_job_progress *pr)
{
    progress_state *p = user;
    if (!p->tty) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = (double)(now.tv_sec - p->last.tv_sec) + (double)(now.tv_nsec - p->last.tv_nsec) * 1e-9;
    if (dt < 0.2) return;
    p->last = now;
    const gf_run_stats *s = pr->stats;
    uint64_t done = pr->bytes_done, total = pr->bytes_total;
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

/* The repairs of a --harmonise run, handed over by the job at its end. */
typedef struct repairs {
    int done;
    uint64_t total[GF_REPAIR_COUNT];
} repairs;

static void on_repairs(void *user, const gf_harmonise_result *r)
{
    repairs *rp = user;
    rp->done = 1;
    memcpy(rp->total, r->total, sizeof rp->total);
}

/* The repair codes that occurred, in name order (stable output). */
static int repair_order(const repairs *rp, gf_repair_code out[GF_REPAIR_COUNT])
{
    int n = 0;
    for (int c = 0; c < GF_REPAIR_COUNT; c++) {
        if (!rp->total[c]) continue;
        int k = n++;
        while (k > 0 && strcmp(gf_repair_name(out[k - 1]), gf_repair_name((gf_repair_code)c)) > 0) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = (gf_repair_code)c;
    }
    return n;
}

static void print_profile(const gf_pipeline_profile *pf, int json, int verbose);

/* pf: the stage profile (--profile-stages), else NULL */
static void print_summary(const gf_convert_opts *o, const gf_convert_info *in, const gf_run_stats *s, int json,
                          int verbose, const repairs *rp, const gf_pipeline_profile *pf)
{
    gf_repair_code order[GF_REPAIR_COUNT];
    int nrep = rp->done ? repair_order(rp, order) : 0;
    double rate = s->seconds > 0 ? (double)s->read / s->seconds : 0;
    if (json) {
        printf("{\"read\":%llu,\"written\":%llu,\"rejected\":%llu,\"invalid_kept\":%llu,\"with_warnings\":%llu,"
               "\"no_position\":%llu,\"pos_mismatch\":%llu,\"seconds\":%.3f,\"rows_per_s\":%.0f,\"output\":",
               (unsigned long long)s->read, (unsigned long long)s->written, (unsigned long long)s->rejected,
               (unsigned long long)s->invalid_kept, (unsigned long long)s->with_warnings,
               (unsigned long long)s->no_position, (unsigned long long)s->pos_mismatch, s->seconds, rate);
        gf_cli_json_str(stdout, o->output);
        if (o->nmore_outputs) {
            printf(",\"outputs\":[");
            for (int i = 0; i <= o->nmore_outputs; i++) {
                if (i) printf(",");
                gf_cli_json_str(stdout, i ? o->more_outputs[i - 1] : o->output);
            }
            printf("]");
        }
        printf(",\"rejects\":");
        gf_cli_json_str(stdout, s->rejected || o->rejects ? in->rejects : NULL);
        printf(",\"crs\":");
        gf_cli_json_str(stdout, in->crs_label);
        printf(",\"crs_name\":");
        gf_cli_json_str(stdout, in->crs_name);
        if (in->s_srs_label) {
            printf(",\"s_srs\":");
            gf_cli_json_str(stdout, in->s_srs_label);
        }
        if (rp->done) {
            printf(",\"repairs\":{");
            for (int k = 0; k < nrep; k++)
                printf("%s\"%s\":%llu", k ? "," : "", gf_repair_name(order[k]), (unsigned long long)rp->total[order[k]]);
            printf("}");
        }
        if (pf) print_profile(pf, 1, verbose);
        printf("}\n");
    }
    if (verbose >= 0) {
        fprintf(stderr, "geoflux: read %llu, written %llu, rejected %llu", (unsigned long long)s->read,
                (unsigned long long)s->written, (unsigned long long)s->rejected);
        if (s->invalid_kept) fprintf(stderr, " (%llu kept with errors)", (unsigned long long)s->invalid_kept);
        fprintf(stderr, "; %llu with warnings, %llu without position, %llu x/y vs long/lat mismatches; %.2f s, %.0f rows/s\n",
                (unsigned long long)s->with_warnings, (unsigned long long)s->no_position,
                (unsigned long long)s->pos_mismatch, s->seconds, rate);
        if (rp->done) {
            fprintf(stderr, "geoflux: repairs:");
            for (int k = 0; k < nrep; k++)
                fprintf(stderr, "%s %s %llu", k ? "," : "", gf_repair_name(order[k]), (unsigned long long)rp->total[order[k]]);
            fprintf(stderr, "%s\n", nrep ? "" : " none");
        }
        for (int i = 0; i <= o->nmore_outputs; i++)
            fprintf(stderr, "geoflux: output: %s\n", i ? o->more_outputs[i - 1] : o->output);
        if (s->rejected || o->rejects) fprintf(stderr, "geoflux: rejects: %s\n", in->rejects);
        if (pf) print_profile(pf, 0, verbose);
    }
}

/* --profile-stages: one line per stage of the job, then what no stage
 * saw (the process's CPU beyond the lines) and the total. */
static double per_row(double s, uint64_t rows) { return rows ? s * 1e6 / (double)rows : 0.0; }

static void print_profile(const gf_pipeline_profile *pf, int json, int verbose)
{
    double sum = 0;
    for (int k = 0; k < pf->nlines; k++) sum += pf->line[k].cpu_s;
    double other = pf->process_cpu_s > sum ? pf->process_cpu_s - sum : 0.0;
    if (json) {
        printf(",\"profile\":{\"rows\":%llu,\"threads\":%d,\"stages\":[", (unsigned long long)pf->rows, pf->threads);
        for (int k = 0; k < pf->nlines; k++) {
            const gf_prof_line *l = &pf->line[k];
            printf("%s{\"stage\":", k ? "," : "");
            gf_cli_json_str(stdout, l->name);
            if (l->output) {
                printf(",\"output\":");
                gf_cli_json_str(stdout, l->output);
            }
            printf(",\"rows\":%llu,\"cpu_s\":%.6f,\"us_per_row\":%.3f", (unsigned long long)l->rows, l->cpu_s,
                   per_row(l->cpu_s, pf->rows));
            if (l->part == GF_PROF_COMMIT_WAIT) printf(",\"wait_s\":%.6f", l->wait_s);
            printf("}");
        }
        printf("],\"other_cpu_s\":%.6f,\"process_cpu_s\":%.6f}", other, pf->process_cpu_s);
        return;
    }
    if (verbose < 0) return;
    fprintf(stderr, "geoflux: stage profile: %llu rows, %d threads (thread CPU summed over the threads)\n",
            (unsigned long long)pf->rows, pf->threads);
    fprintf(stderr, "geoflux:   %-34s %12s %10s\n", "stage", "cpu s", "µs/row");
    for (int k = 0; k < pf->nlines; k++) {
        const gf_prof_line *l = &pf->line[k];
        char label[256];
        snprintf(label, sizeof label, "%s%s%s", l->name, l->output ? " " : "", l->output ? l->output : "");
        fprintf(stderr, "geoflux:   %-34s %12.6f %10.3f", label, l->cpu_s, per_row(l->cpu_s, pf->rows));
        if (l->part == GF_PROF_COMMIT_WAIT) fprintf(stderr, " (waited %.6f s)", l->wait_s);
        fputc('\n', stderr);
    }
    fprintf(stderr, "geoflux:   %-34s %12.6f %10.3f\n", "other (no stage's thread)", other, per_row(other, pf->rows));
    fprintf(stderr, "geoflux:   %-34s %12.6f %10.3f\n", "total (process CPU)", pf->process_cpu_s,
            per_row(pf->process_cpu_s, pf->rows));
}

int gf_cmd_convert(int argc, char **argv) { return gf_cli_convert(argc, argv, help, 0); }

int gf_cli_convert(int argc, char **argv, void (*usage)(FILE *), int tiles_only)
{
    enum { O_SSRS = 256, O_ENC, O_SEP, O_BAL_PROFILE, O_TO_BAL, O_MINZOOM, O_MAXZOOM, O_ATTRS, O_MAXMEM, O_TMPDIR, O_COMMUNES, O_COMMUNES_CODE, O_COMMUNES_NAME, O_MAXDIST, O_STATS, O_HARMONISE, O_PROFILE_STAGES };
    static const struct option lo[] = {
        GF_CLI_OUT_LONGOPTS, {"help", no_argument, 0, 'h'}, {"s-srs", required_argument, 0, O_SSRS},
        {"encoding", required_argument, 0, O_ENC}, {"sep", required_argument, 0, O_SEP},
        {"profile", required_argument, 0, O_BAL_PROFILE}, {"to-bal", required_argument, 0, O_TO_BAL},
        {"minzoom", required_argument, 0, O_MINZOOM}, {"maxzoom", required_argument, 0, O_MAXZOOM},
        {"attributes", required_argument, 0, O_ATTRS}, {"max-memory", required_argument, 0, O_MAXMEM},
        {"tmpdir", required_argument, 0, O_TMPDIR},
        {"communes", required_argument, 0, O_COMMUNES}, {"communes-code-field", required_argument, 0, O_COMMUNES_CODE},
        {"communes-name-field", required_argument, 0, O_COMMUNES_NAME}, {"max-distance", required_argument, 0, O_MAXDIST},
        {"stats", required_argument, 0, O_STATS}, {"harmonise", no_argument, 0, O_HARMONISE},
        {"profile-stages", no_argument, 0, O_PROFILE_STAGES}, {0, 0, 0, 0}};
    gf_cli_out cli = GF_CLI_OUT_INIT;
    cli.multi_out = 1; /* several outputs in one pass */
    gf_convert_opts o = GF_CONVERT_OPTS_INIT;
    gf_join_opts *jo = &o.join;
    const char *cmd = tiles_only ? "tiles" : "convert";
    gf_cli_getopt_init();
    int c, bad = 0;
    while ((c = getopt_long(argc, argv, GF_CLI_OPTSTART GF_CLI_OUT_SHORTOPTS "h", lo, NULL)) != -1) {
        int k = gf_cli_out_opt(&cli, c, optarg, cmd);
        if (k < 0) return GF_EXIT_USAGE;
        if (k) continue;
        switch (c) {
        case 'h': usage(stdout); return GF_EXIT_OK;
        case O_SSRS: bad = gf_cli_once("--s-srs", &o.s_srs, optarg); break;
        case O_BAL_PROFILE: bad = gf_cli_once("--profile", &o.profile, optarg); break;
        case O_TO_BAL: bad = gf_cli_once("--to-bal", &o.to_bal, optarg); break;
        case O_MINZOOM: bad = gf_cli_int("--minzoom", optarg, 0, 30, &o.minzoom); break;
        case O_MAXZOOM: bad = gf_cli_int("--maxzoom", optarg, 0, 30, &o.maxzoom); break;
        case O_ATTRS: bad = gf_cli_once("--attributes", &o.attributes, optarg); break;
        case O_TMPDIR: bad = gf_cli_once("--tmpdir", &o.tmpdir, optarg); break;
        case O_COMMUNES: bad = gf_cli_once("--communes", &jo->path, optarg); break;
        case O_COMMUNES_CODE: bad = gf_cli_once("--communes-code-field", &jo->code_field, optarg); break;
        case O_COMMUNES_NAME: bad = gf_cli_once("--communes-name-field", &jo->name_field, optarg); break;
        case O_STATS: bad = gf_cli_once("--stats", &jo->stats_path, optarg); break;
        case O_HARMONISE: o.harmonise = 1; break;
        case O_PROFILE_STAGES: o.profile_stages = 1; break;
        case O_MAXDIST:
            bad = gf_cli_num("--max-distance", optarg, 0, 1e6, &jo->max_distance_m);
            if (!bad && jo->max_distance_m == 0) jo->max_distance_m = -1; /* 0: no nearest search */
            break;
        case O_MAXMEM: bad = gf_cli_size("--max-memory", optarg, &o.max_memory); break;
        case O_ENC: bad = gf_cli_encoding(cmd, optarg, &o.read.csv.encoding); break;
        case O_SEP:
            if (!strcmp(optarg, "\\t") || !strcmp(optarg, "tab")) o.read.csv.sep = '\t';
            else if (strlen(optarg) == 1) o.read.csv.sep = optarg[0];
            else return gf_cli_usage(cmd, "--sep '%s': expected one character (or tab)", optarg);
            break;
        default: return gf_cli_bad_option(cmd, c, argv);
        }
        if (bad) return GF_EXIT_USAGE;
    }
    o.output = cli.out;
    o.more_outputs = cli.more;
    o.nmore_outputs = cli.nmore;
    o.format = cli.format;
    o.t_srs = cli.t_srs;
    o.rejects = cli.rejects;
    o.layer = cli.layer;
    o.threads = cli.threads;
    o.keep_invalid = cli.keep_invalid;
    o.precision = cli.precision;
    o.append = cli.append;
    o.overwrite = cli.overwrite;
    o.tiles_only = tiles_only;
    o.inputs = (const char *const *)(argv + optind);
    o.ninputs = argc - optind;

    gf_ctx *ctx = gf_cli_ctx(cli.verbose);
    if (!ctx) return GF_EXIT_FAIL;
    if (gf_convert_check(ctx, &o) != GF_OK) { /* the options alone: a usage error */
        int code = gf_cli_usage(cmd, "%s", gf_ctx_errmsg(ctx));
        gf_ctx_destroy(ctx);
        return code;
    }
    int to_stdout = 0;
    for (int i = 0; i <= o.nmore_outputs; i++) to_stdout |= !strcmp(i ? o.more_outputs[i - 1] : o.output, "-");
    if (cli.summary_json && to_stdout) {
        gf_ctx_destroy(ctx);
        return gf_cli_usage(cmd, "--summary json and -o - both use standard output");
    }
    if (o.profile_stages && cli.verbose < 0 && !cli.summary_json) { /* -q would hide the table it asks for */
        gf_ctx_destroy(ctx);
        return gf_cli_usage(cmd, "--profile-stages prints on standard error, which -q silences: drop -q, or add "
                                 "--summary json (the profile then goes into the JSON)");
    }
    progress_state ps = {.tty = gf_cli_is_tty() && cli.verbose >= 0};
    clock_gettime(CLOCK_MONOTONIC, &ps.last);
    o.progress = progress;
    o.progress_user = &ps;
    repairs rp = {0};
    o.harm.on_done = on_repairs;
    o.harm.user = &rp;
    gf_job *job = NULL;
    gf_run_stats s;
    gf_status st = gf_job_convert(ctx, &o, &job);
    if (st == GF_OK) st = gf_job_run(job, NULL, &s);
    if (ps.tty) fputs("\r\033[K", stderr);
    int code;
    if (st == GF_OK) {
        gf_convert_info in;
        gf_job_convert_info(job, &in);
        gf_pipeline_profile pf;
        int have_pf = o.profile_stages && gf_job_convert_profile(job, &pf) == GF_OK;
        print_summary(&o, &in, &s, cli.summary_json, cli.verbose, &rp, have_pf ? &pf : NULL);
        code = GF_EXIT_OK;
    } else {
        code = gf_cli_fail(ctx, st);
    }
    gf_job_destroy(job);
    gf_ctx_destroy(ctx);
    return code;
}
