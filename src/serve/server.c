/* The HTTP side of `geoflux serve`, on libmicrohttpd: a thread pool, keep-
 * alive, bounded headers (the connection's memory limit), bodies
 * (max_upload) and idle time; requests routed by request.c, answered from
 * the geocoding index (one matching path: gf_gc_search, as the CSV stage),
 * the tile archives (archive.c) and the served directories (traversal and
 * symlinks out refused). Each pool thread gets its own worker state (a
 * gf_ctx with its PROJ context, a matcher scratch, the legal-CRS
 * transformations) on its first request. */
#define _GNU_SOURCE /* pipe2() */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "geoflux/serve.h"

#define MAX_ARGS 64

typedef struct worker {
    gf_ctx *ctx;
    gf_gc_scratch *scr; /* sized for one index: the one of generation scr_gen */
    unsigned scr_gen;
    gf_gc_legal *legal;
    struct worker *next;
} worker;

/* An archive in use: requests hold a reference while they read it (a tile,
 * a range of the file being sent), so that a replaced archive is unmapped
 * only once the last of them is done. */
typedef struct held {
    gf_serve_archive *a;
    int refs;  /* requests reading it, plus 1 while it is its slot's current archive */
    int owned; /* opened by the server on a reload (else the caller's) */
} held;

/* The geocoding index in use, reference counted as the archives are: a
 * request holds it while it queries it, so that an index replaced by a new
 * publication is freed only once the last request on it is done; a
 * generation number tells each worker when its scratch (sized by the
 * index) must be remade. */
typedef struct held_ix {
    const gf_gc_index *ix;
    gf_gc_index *owned; /* built by the server on a reload (else the caller's) */
    int refs;           /* requests on it, plus 1 while it is the current one */
    unsigned gen;
} held_ix;

/* What URLs call NAME: its current archive, and the file watched for a new
 * publication (NULL: never reloaded). */
typedef struct slot {
    char name[129];
    const char *path;
    held *cur;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    time_t checked; /* CLOCK_MONOTONIC second of the last stat() */
} slot;

struct gf_server {
    struct MHD_Daemon *d;
    slot *slots; /* one per archive, under lock */
    int nslots;
    gf_serve_opts o;
    int port;
    char *roots[16]; /* realpath of each served directory */
    int nroots;
    pthread_key_t key;
    int has_key;
    pthread_mutex_t lock; /* the workers list */
    worker *workers;
    atomic_int active; /* requests being answered (for the drain) */
    held_ix *ix;       /* under lock; NULL: no index */
    /* the index watcher (o.index_watch): a thread that rebuilds the index
     * when the publication marker changes */
    pthread_t watcher;
    int has_watcher, wstop;
    pthread_mutex_t wlock;
    pthread_cond_t wcond;
    struct stat wseen; /* the marker as last seen (st_ino 0: absent) */
    atomic_uint reloads, reload_failures;
};

/* A batch upload being received: the `data` part spooled to a private
 * directory as it arrives, the other form fields kept (small). */
enum { F_COLUMNS, F_CITYCODE, F_POSTCODE, F_LAT, F_LON, F_RCOLS, F_N };
static const char *const field_names[F_N] = {"columns", "citycode", "postcode", "lat", "lon", "result_columns"};
struct csv_job;
typedef struct upload {
    struct MHD_PostProcessor *pp;
    struct csv_job *job; /* the answer being made, once the body is in */
    char dir[PATH_MAX - 32], in[PATH_MAX], out[PATH_MAX];
    int fd, has_data, bad;
    char bad_msg[128];
    char field[F_N][1024];
    size_t flen[F_N];
} upload;

/* Per request: the body bytes seen, whether it was refused, its upload. */
typedef struct req {
    size_t body;
    int too_large;
    upload *up;
} req;

/* ---- responses ----------------------------------------------------------- */

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned code, const char *type, gf_buf *b)
{
    /* the buffer's memory goes to the response (freed by libmicrohttpd) */
    struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->p, MHD_RESPMEM_MUST_FREE);
    if (!r) { gf_buf_free(b); return MHD_NO; }
    b->p = NULL;
    b->len = b->cap = 0;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned code, gf_buf *b)
{
    return send_buf(c, code, "application/json; charset=utf-8", b);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned code, const char *msg, const gf_serve_params *p)
{
    gf_buf b = {0};
    if (gf_serve_json_error(&b, (int)code, msg, p)) { gf_buf_free(&b); return MHD_NO; }
    return send_json(c, code, &b);
}

static enum MHD_Result send_static_text(struct MHD_Connection *c, unsigned code, const char *type, const char *text)
{
    gf_buf b = {0};
    if (gf_buf_append(&b, text, strlen(text))) return MHD_NO;
    return send_buf(c, code, type, &b);
}

/* ---- worker state -------------------------------------------------------- */

static void worker_free(worker *w)
{
    if (!w) return;
    gf_gc_scratch_destroy(w->scr);
    gf_gc_legal_destroy(w->legal);
    if (w->ctx) gf_ctx_destroy(w->ctx);
    free(w);
}

static worker *get_worker(gf_server *s)
{
    worker *w = pthread_getspecific(s->key);
    if (w) return w;
    w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (gf_ctx_create(&w->ctx) || gf_gc_legal_create(&w->legal)) {
        worker_free(w);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    w->next = s->workers;
    s->workers = w;
    pthread_mutex_unlock(&s->lock);
    pthread_setspecific(s->key, w);
    return w;
}

/* ---- the index, and its reload ------------------------------------------- */

static void ix_release(gf_server *s, held_ix *h)
{
    if (!h) return;
    pthread_mutex_lock(&s->lock);
    int last = --h->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) {
        gf_gc_index_destroy(h->owned);
        free(h);
    }
}

/* The current index with a reference (give it back with ix_release()), and
 * the worker's scratch made for it; NULL when there is no index, or no
 * memory for the scratch (*oom set). */
