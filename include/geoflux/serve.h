/* geoflux serve: the national geocoding API's shapes (the Géoplateforme's
 * /geocodage: /search, /reverse, /completion, /getCapabilities), vector
 * tiles from PMTiles/MBTiles archives, and static files, over HTTP
 * (libmicrohttpd).
 *
 * The pieces that read what a client sends (the request path, the query
 * parameters, a Range header) are plain functions without a socket, so that
 * a fuzz target calls them exactly as the server does. The server itself
 * (gf_serve_start/stop) owns its threads; it never prints: the caller gets
 * the port and the errors through gf_ctx. */
#ifndef GEOFLUX_SERVE_H
#define GEOFLUX_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "geoflux/ctx.h"
#include "geoflux/geocode.h"
#include "geoflux/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- routing ------------------------------------------------------------- */

typedef enum gf_serve_route_kind {
    GF_ROUTE_STATIC = 0,  /* a file of a served directory (or an archive by its name), path in .path */
    GF_ROUTE_SEARCH,      /* /search */
    GF_ROUTE_REVERSE,     /* /reverse */
    GF_ROUTE_COMPLETION,  /* /completion */
    GF_ROUTE_CAPABILITIES,/* /getCapabilities */
    GF_ROUTE_OPENAPI,     /* /openapi */
    GF_ROUTE_SEARCH_CSV,  /* POST /search/csv */
    GF_ROUTE_REVERSE_CSV, /* POST /reverse/csv */
    GF_ROUTE_TILE,        /* /tiles/NAME/Z/X/Y.mvt (or .pbf) */
    GF_ROUTE_TILEJSON,    /* /tiles/NAME.json */
    GF_ROUTE_NOTFOUND,    /* well formed, nothing there (a tile outside its zoom's grid) */
    GF_ROUTE_FORBIDDEN    /* refused: a "..", "." or hidden segment, a backslash, a control byte */
} gf_serve_route_kind;

typedef struct gf_serve_route {
    gf_serve_route_kind kind;
    const char *name; size_t namelen; /* TILE, TILEJSON: the archive's name (borrowed from path) */
    int z; uint32_t x, y;             /* TILE: XYZ scheme, x, y < 2^z, z <= 30 */
    const char *path; size_t pathlen; /* STATIC: path relative to the served root, without the leading
                                         '/' ("" for the root); borrowed from path */
} gf_serve_route;

/* Reads a decoded request path (what follows the host, without the query
 * string: libmicrohttpd gives it percent-decoded, so "%2e%2e" arrives as
 * ".."). Never fails: refused paths are GF_ROUTE_FORBIDDEN. An API path
 * followed by "/" is the API path (the Géoplateforme accepts both). */
void gf_serve_route_path(const char *path, size_t len, gf_serve_route *out);

/* ---- query parameters ---------------------------------------------------- */

/* One query parameter as received (the server's are percent-decoded by
 * libmicrohttpd). Borrowed. value NULL is a key without '='. */
typedef struct gf_serve_kv {
    const char *key;
    const char *value;
    size_t valuelen;
} gf_serve_kv;

#define GF_SERVE_MAX_DETAIL 8
#define GF_SERVE_MAX_TERR 32
/* A territory of /completion's terr: a span of a gf_serve_kv value. */
typedef struct gf_serve_terr {
    const char *p;
    size_t n;
} gf_serve_terr;
/* The parameters of /search, /reverse or /completion, read and checked the
 * way the Géoplateforme does (api/params of gpf-geocodeur): values trimmed,
 * empty means absent, unknown parameters ignored, every bad parameter one
 * line of detail. Strings point into the gf_serve_kv values. */
typedef struct gf_serve_params {
    gf_gc_query query;  /* q (completion: text), postcode, citycode, type, lat/lon bias */
    int limit;          /* search, reverse: 1..20, default 5; completion: maximumResponses 1..15,
                           default 10 */
    int autocomplete;   /* search: default 1, the service's: query.prefix (the last word may be unfinished) */
    int has_point;      /* reverse: lon and lat given */
    double lon, lat;
    /* completion: terr, the territories its answers must lie in, as the
     * service takes them (comma-separated METROPOLE, DOMTOM, department
     * codes 31, 2A, 971, five digits: a postcode or an INSEE code); nterr
     * 0: anywhere */
    int nterr;
    gf_serve_terr terr[GF_SERVE_MAX_TERR];
    /* completion: bbox xmin,ymin,xmax,ymax (WGS84; the service's example
     * gives the corners in either order): the answers inside */
    int has_bbox;
    double bbox[4];
    int streetaddress;  /* completion: its type asks for StreetAddress (default) */
    int ndetail;        /* > 0: the request is refused, detail[] says why (400) */
    char detail[GF_SERVE_MAX_DETAIL][160];
} gf_serve_params;

