/* geoflux serve: options parsed, the index and archives opened, the server
 * (src/serve/server.c) started; then the main thread waits for SIGTERM or
 * SIGINT, drains the requests in flight and exits 0. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/serve_map.h"
#include "geoflux/geocode.h"
#include "geoflux/serve.h"

#define MAX_ARCHIVES 32
#define MAX_ADDRS 64

static void help(FILE *f)
{
    fprintf(f,
        "usage: geoflux serve [SITE | ARCHIVE...] [--index INDEX | --addresses FILE...] [OPTIONS]\n"
        "\n"
        "Serves over HTTP the geocoding API of the Géoplateforme (/geocodage) for an\n"
        "address index, vector tiles from PMTiles/MBTiles archives, and a directory's files.\n"
        "\n"
        "  SITE                 a directory written by `geoflux publish`: its files are served,\n"
        "                       its adresses.pmtiles is a tileset (reopened when a new\n"
        "                       publication replaces it), and its adresses.csv.gz is the\n"
        "                       address base when neither --index nor --addresses is given\n"
        "                       (indexed again in the background when a new publication\n"
        "                       replaces it: .geoflux-publication changes)\n"
        "  ARCHIVE              a .pmtiles or .mbtiles file, served as the tileset NAME (its\n"
        "                       file name without extension)\n"
        "      --index FILE     a geocoding index saved by `geoflux index build`\n"
        "      --addresses FILE BAL or BAN file (gzip ok), indexed at start-up; repeat for several\n"
        "      --postcodes FILE La Poste postcode base, with --addresses (default: $GEOFLUX_POSTCODES)\n"
        "      --web DIR        the map page's directory (as written by web/install.sh DIR):\n"
        "                       served at /, before SITE's files (default: the map page built\n"
        "                       with geoflux at /carte/, opening SITE's adresses.pmtiles or the\n"
        "                       first .pmtiles ARCHIVE; / redirects there)\n"
        "      --bind ADDR      address to listen on (default 127.0.0.1: this machine only)\n"
        "      --port N         TCP port (default 8080; 0: any free port, printed)\n"
        "  -j, --threads N      request threads (default 2)\n"
        "      --max-upload SIZE  largest request body, K, M (default unit) or G (default 50M)\n"
        "      --timeout S      idle connection timeout in seconds (default 30)\n"
        "      --tmpdir DIR     where /search/csv uploads are spooled (default $TMPDIR, else /tmp)\n"
        "  -q, --quiet          no index statistics on standard error\n"
        "\n"
        "Once listening it prints `geoflux: serving on http://ADDR:PORT/` on standard output.\n"
        "SIGTERM or SIGINT: stops accepting, lets requests in flight finish (5 s at most), exits 0.\n"
        "\n"
        "Endpoints:\n"
        "  GET /search?q=&limit=&autocomplete=&lat=&lon=&type=&postcode=&citycode=&index=address\n"
        "                       GeoCodeJSON FeatureCollection; 400 {\"code\",\"message\",\"detail\"}\n"
        "                       on bad parameters\n"
        "  GET /reverse?lon=&lat=&limit=&type=   the limit (5) nearest within 500 m, with their distance\n"
        "  GET /completion?text=&maximumResponses=   the search box's suggestions\n"
        "  GET /getCapabilities, GET /openapi   what the service offers\n"
        "  GET /tiles/NAME/{z}/{x}/{y}.mvt   a tile (204 when there is none), /tiles/NAME.json TileJSON\n"
        "  GET /NAME.pmtiles    the archive itself, with Range requests (206, 416)\n"
        "  GET /                302 to /carte/, the map page (SITE's dashboard: /index.html)\n"
        "  GET /PATH            a file of --web DIR or SITE; \"..\", hidden names and symlinks\n"
        "                       leading out are refused\n"
        "  POST /search/csv, /reverse/csv   multipart form: data (a CSV file), columns,\n"
        "                       citycode, postcode, lat, lon, result_columns (naming its columns):\n"
        "                       its rows followed by the result columns, as `geoflux geocode`\n"
        "\n"
        "example:\n"
        "  geoflux serve out/adresses.pmtiles --addresses data/samples/bal/bal_35047_v1.3.csv --port 0\n"
        "  curl 'http://127.0.0.1:PORT/search?q=2+rue+des+acacias+bruz&limit=3'\n"
        "\n"
        "exit codes: 0 stopped by SIGTERM/SIGINT, 2 usage error or unreadable input (index,\n"
        "archive, SITE), 3 cannot listen or run failed\n");
}

int gf_cmd_serve(int argc, char **argv)
{
    enum { O_INDEX = 256, O_ADDR, O_PC, O_WEB, O_BIND, O_PORT, O_UPLOAD, O_TIMEOUT, O_TMPDIR };
    static const struct option lo[] = {
        {"help", no_argument, 0, 'h'}, {"index", required_argument, 0, O_INDEX},
        {"addresses", required_argument, 0, O_ADDR}, {"postcodes", required_argument, 0, O_PC},
        {"web", required_argument, 0, O_WEB}, {"bind", required_argument, 0, O_BIND},
        {"port", required_argument, 0, O_PORT}, {"threads", required_argument, 0, 'j'},
        {"max-upload", required_argument, 0, O_UPLOAD}, {"timeout", required_argument, 0, O_TIMEOUT},
        {"tmpdir", required_argument, 0, O_TMPDIR},
        {"quiet", no_argument, 0, 'q'}, {0, 0, 0, 0}};
    const char *cmd = "serve";
    const char *index = NULL, *postcodes = getenv("GEOFLUX_POSTCODES"), *pc_opt = NULL, *web = NULL, *bind = NULL,
               *tmpdir = NULL;
    const char *addrs[MAX_ADDRS];
    int naddrs = 0, port = 8080, threads = 2, timeout = 30, quiet = 0, port_given = 0, threads_given = 0,
        timeout_given = 0;
    size_t max_upload = 50u << 20;
    int upload_given = 0;
    gf_cli_getopt_init();
    int c;
    while ((c = getopt_long(argc, argv, GF_CLI_OPTSTART "hj:q", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'h': help(stdout); return GF_EXIT_OK;
        case O_INDEX: bad = gf_cli_once("--index", &index, optarg); break;
        case O_ADDR:
            if (naddrs >= MAX_ADDRS) return gf_cli_usage(cmd, "at most %d --addresses", MAX_ADDRS);
            addrs[naddrs++] = optarg;
            break;
        case O_PC: bad = gf_cli_once("--postcodes", &pc_opt, optarg); postcodes = optarg; break;
        case O_WEB: bad = gf_cli_once("--web", &web, optarg); break;
        case O_BIND: bad = gf_cli_once("--bind", &bind, optarg); break;
        case O_PORT:
            if (port_given++) return gf_cli_usage(cmd, "--port given twice");
            bad = gf_cli_int("--port", optarg, 0, 65535, &port);
            break;
        case 'j':
            if (threads_given++) return gf_cli_usage(cmd, "--threads given twice");
            bad = gf_cli_int("--threads", optarg, 1, GF_CLI_MAX_THREADS, &threads);
            break;
        case O_UPLOAD:
            if (upload_given++) return gf_cli_usage(cmd, "--max-upload given twice");
            bad = gf_cli_size("--max-upload", optarg, &max_upload);
            break;
        case O_TIMEOUT:
            if (timeout_given++) return gf_cli_usage(cmd, "--timeout given twice");
            bad = gf_cli_int("--timeout", optarg, 1, 3600, &timeout);
            break;
        case O_TMPDIR: bad = gf_cli_once("--tmpdir", &tmpdir, optarg); break;
        case 'q': quiet = 1; break;
        default: return gf_cli_bad_option(cmd, c, argv);
        }
        if (bad) return GF_EXIT_USAGE;
    }
    if (index && naddrs) return gf_cli_usage(cmd, "--index and --addresses are exclusive");
    if (pc_opt && index) return gf_cli_usage(cmd, "--postcodes goes with --addresses (an index has its postcodes)");

    gf_ctx *ctx = gf_cli_ctx(quiet ? -1 : 0);
    if (!ctx) return GF_EXIT_FAIL;
    gf_serve_archive *archives[MAX_ARCHIVES];
    const char *reload[MAX_ARCHIVES] = {0}; /* a SITE's archive is watched for new publications */
    const char *roots[3];
    int narch = 0, nroots = 0, site_addrs = 0;
    char site_path[3][4096], map_root[4096] = "";
    const char *site_dir = NULL;
    gf_gc_index *ix = NULL;
    gf_server *srv = NULL;
    gf_status st = GF_OK;
    int rc = GF_EXIT_OK;
    if (web) roots[nroots++] = web;
    for (int i = optind; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb)) { st = gf_cli_check_input(ctx, argv[i]); if (!st) st = GF_ERR_INPUT; goto fail; }
        if (S_ISDIR(sb.st_mode)) {
            /* a SITE: its files, its tiles, its addresses */
            if (nroots >= 2) { rc = gf_cli_usage(cmd, "at most one SITE directory"); goto out; }
            roots[nroots++] = argv[i];
            site_dir = argv[i];
            snprintf(site_path[0], sizeof site_path[0], "%s/adresses.pmtiles", argv[i]);
            if (!stat(site_path[0], &sb)) {
                if (narch >= MAX_ARCHIVES) { rc = gf_cli_usage(cmd, "at most %d archives", MAX_ARCHIVES); goto out; }
                if ((st = gf_serve_archive_open(ctx, site_path[0], &archives[narch]))) goto fail;
                reload[narch++] = site_path[0];
            }
            snprintf(site_path[1], sizeof site_path[1], "%s/adresses.csv.gz", argv[i]);
            snprintf(site_path[2], sizeof site_path[2], "%s/.geoflux-publication", argv[i]);
            if (!index && !naddrs && !site_addrs && !stat(site_path[1], &sb)) site_addrs = 1;
            continue;
        }
        if (narch >= MAX_ARCHIVES) { rc = gf_cli_usage(cmd, "at most %d archives", MAX_ARCHIVES); goto out; }
        if ((st = gf_serve_archive_open(ctx, argv[i], &archives[narch]))) goto fail;
        for (int k = 0; k < narch; k++)
            if (!strcmp(gf_serve_archive_name(archives[k]), gf_serve_archive_name(archives[narch]))) {
                gf_serve_archive_destroy(archives[narch]);
                rc = gf_cli_usage(cmd, "two archives are called '%s' (their URLs would clash)",
                                  gf_serve_archive_name(archives[k]));
                goto out;
            }
        narch++;
    }
    if (site_addrs) addrs[naddrs++] = site_path[1];
    if (index) {
        if ((st = gf_cli_check_input(ctx, index)) || (st = gf_gc_index_load(ctx, index, &ix))) goto fail;
    } else if (naddrs) {
        for (int i = 0; i < naddrs; i++)
            if ((st = gf_cli_check_input(ctx, addrs[i]))) goto fail;
        if (postcodes && (st = gf_cli_check_input(ctx, postcodes))) goto fail;
        gf_gc_build_opts bo = {.paths = addrs, .npaths = naddrs, .postcodes = postcodes, .threads = threads};
        if ((st = gf_gc_index_build(ctx, &bo, &ix))) goto fail;
    }
    if (ix && !quiet) {
        gf_gc_stats s;
        gf_gc_index_stats(ix, &s);
        gf_cli_index_line(!index, &s, -1);
    }
    if (!ix && !narch && !nroots) {
        rc = gf_cli_usage(cmd, "nothing to serve: give a SITE, archives, --index or --addresses");
        goto out;
    }
    /* the map page at /carte/, on the SITE's archive (or the first
     * .pmtiles given), unless --web brings its own */
    const char *home = NULL, *map_name = NULL;
    for (int i = 0; i < narch && !web; i++)
        if (gf_serve_archive_is_pmtiles(archives[i]) &&
            (!map_name || !strcmp(gf_serve_archive_name(archives[i]), "adresses")))
            map_name = gf_serve_archive_name(archives[i]);
    char site_map[4200];
    struct stat msb;
    if (map_name && site_dir && !strcmp(map_name, "adresses") &&
        snprintf(site_map, sizeof site_map, "%s/carte/index.html", site_dir) < (int)sizeof site_map &&
        !stat(site_map, &msb) && S_ISREG(msb.st_mode)) {
        home = "carte/"; /* the page publish wrote into the SITE */
    } else if (map_name) {
        if (gf_cli_serve_map(ctx, tmpdir, map_name, map_root, sizeof map_root)) {
            fprintf(stderr, "geoflux: warning: no map page: %s\n", gf_ctx_errmsg(ctx));
        } else {
            roots[nroots++] = map_root;
            home = "carte/";
        }
    }

    /* SIGTERM and SIGINT are taken by sigwait() below, in this thread only:
     * blocked before the server's threads start, so they inherit the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    gf_serve_opts o = {.bind = bind, .port = port, .threads = threads, .max_upload = max_upload,
                       .timeout_s = (unsigned)timeout, .index = ix, .archives = archives, .reload_paths = reload, .narchives = narch,
                       .roots = roots, .nroots = nroots, .map_page = web != NULL, .tmpdir = tmpdir,
                       .home = home};
    if (site_addrs) {
        /* the SITE's addresses are the base: a new publication rebuilds it */
        o.index_watch = site_path[2];
        o.index_sources = addrs;
        o.nindex_sources = naddrs;
        o.index_postcodes = postcodes;
    }
    if ((st = gf_serve_start(ctx, &o, &srv))) goto fail;
    const char *host = bind ? bind : "127.0.0.1";
    int v6 = strchr(host, ':') != NULL;
    printf("geoflux: serving on http://%s%s%s:%d/\n", v6 ? "[" : "", host, v6 ? "]" : "", gf_serve_port(srv));
    fflush(stdout);
    int sig = 0;
    sigwait(&sigs, &sig);
    if (!quiet) fprintf(stderr, "geoflux: %s: draining and stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    gf_serve_stop(srv, 5);
    srv = NULL;
    goto out;
fail:
    rc = gf_cli_fail(ctx, st);
out:
    gf_serve_stop(srv, 0);
    for (int i = 0; i < narch; i++) gf_serve_archive_destroy(archives[i]);
    gf_gc_index_destroy(ix);
    gf_cli_serve_map_remove(map_root);
    gf_ctx_destroy(ctx);
    return rc;
}