static held_ix *ix_acquire(gf_server *s, worker *w, int *oom)
{
    *oom = 0;
    pthread_mutex_lock(&s->lock);
    held_ix *h = s->ix;
    if (h) h->refs++;
    pthread_mutex_unlock(&s->lock);
    if (!h) return NULL;
    if (!w->scr || w->scr_gen != h->gen) {
        gf_gc_scratch_destroy(w->scr);
        w->scr = NULL;
        if (gf_gc_scratch_create(h->ix, &w->scr)) {
            ix_release(s, h);
            *oom = 1;
            return NULL;
        }
        w->scr_gen = h->gen;
    }
    return h;
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* A new publication (the marker replaced or rewritten): the index is built
 * again from its sources, here on the watcher's thread while requests go on
 * with the old one, then swapped in. A build that fails (a half-written or
 * damaged file) leaves the old index in service until the marker changes
 * again. */
static void index_check(gf_server *s)
{
    struct stat sb;
    if (stat(s->o.index_watch, &sb)) memset(&sb, 0, sizeof sb);
    if (same_file(&sb, &s->wseen)) return;
    s->wseen = sb;
    if (!sb.st_ino) return; /* the marker gone: keep what is served */
    gf_ctx *ctx;
    if (gf_ctx_create(&ctx)) { atomic_fetch_add(&s->reload_failures, 1); return; }
    gf_gc_index *nix = NULL;
    held_ix *h = NULL;
    gf_gc_build_opts bo = {.paths = s->o.index_sources, .npaths = s->o.nindex_sources, .postcodes = s->o.index_postcodes,
                           .threads = 1};
    if (gf_gc_index_build(ctx, &bo, &nix) == GF_OK &&
        (h = calloc(1, sizeof *h))) {
        pthread_mutex_lock(&s->lock);
        *h = (held_ix){nix, nix, 1, s->ix ? s->ix->gen + 1 : 1};
        held_ix *old = s->ix;
        s->ix = h;
        pthread_mutex_unlock(&s->lock);
        ix_release(s, old);
        atomic_fetch_add(&s->reloads, 1);
    } else {
        gf_gc_index_destroy(nix);
        atomic_fetch_add(&s->reload_failures, 1);
    }
    gf_ctx_destroy(ctx);
}

static void *watch_main(void *arg)
{
    gf_server *s = arg;
    pthread_mutex_lock(&s->wlock);
    while (!s->wstop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 250 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&s->wcond, &s->wlock, &until);
        if (s->wstop) break;
        pthread_mutex_unlock(&s->wlock);
        index_check(s);
        pthread_mutex_lock(&s->wlock);
    }
    pthread_mutex_unlock(&s->wlock);
    return NULL;
}

void gf_serve_reload_stats(gf_server *s, unsigned *reloads, unsigned *failures)
{
    if (reloads) *reloads = s ? atomic_load(&s->reloads) : 0;
    if (failures) *failures = s ? atomic_load(&s->reload_failures) : 0;
}

/* ---- geocoding ----------------------------------------------------------- */

typedef struct args {
    gf_serve_kv kv[MAX_ARGS];
    size_t n;
} args;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
                               size_t value_size)
{
    (void)kind;
    (void)key_size;
    args *a = cls;
    if (a->n < MAX_ARGS) a->kv[a->n++] = (gf_serve_kv){key, value, value ? value_size : 0};
    return MHD_YES;
}

/* The first p->limit of res[0..n) that pass the route's filters (/reverse:
 * postcode, citycode, city; /completion: terr, bbox), moved to the front
 * in order; returns how many. */
static int keep_matching(gf_serve_route_kind kind, const gf_serve_params *p, gf_gc_result *res, int n)
{
    int k = 0;
    for (int i = 0; i < n && k < p->limit; i++)
        if (kind == GF_ROUTE_REVERSE ? gf_serve_reverse_match(p, &res[i])
                                     : gf_serve_terr_match(p, res[i].citycode, res[i].postcode) &&
                                           gf_serve_bbox_match(p, res[i].lon, res[i].lat))
            res[k++] = res[i];
    return k;
}

static enum MHD_Result api(gf_server *s, struct MHD_Connection *c, gf_serve_route_kind kind)
{
    args a = {.n = 0};
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect, &a);
    gf_serve_params p;
    if (gf_serve_parse_params(kind, a.kv, a.n, &p) != GF_OK)
        return send_error(c, 400, "Failed parsing query", &p);
    worker *w = get_worker(s);
    if (!w) return send_error(c, 500, "out of memory", NULL);
    int oom;
    held_ix *h = ix_acquire(s, w, &oom);
    if (!h) return oom ? send_error(c, 500, "out of memory", NULL)
                       : send_error(c, 503, "no geocoding index is loaded (--index or --addresses)", NULL);
    gf_gc_result res[GF_GC_MAX_RESULTS];
    int n = 0;
    gf_buf b = {0};
    gf_status st;
    if (kind == GF_ROUTE_REVERSE) {
        /* the limit nearest within GF_GC_REVERSE_MAX_M, as `geoflux reverse` */
        /* postcode, citycode, city: kept among the longest list of the nearest */
        int filter = p.query.postcodelen || p.query.citycodelen || p.query.citylen;
        st = gf_gc_reverse_n(h->ix, w->scr, p.lon, p.lat, GF_GC_REVERSE_MAX_M, p.query.type, res,
                             filter ? GF_GC_MAX_RESULTS : p.limit, &n);
        if (!st && filter) n = keep_matching(kind, &p, res, n);
        if (!st) st = gf_serve_json_features(&b, w->ctx, w->legal, res, n, 1);
    } else {
        /* terr, bbox: the answers in those territories and that box, from
         * the matcher's longest list */
        int filter = p.nterr || p.has_bbox;
        /* completion's type=PositionOfInterest alone: the index has no POI */
        st = kind == GF_ROUTE_COMPLETION && !p.streetaddress
                 ? GF_OK
                 : gf_gc_search(h->ix, w->scr, &p.query, res, filter ? GF_GC_MAX_RESULTS : p.limit, &n);
        if (!st && filter) n = keep_matching(kind, &p, res, n);
        if (!st)
            st = kind == GF_ROUTE_COMPLETION ? gf_serve_json_completion(&b, res, n)
                                             : gf_serve_json_features(&b, w->ctx, w->legal, res, n, 0);
    }
    ix_release(s, h); /* the answer is a copy: the index may go */
    if (st) {
        gf_buf_free(&b);
        return send_error(c, 500, "internal error", NULL);
    }
    return send_json(c, 200, &b);
}