/* 1 when a result of commune citycode and postcode (may be NULL) lies in
 * one of p's territories (or p names none). Five digits match the postcode
 * or the INSEE code; the whole city's code (75056, 69123, 13055) holds its
 * arrondissements. */
int gf_serve_terr_match(const gf_serve_params *p, const char *citycode, const char *postcode);
/* /reverse's filters: 1 when r has p's postcode, citycode (the whole
 * city's code holds its arrondissements) and city (names compared
 * normalised), those p gives. */
int gf_serve_reverse_match(const gf_serve_params *p, const gf_gc_result *r);
/* 1 when (lon, lat) lies in p's bbox, or p has none. */
int gf_serve_bbox_match(const gf_serve_params *p, double lon, double lat);

/* kind is GF_ROUTE_SEARCH, GF_ROUTE_REVERSE or GF_ROUTE_COMPLETION.
 * GF_OK with out->ndetail == 0: the request can be answered; GF_ERR_PARSE
 * with the reasons in out->detail (answer 400 with gf_serve_json_error());
 * GF_ERR_ARG for another kind or NULL pointers. Allocates nothing. */
gf_status gf_serve_parse_params(gf_serve_route_kind kind, const gf_serve_kv *kv, size_t n, gf_serve_params *out);

/* ---- HTTP Range ---------------------------------------------------------- */

/* A Range header against a resource of size bytes: 1 and [*start,
 * *start + *len) for one satisfiable range ("bytes=a-b", "bytes=a-",
 * "bytes=-n"; b past the end is cut to it); 0 when the header is absent,
 * not a byte range or several ranges (answer the whole resource, 200, as
 * RFC 9110 allows); -1 when unsatisfiable (416, Content-Range: bytes * /size). */
int gf_serve_parse_range(const char *hdr, uint64_t size, uint64_t *start, uint64_t *len);

/* ---- JSON answers --------------------------------------------------------- */

/* {"code":400,"message":"Failed parsing query","detail":[...]} (the
 * Géoplateforme's error body) for p->detail; or, with p NULL, message alone. */
gf_status gf_serve_json_error(gf_buf *out, int code, const char *message, const gf_serve_params *p);

/* A GeoCodeJSON FeatureCollection of res[0..n): properties label, score,
 * housenumber, id, banId, name, postcode, citycode, x, y, city, district,
 * oldcitycode, oldcity, context, type, importance, street, _type (and
 * distance in metres when reverse). x, y: in the legal CRS of the result's
 * territory, through legal (per thread) with ctx; omitted where there is
 * none. */
gf_status gf_serve_json_features(gf_buf *out, gf_ctx *ctx, gf_gc_legal *legal, const gf_gc_result *res, int n,
                                 int reverse);

/* /completion's answer: {"status":"OK","results":[{"country":"StreetAddress","city",
 * "oldcity","kind","zipcode","street","metropole","fulltext","classification","x","y"}]}. */
gf_status gf_serve_json_completion(gf_buf *out, const gf_gc_result *res, int n);

/* ---- tile archives --------------------------------------------------------- */

typedef struct gf_serve_archive gf_serve_archive;

/* Opens a .pmtiles (v3: header and root directory checked) or .mbtiles
 * archive for reading by many threads. name is what URLs call it (the file
 * name without its extension). GF_ERR_INPUT / GF_ERR_PARSE with a message
 * naming path. Caller frees with gf_serve_archive_destroy() (NULL: no-op). */
gf_status gf_serve_archive_open(gf_ctx *ctx, const char *path, gf_serve_archive **out);
void gf_serve_archive_destroy(gf_serve_archive *a);
const char *gf_serve_archive_name(const gf_serve_archive *a);
/* 1 for PMTiles (then the file itself is served with Range requests) */
int gf_serve_archive_is_pmtiles(const gf_serve_archive *a);
/* The whole file, mapped (PMTiles only; NULL otherwise): valid while a lives. */
const uint8_t *gf_serve_archive_bytes(const gf_serve_archive *a, uint64_t *size);

/* The tile z/x/y (XYZ scheme) into out (replacing its contents), with
 * *gzipped set when its bytes are gzip-compressed. GF_OK and out->len == 0
 * when the archive has no such tile; GF_ERR_PARSE when the archive's
 * structure is damaged (a directory out of bounds, too deep). Thread-safe. */
gf_status gf_serve_archive_tile(gf_serve_archive *a, gf_ctx *ctx, int z, uint32_t x, uint32_t y, gf_buf *out,
                                int *gzipped);

/* TileJSON 3.0 of the archive, tiles at base_url + "/tiles/NAME/{z}/{x}/{y}.mvt". */
gf_status gf_serve_archive_tilejson(gf_serve_archive *a, const char *base_url, gf_buf *out);

/* ---- batch CSV (/search/csv, /reverse/csv) -------------------------------- */