static const char capabilities[] =
    "{\"info\":{\"name\":\"geoflux serve\",\"url\":\"/\",\"description\":\"The Géoplateforme's geocoding API "
    "(/geocodage) served offline by geoflux, address index only\"},"
    "\"api\":{\"name\":\"rest\",\"version\":\"0.1.0\"},"
    "\"operations\":["
    "{\"id\":\"search\",\"description\":\"geocoding\",\"url\":\"/search\",\"methods\":[\"GET\"],\"parameters\":["
    "{\"name\":\"q\",\"in\":\"query\",\"required\":true,\"description\":\"free text, 3 to 200 characters\",\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"index\",\"in\":\"query\",\"required\":false,\"default\":\"address\",\"schema\":{\"type\":\"string\",\"enum\":[\"address\"]}},"
    "{\"name\":\"limit\",\"in\":\"query\",\"required\":false,\"default\":5,\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":20}},"
    "{\"name\":\"lat\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"number\"}},"
    "{\"name\":\"lon\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"number\"}},"
    "{\"name\":\"type\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\",\"enum\":[\"housenumber\",\"street\",\"locality\",\"municipality\"]}},"
    "{\"name\":\"postcode\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"citycode\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"city\",\"in\":\"query\",\"required\":false,\"description\":\"a commune's name\",\"schema\":{\"type\":\"string\",\"maxLength\":50}},"
    "{\"name\":\"autocomplete\",\"in\":\"query\",\"required\":false,\"default\":true,\"schema\":{\"type\":\"boolean\"}}]},"
    "{\"id\":\"reverse\",\"description\":\"reverse geocoding: the nearest addresses within 500 m\",\"url\":\"/reverse\",\"methods\":[\"GET\"],\"parameters\":["
    "{\"name\":\"lon\",\"in\":\"query\",\"required\":true,\"schema\":{\"type\":\"number\"}},"
    "{\"name\":\"lat\",\"in\":\"query\",\"required\":true,\"schema\":{\"type\":\"number\"}},"
    "{\"name\":\"limit\",\"in\":\"query\",\"required\":false,\"default\":5,\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":20}},"
    "{\"name\":\"type\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\",\"enum\":[\"housenumber\",\"street\",\"locality\",\"municipality\"]}},"
    "{\"name\":\"postcode\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"citycode\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"city\",\"in\":\"query\",\"required\":false,\"description\":\"a commune's name\",\"schema\":{\"type\":\"string\",\"maxLength\":50}}]},"
    "{\"id\":\"completion\",\"description\":\"autocompletion\",\"url\":\"/completion\",\"methods\":[\"GET\"],\"parameters\":["
    "{\"name\":\"text\",\"in\":\"query\",\"required\":true,\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"maximumResponses\",\"in\":\"query\",\"required\":false,\"default\":10,\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":15}},"
    "{\"name\":\"terr\",\"in\":\"query\",\"required\":false,\"description\":\"METROPOLE, DOMTOM, department codes, postcodes or INSEE codes, comma-separated\",\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"bbox\",\"in\":\"query\",\"required\":false,\"description\":\"xmin,ymin,xmax,ymax (WGS84)\",\"schema\":{\"type\":\"string\"}}]}],"
    "\"indexes\":[{\"id\":\"address\",\"description\":\"addresses (BAL/BAN) of the loaded index\"}]}";

static const char openapi[] =
    "{\"openapi\":\"3.0.0\",\"info\":{\"title\":\"geoflux serve\",\"version\":\"0.1.0\","
    "\"description\":\"The Géoplateforme geocoding API's address operations, served offline\"},"
    "\"paths\":{"
    "\"/search\":{\"get\":{\"summary\":\"geocoding\",\"parameters\":["
    "{\"name\":\"q\",\"in\":\"query\",\"required\":true,\"schema\":{\"type\":\"string\",\"minLength\":3,\"maxLength\":200}},"
    "{\"name\":\"index\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"enum\":[\"address\"]}},"
    "{\"name\":\"limit\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":20,\"default\":5}},"
    "{\"name\":\"lat\",\"in\":\"query\",\"schema\":{\"type\":\"number\",\"minimum\":-90,\"maximum\":90}},"
    "{\"name\":\"lon\",\"in\":\"query\",\"schema\":{\"type\":\"number\",\"minimum\":-180,\"maximum\":180}},"
    "{\"name\":\"type\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"enum\":[\"housenumber\",\"street\",\"locality\",\"municipality\"]}},"
    "{\"name\":\"postcode\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"pattern\":\"^\\\\d{5}$\"}},"
    "{\"name\":\"citycode\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"pattern\":\"^(\\\\d{5}|\\\\d[AB]\\\\d{3})$\"}},"
    "{\"name\":\"city\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"maxLength\":50}},"
    "{\"name\":\"autocomplete\",\"in\":\"query\",\"schema\":{\"type\":\"boolean\",\"default\":true}}],"
    "\"responses\":{\"200\":{\"description\":\"GeoCodeJSON FeatureCollection\"},\"400\":{\"description\":\"bad parameters\"}}}},"
    "\"/reverse\":{\"get\":{\"summary\":\"reverse geocoding\",\"parameters\":["
    "{\"name\":\"lon\",\"in\":\"query\",\"required\":true,\"schema\":{\"type\":\"number\"}},"
    "{\"name\":\"lat\",\"in\":\"query\",\"required\":true,\"schema\":{\"type\":\"number\"}},"
    "{\"name\":\"limit\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":20,\"default\":5}},"
    "{\"name\":\"type\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"enum\":[\"housenumber\",\"street\",\"locality\",\"municipality\"]}},"
    "{\"name\":\"postcode\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"pattern\":\"^\\\\d{5}$\"}},"
    "{\"name\":\"citycode\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"pattern\":\"^(\\\\d{5}|\\\\d[AB]\\\\d{3})$\"}},"
    "{\"name\":\"city\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"maxLength\":50}}],"
    "\"responses\":{\"200\":{\"description\":\"GeoCodeJSON FeatureCollection, with distance in metres\"},\"400\":{\"description\":\"bad parameters\"}}}},"
    "\"/completion\":{\"get\":{\"summary\":\"autocompletion\",\"parameters\":["
    "{\"name\":\"text\",\"in\":\"query\",\"required\":true,\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"maximumResponses\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":15,\"default\":10}},"
    "{\"name\":\"terr\",\"in\":\"query\",\"description\":\"METROPOLE, DOMTOM, department codes, postcodes or INSEE codes, comma-separated\",\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"bbox\",\"in\":\"query\",\"description\":\"xmin,ymin,xmax,ymax (WGS84)\",\"schema\":{\"type\":\"string\"}}],"
    "\"responses\":{\"200\":{\"description\":\"{status, results}\"}}}},"
    "\"/tiles/{name}/{z}/{x}/{y}.mvt\":{\"get\":{\"summary\":\"a vector tile (gzip)\",\"parameters\":["
    "{\"name\":\"name\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"z\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"integer\"}},"
    "{\"name\":\"x\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"integer\"}},"
    "{\"name\":\"y\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"integer\"}}],"
    "\"responses\":{\"200\":{\"description\":\"MVT\"},\"204\":{\"description\":\"no tile there\"}}}}}}";

/* ---- tiles and files ------------------------------------------------------ */

static void held_release(gf_server *s, held *h)
{
    if (!h) return;
    pthread_mutex_lock(&s->lock);
    int last = --h->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) {
        if (h->owned) gf_serve_archive_destroy(h->a);
        free(h);
    }
}

/* A watched archive replaced on disc (a new publication renamed into
 * place): opened once seen, at most one stat() a second. Under s->lock.
 * An archive that does not open (half written, damaged) leaves the current
 * one in service. */
static void slot_check(gf_server *s, slot *sl)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!sl->path || now.tv_sec == sl->checked) return;
    sl->checked = now.tv_sec;
    struct stat sb;
    if (stat(sl->path, &sb) || (sb.st_dev == sl->dev && sb.st_ino == sl->ino && sb.st_mtim.tv_sec == sl->mtime.tv_sec &&
                                sb.st_mtim.tv_nsec == sl->mtime.tv_nsec))
        return;
    gf_ctx *ctx;
    if (gf_ctx_create(&ctx)) return;
    gf_serve_archive *a = NULL;
    held *h = NULL;
    if (gf_serve_archive_open(ctx, sl->path, &a) == GF_OK && !strcmp(gf_serve_archive_name(a), sl->name) &&
        (h = calloc(1, sizeof *h))) {
        *h = (held){a, 1, 1};
        held *old = sl->cur;
        sl->cur = h;
        sl->dev = sb.st_dev;
        sl->ino = sb.st_ino;
        sl->mtime = sb.st_mtim;
        if (old && --old->refs == 0) {
            if (old->owned) gf_serve_archive_destroy(old->a);
            free(old);
        }
    } else gf_serve_archive_destroy(a);
    gf_ctx_destroy(ctx);
}

/* The archive NAME, with a reference the caller gives back with
 * held_release(); NULL when there is none of that name. */
static held *find_archive(gf_server *s, const char *name, size_t n)
{
    held *h = NULL;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->nslots && !h; i++) {
        slot *sl = &s->slots[i];
        if (strlen(sl->name) != n || memcmp(sl->name, name, n)) continue;
        slot_check(s, sl);
        h = sl->cur;
        h->refs++;
    }
    pthread_mutex_unlock(&s->lock);
    return h;
}

static enum MHD_Result tile(gf_server *s, struct MHD_Connection *c, const gf_serve_route *r)
{
    worker *w = get_worker(s);
    if (!w) return send_error(c, 500, "out of memory", NULL);
    held *h = find_archive(s, r->name, r->namelen);
    if (!h) return send_error(c, 404, "no such tileset", NULL);
    gf_buf b = {0};
    int gz = 0;
    gf_status st = gf_serve_archive_tile(h->a, w->ctx, r->z, r->x, r->y, &b, &gz);
    held_release(s, h);
    if (st != GF_OK) {
        gf_buf_free(&b);
        return send_error(c, 500, gf_ctx_errmsg(w->ctx), NULL);
    }
    if (!b.len) {
        gf_buf_free(&b);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp) return MHD_NO;
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_FREE);
    if (!resp) { gf_buf_free(&b); return MHD_NO; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/vnd.mapbox-vector-tile");
    if (gz) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The server's own address as clients reach it: the Host header when it is
 * a plain host[:port], else the bound address. */
static void base_url(gf_server *s, struct MHD_Connection *c, char *out, size_t outsz)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    int ok = h && h[0] && strlen(h) < 256;
    for (const char *p = h; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
             *p == '-' || *p == ':' || *p == '[' || *p == ']';
    if (ok) snprintf(out, outsz, "http://%s", h);
    else snprintf(out, outsz, "http://%s:%d", s->o.bind ? s->o.bind : "127.0.0.1", s->port);
}

static const char *mime(const char *path)
{
    static const struct { const char *ext, *type; } m[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript"},
        {".css", "text/css; charset=utf-8"}, {".json", "application/json"}, {".geojson", "application/geo+json"},
        {".csv", "text/csv; charset=utf-8"}, {".png", "image/png"}, {".svg", "image/svg+xml"},
        {".pbf", "application/x-protobuf"}, {".mvt", "application/vnd.mapbox-vector-tile"},
        {".gz", "application/gzip"}, {".gpkg", "application/geopackage+sqlite3"}, {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof m / sizeof m[0]; i++)
        if (!strcmp(dot, m[i].ext)) return m[i].type;
    return "application/octet-stream";
}

/* Answers a resource of size bytes whose range [start, start+len) the
 * callback makes into a response; Range handled here (206, 416). */
static enum MHD_Result send_ranged(struct MHD_Connection *c, uint64_t size, const char *type,
                                   struct MHD_Response *(*make)(void *cls, uint64_t start, uint64_t len), void *cls)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    uint64_t start = 0, len = size;
    int r = gf_serve_parse_range(h, size, &start, &len);
    char cr[96];
    struct MHD_Response *resp;
    unsigned code = MHD_HTTP_OK;
    if (r < 0) {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp) return MHD_NO;
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        code = MHD_HTTP_RANGE_NOT_SATISFIABLE;
    } else {
        if (r == 0) { start = 0; len = size; }
        resp = make(cls, start, len);
        if (!resp) return MHD_NO;
        if (r == 1) {
            snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)start,
                     (unsigned long long)(start + len - 1), (unsigned long long)size);
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
            code = MHD_HTTP_PARTIAL_CONTENT;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "Content-Range, Content-Length, Accept-Ranges");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A range of a mapped archive, copied out as libmicrohttpd sends it; the
 * response holds a reference to the archive until it is done. */
typedef struct map_read {
    gf_server *s;
    held *h;
    const uint8_t *base; /* first byte of the range */
    uint64_t len;
    int *taken; /* set to 1 when a response takes it (and frees it with map_read_free, maybe at once) */
} map_read;

static ssize_t map_read_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    map_read *m = cls;
    if (pos >= m->len) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = m->len - pos < max ? (size_t)(m->len - pos) : max;
    memcpy(buf, m->base + pos, n);
    return (ssize_t)n;
}

static void map_read_free(void *cls)
{
    map_read *m = cls;
    held_release(m->s, m->h);
    free(m);
}