/* The form fields of the Géoplateforme's batch endpoints besides `data`:
 * each names columns of the uploaded table (columns: those joined into the
 * query, comma-separated; NULL or "": the stage's defaults). Borrowed. */
typedef struct gf_serve_csv_params {
    const char *columns, *citycode, *postcode, *lat, *lon, *result_columns;
} gf_serve_csv_params;

typedef struct gf_serve_csv_stats {
    uint64_t read, written, rejected; /* rejected: records the CSV reader could not read */
    gf_gc_counts counts;              /* result_status of the rows */
} gf_serve_csv_stats;

/* Geocodes (reverse: reverse-geocodes) the CSV file in into the stream
 * out (borrowed, flushed, not closed; out_name names it in messages): the
 * input columns, then the result columns in the Géoplateforme's order
 * (gf_geocode_table_stages(), as `geoflux geocode`), streamed batch by
 * batch on the calling thread; the header is written once the stages are
 * built, so that an error before any byte is the request's (a field naming
 * a missing column, a bad result_columns: GF_ERR_SCHEMA / GF_ERR_ARG with
 * the message in ctx, the client's mistake: 400; an unreadable table:
 * GF_ERR_INPUT / GF_ERR_PARSE), one after them a broken answer. */
gf_status gf_serve_csv_run(gf_ctx *ctx, const gf_gc_index *ix, int reverse, const gf_serve_csv_params *f,
                           const char *in, FILE *out, const char *out_name, gf_serve_csv_stats *stats);

/* ---- the server ------------------------------------------------------------ */

typedef struct gf_serve_opts {
    const char *bind;          /* IPv4 or IPv6 address; NULL: 127.0.0.1 */
    int port;                  /* 0: a free port (gf_serve_port() says which); default set by the caller */
    int threads;               /* request threads; <= 0: 2 */
    size_t max_upload;         /* largest request body; 0: 50 MB */
    size_t max_header;         /* memory for one connection's request line and headers; 0: 32 KiB */
    unsigned timeout_s;        /* idle connection timeout; 0: 30 s */
    unsigned max_connections;  /* connections open at once, beyond which new ones are refused (closed at
                                  once) while the others are answered; 0: (RLIMIT_NOFILE - 64) / 2, at
                                  most 4096 (a connection may hold a socket and a file) */
    const gf_gc_index *index;  /* borrowed; NULL: the geocoding API answers 503 */
    const char *index_watch;   /* NULL, or a file whose change means a new publication (a SITE's
                                  .geoflux-publication, looked at every 250 ms): the index is then
                                  built again from index_sources (and index_postcodes, may be NULL)
                                  on a thread of its own while requests go on with the old one, and
                                  swapped in; requests in flight finish on the index they started
                                  with, the next ones use the new one (index may be NULL until then).
                                  A build that fails keeps the old index. */
    const char *const *index_sources;
    int nindex_sources;
    const char *index_postcodes;
    gf_serve_archive *const *archives; /* borrowed: destroy them after gf_serve_stop() */
    const char *const *reload_paths;   /* NULL, or per archive the file to watch (NULL: none): when it is
                                          replaced (a new publication renamed into place) the new file is
                                          served from the next request on, within a second; requests reading
                                          the old one finish with it */
    int narchives;
    const char *const *roots;  /* borrowed: directories whose files are served, searched in this order */
    int nroots;
    const char *tmpdir;        /* where uploads are spooled; NULL: $TMPDIR, else /tmp */
    int map_page;              /* 1: roots[0] is the map page (web/install.sh): `/` without ?pmtiles= redirects to
                                  /?pmtiles=NAME.pmtiles, the first PMTiles archive, unless one is adresses.pmtiles */
    const char *home;          /* NULL, or a path of the served directories ("carte/", the map page) that `GET /`
                                  redirects to (302); the directories' own index.html stays at /index.html */
} gf_serve_opts;

typedef struct gf_server gf_server;

/* Starts listening and answering on its own threads. GF_ERR_ARG for a bad
 * bind address, GF_ERR_IO when the port cannot be bound (message says
 * why). Caller stops and frees with gf_serve_stop(). */
gf_status gf_serve_start(gf_ctx *ctx, const gf_serve_opts *opts, gf_server **out);
/* How many times the index was rebuilt for a new publication, and how many
 * of those builds failed (the old index kept). */
void gf_serve_reload_stats(gf_server *s, unsigned *reloads, unsigned *failures);
/* The port listened on (useful with port 0). */
int gf_serve_port(const gf_server *s);
/* Stops accepting, lets the requests in flight finish (up to drain_s
 * seconds), then closes everything and frees s. NULL is a no-op. */
void gf_serve_stop(gf_server *s, unsigned drain_s);

#ifdef __cplusplus
}
#endif
#endif