static struct MHD_Response *from_map(void *cls, uint64_t start, uint64_t len)
{
    map_read *m = cls;
    m->base += start;
    m->len = len;
    /* from here on the response owns m (and the reference) */
    struct MHD_Response *r = MHD_create_response_from_callback(len, 64 * 1024, map_read_cb, m, map_read_free);
    if (r) *m->taken = 1;
    return r;
}

static struct MHD_Response *from_fd(void *cls, uint64_t start, uint64_t len)
{
    int fd = *(int *)cls;
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(len, fd, start);
    if (r) *(int *)cls = -1; /* the response closes it */
    return r;
}

/* A file of a served directory: its real path must stay inside the real
 * root (a symlink leading out is refused, 403); a directory answers its
 * index.html. */
static enum MHD_Result file(gf_server *s, struct MHD_Connection *c, const gf_serve_route *r)
{
    for (int i = 0; i < s->nroots; i++) {
        char want[PATH_MAX], real[PATH_MAX];
        size_t rl = strlen(s->roots[i]);
        int k = snprintf(want, sizeof want, "%s/%.*s", s->roots[i], (int)r->pathlen, r->path);
        if (k < 0 || (size_t)k >= sizeof want) return send_error(c, 414, "path too long", NULL);
        if (!realpath(want, real)) continue; /* not in this root */
        if (strncmp(real, s->roots[i], rl) || (real[rl] != '/' && real[rl] != 0))
            return send_error(c, 403, "forbidden", NULL);
        struct stat sb;
        if (stat(real, &sb)) continue;
        if (S_ISDIR(sb.st_mode)) {
            size_t l = strlen(real);
            if (l + 12 >= sizeof real) continue;
            memcpy(real + l, "/index.html", 12);
            if (stat(real, &sb) || !S_ISREG(sb.st_mode)) continue;
        }
        if (!S_ISREG(sb.st_mode)) return send_error(c, 403, "forbidden", NULL);
        int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return send_error(c, 403, "forbidden", NULL);
        if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) { close(fd); return send_error(c, 403, "forbidden", NULL); }
        enum MHD_Result ret = send_ranged(c, (uint64_t)sb.st_size, mime(real), from_fd, &fd);
        if (fd >= 0) close(fd);
        return ret;
    }
    return send_error(c, 404, "not found", NULL);
}

/* A 302 to loc (a path on this server). */
static enum MHD_Result send_redirect(struct MHD_Connection *c, const char *loc)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_FOUND, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* `GET /` when the options name a home page (the map): 302 to it, with
 * ?pmtiles= passed on (a SITE's index.html, its dashboard, stays at
 * /index.html). */
static enum MHD_Result redirect_home(gf_server *s, struct MHD_Connection *c)
{
    char loc[512];
    const char *q = NULL;
    /* ?pmtiles= (the page's choice of archive) is passed on when it is a
     * plain name, which needs no escaping in a Location */
    const char *pm = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pmtiles");
    if (pm && pm[0] && strlen(pm) < 256 && strspn(pm, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/") == strlen(pm))
        q = pm;
    int k = snprintf(loc, sizeof loc, "/%s%s%s", s->o.home, q ? "?pmtiles=" : "", q ? q : "");
    if (k < 0 || (size_t)k >= sizeof loc) return send_error(c, 500, "home path too long", NULL);
    return send_redirect(c, loc);
}

static enum MHD_Result static_route(gf_server *s, struct MHD_Connection *c, const gf_serve_route *r)
{
    /* an archive by its file name */
    held *h;
    uint64_t size;
    const uint8_t *bytes;
    if (r->pathlen > 8 && !memcmp(r->path + r->pathlen - 8, ".pmtiles", 8) &&
        (h = find_archive(s, r->path, r->pathlen - 8))) {
        map_read *m;
        if (!(bytes = gf_serve_archive_bytes(h->a, &size)) || !(m = malloc(sizeof *m))) {
            held_release(s, h);
            return send_error(c, bytes ? 500 : 404, bytes ? "out of memory" : "not found", NULL);
        }
        int taken = 0;
        *m = (map_read){s, h, bytes, size, &taken};
        enum MHD_Result ret = send_ranged(c, size, "application/octet-stream", from_map, m);
        if (!taken) map_read_free(m); /* no response took it (416, or a failure) */
        return ret;
    }
    if (s->o.home && r->pathlen == 0) return redirect_home(s, c);
    /* the map page opens adresses.pmtiles unless told: point it at the first archive */
    if (s->o.map_page && r->pathlen == 0 && !MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pmtiles")) {
        const char *first = NULL;
        int has_default = 0;
        for (int i = 0; i < s->o.narchives; i++) {
            if (!gf_serve_archive_is_pmtiles(s->o.archives[i])) continue;
            const char *n = s->slots[i].name;
            if (!first) first = n;
            if (!strcmp(n, "adresses")) has_default = 1;
        }
        if (first && !has_default) {
            char loc[256];
            snprintf(loc, sizeof loc, "/?pmtiles=%s.pmtiles", first);
            return send_redirect(c, loc);
        }
    }
    return file(s, c, r);
}

/* ---- batch CSV ---------------------------------------------------------------- */

static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                  const char *content_type, const char *transfer_encoding, const char *data,
                                  uint64_t off, size_t size)
{
    (void)kind; (void)filename; (void)content_type; (void)transfer_encoding;
    upload *u = cls;
    if (!key) return MHD_YES;
    if (!strcmp(key, "data")) {
        u->has_data = 1;
        for (size_t done = 0; done < size;) {
            ssize_t w = write(u->fd, data + done, size - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                u->bad = 500;
                snprintf(u->bad_msg, sizeof u->bad_msg, "cannot spool the upload: %s", strerror(errno));
                return MHD_NO;
            }
            done += (size_t)w;
        }
        return MHD_YES;
    }
    int f = 0;
    while (f < F_N && strcmp(key, field_names[f])) f++;
    if (f == F_N) return MHD_YES; /* the service's other fields (indexes, ...): ignored */
    /* columns and result_columns may be repeated (one column each): joined with ',' */
    if (off == 0 && u->flen[f]) {
        if (f == F_COLUMNS || f == F_RCOLS) {
            if (u->flen[f] + 1 >= sizeof u->field[f]) goto toolong;
            u->field[f][u->flen[f]++] = ',';
        } else u->flen[f] = 0;
    }
    if (size >= sizeof u->field[f] - u->flen[f]) goto toolong;
    memcpy(u->field[f] + u->flen[f], data, size);
    u->flen[f] += size;
    u->field[f][u->flen[f]] = 0;
    return MHD_YES;
toolong:
    u->bad = 400;
    snprintf(u->bad_msg, sizeof u->bad_msg, "%s: too long", field_names[f]);
    return MHD_NO;
}

/* ---- the batch answer, streamed --------------------------------------------
 * The pipeline runs on a thread of its own and writes into a pipe; the
 * response reads the pipe as it fills (chunked transfer), so the client
 * gets its first rows while the rest is geocoded, and memory stays flat
 * (a full pipe holds the pipeline back). The rejected-record count, known
 * at the end only, is a trailer. A failure after the first bytes breaks
 * the transfer (no final chunk): the client sees an incomplete answer,
 * never a short one passed as whole. */
typedef struct csv_job {
    gf_server *s;
    held_ix *h;
    gf_ctx *ctx;
    int reverse;
    gf_serve_csv_params fp; /* strings in the upload's fields, which outlive the job */
    char in[PATH_MAX];
    FILE *w;                /* the pipe's write end: the pipeline's */
    int rfd;                /* its read end: the response's */
    pthread_t th;
    int started, joined;
    gf_status st;
    gf_serve_csv_stats cs;
    struct MHD_Response *resp;
    char first[16384];      /* the first bytes, read before answering */
    size_t nfirst, pos;
} csv_job;

static void *csv_job_main(void *arg)
{
    csv_job *j = arg;
    j->st = gf_serve_csv_run(j->ctx, j->h->ix, j->reverse, &j->fp, j->in, j->w, "the answer", &j->cs);
    fclose(j->w); /* the reader sees the end */
    j->w = NULL;
    return NULL;
}

static void csv_job_join(csv_job *j)
{
    if (j->started && !j->joined) {
        pthread_join(j->th, NULL);
        j->joined = 1;
    }
}

static void csv_job_free(csv_job *j)
{
    if (!j) return;
    /* a pipeline still writing (the client went away) gets EPIPE and stops */
    if (j->rfd >= 0) close(j->rfd);
    csv_job_join(j);
    if (j->w) fclose(j->w);
    ix_release(j->s, j->h);
    gf_ctx_destroy(j->ctx);
    free(j);
}

static ssize_t csv_job_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    csv_job *j = cls;
    (void)pos;
    if (j->pos < j->nfirst) {
        size_t n = j->nfirst - j->pos < max ? j->nfirst - j->pos : max;
        memcpy(buf, j->first + j->pos, n);
        j->pos += n;
        return (ssize_t)n;
    }
    ssize_t n;
    do n = read(j->rfd, buf, max);
    while (n < 0 && errno == EINTR);
    if (n > 0) return n;
    /* the end of the pipe: the pipeline is done */
    csv_job_join(j);
    if (n < 0 || j->st != GF_OK) return MHD_CONTENT_READER_END_WITH_ERROR;
    char c[32];
    snprintf(c, sizeof c, "%llu", (unsigned long long)j->cs.rejected);
    MHD_add_response_footer(j->resp, "X-Geoflux-Rejected", c);
    return MHD_CONTENT_READER_END_OF_STREAM;
}

static void upload_free(upload *u)
{
    if (!u) return;
    csv_job_free(u->job); /* before the spooled input goes */
    if (u->pp) MHD_destroy_post_processor(u->pp);
    if (u->fd >= 0) close(u->fd);
    if (u->in[0]) unlink(u->in);
    if (u->out[0]) unlink(u->out);
    if (u->dir[0]) rmdir(u->dir);
    free(u);
}

/* A private directory for the upload, its data file, the form parser.
 * NULL with *code/msg set when the request cannot be taken. */
static upload *upload_start(gf_server *s, struct MHD_Connection *c, unsigned *code, const char **msg)
{
    upload *u = calloc(1, sizeof *u);
    if (!u) { *code = 500; *msg = "out of memory"; return NULL; }
    u->fd = -1;
    const char *tmp = s->o.tmpdir ? s->o.tmpdir : getenv("TMPDIR");
    if (!tmp || !tmp[0]) tmp = "/tmp";
    int k = snprintf(u->dir, sizeof u->dir, "%s/geoflux-serve-XXXXXX", tmp);
    if (k < 0 || (size_t)k >= sizeof u->dir || !mkdtemp(u->dir)) {
        u->dir[0] = 0;
        upload_free(u);
        *code = 500; *msg = "cannot create a directory for the upload";
        return NULL;
    }
    snprintf(u->in, sizeof u->in, "%s/data.csv", u->dir);
    u->fd = open(u->in, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (u->fd < 0) {
        u->in[0] = 0;
        upload_free(u);
        *code = 500; *msg = "cannot spool the upload";
        return NULL;
    }
    u->pp = MHD_create_post_processor(c, 64 * 1024, post_field, u);
    if (!u->pp) {
        upload_free(u);
        *code = 400; *msg = "a multipart/form-data body with a `data` file is expected";
        return NULL;
    }
    return u;
}

/* Replaces the spool file's name by "data" in a message (a temporary
 * name means nothing to the client). */
static void scrub(char *m, size_t msz, const char *tmp)
{
    size_t tl = strlen(tmp);
    char *p;
    while (tl && (p = strstr(m, tmp))) {
        size_t rest = strlen(p + tl);
        memcpy(p, "data", 4);
        memmove(p + 4, p + tl, rest + 1);
        (void)msz;
    }
}

static enum MHD_Result batch(gf_server *s, struct MHD_Connection *c, req *q, int reverse)
{
    upload *u = q->up;
    if (u->pp) {
        if (MHD_destroy_post_processor(u->pp) == MHD_NO && !u->bad) {
            u->pp = NULL;
            return send_error(c, 400, "malformed multipart/form-data body", NULL);
        }
        u->pp = NULL;
    }
    if (u->bad) return send_error(c, u->bad, u->bad_msg, NULL);
    if (!u->has_data) return send_error(c, 400, "data: a CSV file is required", NULL);
    if (close(u->fd)) { u->fd = -1; return send_error(c, 500, "cannot spool the upload", NULL); }
    u->fd = -1;
    worker *w = get_worker(s);
    if (!w) return send_error(c, 500, "out of memory", NULL);
    const char *v[F_N];
    for (int f = 0; f < F_N; f++) v[f] = u->flen[f] ? u->field[f] : NULL;
    gf_serve_csv_params fp = {.columns = v[F_COLUMNS], .citycode = v[F_CITYCODE], .postcode = v[F_POSTCODE],
                              .lat = v[F_LAT], .lon = v[F_LON], .result_columns = v[F_RCOLS]};
    int oom;
    held_ix *h = ix_acquire(s, w, &oom);
    if (!h) return oom ? send_error(c, 500, "out of memory", NULL)
                       : send_error(c, 503, "no geocoding index is loaded (--index or --addresses)", NULL);
    csv_job *j = calloc(1, sizeof *j);
    if (!j) { ix_release(s, h); return send_error(c, 500, "out of memory", NULL); }
    j->s = s;
    j->h = h;
    j->rfd = -1;
    j->reverse = reverse;
    j->fp = fp;
    snprintf(j->in, sizeof j->in, "%s", u->in);
    u->job = j; /* freed with the upload, once the answer is sent or abandoned */
    int fds[2];
    if (gf_ctx_create(&j->ctx)) return send_error(c, 500, "out of memory", NULL);
    gf_ctx_set_log(j->ctx, NULL, NULL, GF_LOG_ERROR + 1);
    if (pipe2(fds, O_CLOEXEC)) return send_error(c, 500, "cannot make a pipe for the answer", NULL);
    j->rfd = fds[0];
    /* a larger pipe (1 MB when the system allows) and buffers: fewer
     * wake-ups between the pipeline's thread and the answer's */
    (void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
    if (!(j->w = fdopen(fds[1], "w"))) { close(fds[1]); return send_error(c, 500, "out of memory", NULL); }
    setvbuf(j->w, NULL, _IOFBF, 256 * 1024);
    if (pthread_create(&j->th, NULL, csv_job_main, j)) return send_error(c, 500, "cannot start the answer", NULL);
    j->started = 1;
    /* the first bytes (the header is written once the stages are built),
     * or the end of the pipe when the run failed before: then its error is
     * the answer */
    ssize_t n;
    do n = read(j->rfd, j->first, sizeof j->first);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        csv_job_join(j);
        gf_status st = j->st ? j->st : GF_ERR_IO;
        char m[512];
        snprintf(m, sizeof m, "%s", j->st && gf_ctx_errmsg(j->ctx) ? gf_ctx_errmsg(j->ctx) : "failed");
        scrub(m, sizeof m, u->in);
        int client = st == GF_ERR_ARG || st == GF_ERR_SCHEMA || st == GF_ERR_PARSE || st == GF_ERR_INPUT ||
                     st == GF_ERR_UNSUPPORTED;
        return send_error(c, client ? 400 : 500, m, NULL);
    }
    j->nfirst = (size_t)n;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256 * 1024, csv_job_read, j, NULL);
    if (!r) return MHD_NO;
    j->resp = r;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/csv; charset=utf-8");
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Trailer", "X-Geoflux-Rejected");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the handler ------------------------------------------------------------ */

static enum MHD_Result dispatch(gf_server *s, struct MHD_Connection *c, req *q, const char *url, const char *method)
{
    gf_serve_route r;
    gf_serve_route_path(url, strlen(url), &r);
    int get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
    int post = !strcmp(method, MHD_HTTP_METHOD_POST);
    if (r.kind == GF_ROUTE_FORBIDDEN) return send_error(c, 403, "forbidden", NULL);
    if (r.kind == GF_ROUTE_SEARCH_CSV || r.kind == GF_ROUTE_REVERSE_CSV) {
        if (!post || !q->up) return send_error(c, 405, "POST a multipart/form-data body", NULL);
        return batch(s, c, q, r.kind == GF_ROUTE_REVERSE_CSV);
    }
    if (!get) return send_error(c, 405, "method not allowed", NULL);
    switch (r.kind) {
    case GF_ROUTE_SEARCH:
    case GF_ROUTE_REVERSE:
    case GF_ROUTE_COMPLETION:
        return api(s, c, r.kind);
    case GF_ROUTE_CAPABILITIES:
        return send_static_text(c, 200, "application/json; charset=utf-8", capabilities);
    case GF_ROUTE_OPENAPI:
        return send_static_text(c, 200, "application/json; charset=utf-8", openapi);
    case GF_ROUTE_TILE:
        return tile(s, c, &r);
    case GF_ROUTE_TILEJSON: {
        held *h = find_archive(s, r.name, r.namelen);
        if (!h) return send_error(c, 404, "no such tileset", NULL);
        char base[300];
        base_url(s, c, base, sizeof base);
        gf_buf b = {0};
        gf_status st = gf_serve_archive_tilejson(h->a, base, &b);
        held_release(s, h);
        if (st) { gf_buf_free(&b); return send_error(c, 500, "out of memory", NULL); }
        return send_json(c, 200, &b);
    }
    case GF_ROUTE_NOTFOUND:
        return send_error(c, 404, "not found", NULL);
    default:
        return static_route(s, c, &r);
    }
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    gf_server *s = cls;
    req *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        *con_cls = q;
        atomic_fetch_add(&s->active, 1);
        /* a declared body larger than allowed is refused before it is read */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *e;
            errno = 0;
            unsigned long long v = strtoull(cl, &e, 10);
            if (errno || *e || v > s->o.max_upload) {
                q->too_large = 1;
                return send_error(c, 413, "request body too large (--max-upload)", NULL);
            }
        }
        if (!strcmp(method, MHD_HTTP_METHOD_POST)) {
            gf_serve_route r;
            gf_serve_route_path(url, strlen(url), &r);
            if (r.kind == GF_ROUTE_SEARCH_CSV || r.kind == GF_ROUTE_REVERSE_CSV) {
                unsigned code;
                const char *msg;
                if (!(q->up = upload_start(s, c, &code, &msg))) return send_error(c, code, msg, NULL);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        /* a batch upload is parsed as it arrives; other bodies are counted and dropped */
        if (*upload_size > s->o.max_upload - q->body) q->too_large = 1;
        else {
            q->body += *upload_size;
            if (q->up && q->up->pp && !q->up->bad && MHD_post_process(q->up->pp, upload_data, *upload_size) == MHD_NO &&
                !q->up->bad) {
                q->up->bad = 400;
                snprintf(q->up->bad_msg, sizeof q->up->bad_msg, "malformed multipart/form-data body");
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->too_large) return send_error(c, 413, "request body too large (--max-upload)", NULL);
    return dispatch(s, c, q, url, method);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    gf_server *s = cls;
    if (*con_cls) {
        upload_free(((req *)*con_cls)->up);
        free(*con_cls);
        *con_cls = NULL;
        atomic_fetch_sub(&s->active, 1);
    }
}

/* ---- start and stop --------------------------------------------------------- */

gf_status gf_serve_start(gf_ctx *ctx, const gf_serve_opts *opts, gf_server **out)
{
    if (!opts || !out) return gf_ctx_err(ctx, GF_ERR_ARG, "serve: no options");
    *out = NULL;
    if (opts->port < 0 || opts->port > 65535) return gf_ctx_err(ctx, GF_ERR_ARG, "serve: port %d out of range", opts->port);
    if (opts->nroots > 16) return gf_ctx_err(ctx, GF_ERR_ARG, "serve: at most 16 served directories");
    gf_server *s = calloc(1, sizeof *s);
    if (!s) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    s->o = *opts;
    if (!s->o.bind) s->o.bind = "127.0.0.1";
    if (s->o.threads <= 0) s->o.threads = 2;
    if (!s->o.max_upload) s->o.max_upload = 50u << 20;
    if (!s->o.max_header) s->o.max_header = 32u << 10;
    if (!s->o.timeout_s) s->o.timeout_s = 30;
    if (!s->o.max_connections) {
        /* A connection may hold two descriptors (its socket, and a file or
         * upload being sent): half of what the process may open, less a
         * reserve for the index, archives and logs, so that reaching the
         * limit refuses new connections instead of failing requests already
         * taken (EMFILE); at most 4096 (the memory of that many
         * connections' header buffers, 32 KiB each, is 128 MiB). */
        struct rlimit rl;
        rlim_t lim = 4096;
        if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
            lim = rl.rlim_cur > 64 + 2 * 16 ? (rl.rlim_cur - 64) / 2 : 16;
        s->o.max_connections = (unsigned)(lim < 4096 ? lim : 4096);
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->wlock, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->wcond, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (opts->index && !(s->ix = calloc(1, sizeof *s->ix))) { free(s); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    if (s->ix) *s->ix = (held_ix){opts->index, NULL, 1, 1};
    if (pthread_key_create(&s->key, NULL)) { free(s->ix); free(s); return gf_ctx_err(ctx, GF_ERR_NOMEM, "pthread_key_create"); }
    s->has_key = 1;
    if (opts->narchives > 0) {
        if (!(s->slots = calloc((size_t)opts->narchives, sizeof *s->slots))) {
            gf_serve_stop(s, 0);
            return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        }
        for (int i = 0; i < opts->narchives; i++) {
            slot *sl = &s->slots[i];
            snprintf(sl->name, sizeof sl->name, "%s", gf_serve_archive_name(opts->archives[i]));
            sl->path = opts->reload_paths ? opts->reload_paths[i] : NULL;
            struct stat sb;
            if (sl->path && !stat(sl->path, &sb)) {
                sl->dev = sb.st_dev;
                sl->ino = sb.st_ino;
                sl->mtime = sb.st_mtim;
            }
            if (!(sl->cur = calloc(1, sizeof *sl->cur))) {
                gf_serve_stop(s, 0);
                return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            }
            *sl->cur = (held){opts->archives[i], 1, 0};
            s->nslots++;
        }
    }
    for (int i = 0; i < opts->nroots; i++) {
        char real[PATH_MAX];
        struct stat sb;
        if (!realpath(opts->roots[i], real) || stat(real, &sb) || !S_ISDIR(sb.st_mode)) {
            gf_status st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: not a directory", opts->roots[i]);
            gf_serve_stop(s, 0);
            return st;
        }
        if (!(s->roots[s->nroots++] = strdup(real))) { gf_serve_stop(s, 0); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    }
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, s->o.bind, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)s->o.port);
        sa = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, s->o.bind, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)s->o.port);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        gf_status st = gf_ctx_err(ctx, GF_ERR_ARG, "--bind: '%s' is not an IPv4 or IPv6 address", s->o.bind);
        gf_serve_stop(s, 0);
        return st;
    }
    errno = 0;
    s->d = MHD_start_daemon(flags, (uint16_t)s->o.port, NULL, NULL, handler, s,
                            MHD_OPTION_SOCK_ADDR, sa,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(s->o.threads > 1 ? s->o.threads : 0),
                            MHD_OPTION_CONNECTION_TIMEOUT, s->o.timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->o.max_header,
                            MHD_OPTION_CONNECTION_LIMIT, s->o.max_connections,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0u,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                            MHD_OPTION_END);
    if (!s->d) {
        int e = errno;
        gf_status st = gf_ctx_err(ctx, GF_ERR_IO, "cannot listen on %s port %d%s%s", s->o.bind, s->o.port,
                                  e ? ": " : "", e ? strerror(e) : "");
        gf_serve_stop(s, 0);
        return st;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : s->o.port;
    if (s->o.index_watch && s->o.nindex_sources > 0) {
        /* the marker as it is now: only a change from here is a new publication */
        if (stat(s->o.index_watch, &s->wseen)) memset(&s->wseen, 0, sizeof s->wseen);
        if (pthread_create(&s->watcher, NULL, watch_main, s)) {
            gf_serve_stop(s, 0);
            return gf_ctx_err(ctx, GF_ERR_NOMEM, "cannot start the index watcher thread");
        }
        s->has_watcher = 1;
    }
    *out = s;
    return GF_OK;
}

int gf_serve_port(const gf_server *s) { return s ? s->port : 0; }

void gf_serve_stop(gf_server *s, unsigned drain_s)
{
    if (!s) return;
    if (s->has_watcher) {
        /* a rebuild under way is finished first (the index builder cannot be interrupted) */
        pthread_mutex_lock(&s->wlock);
        s->wstop = 1;
        pthread_cond_signal(&s->wcond);
        pthread_mutex_unlock(&s->wlock);
        pthread_join(s->watcher, NULL);
    }
    if (s->d) {
        /* stop accepting, let the requests being answered finish */
        MHD_socket ls = MHD_quiesce_daemon(s->d);
        if (ls != MHD_INVALID_SOCKET) close(ls);
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (atomic_load(&s->active) > 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - t0.tv_sec >= (time_t)drain_s) break;
            struct timespec ms = {0, 10 * 1000 * 1000};
            nanosleep(&ms, NULL);
        }
        MHD_stop_daemon(s->d);
    }
    for (worker *w = s->workers, *n; w; w = n) {
        n = w->next;
        worker_free(w);
    }
    for (int i = 0; i < s->nslots; i++) held_release(s, s->slots[i].cur);
    ix_release(s, s->ix);
    free(s->slots);
    for (int i = 0; i < s->nroots; i++) free(s->roots[i]);
    if (s->has_key) pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->wlock);
    pthread_cond_destroy(&s->wcond);
    free(s);
}
