/* gf_ctx: error buffer, logging and per-thread PROJ/GEOS handles.
 * This file is the PROJ and GEOS adapter for handle life cycles: their
 * messages are turned into gf_ctx errors or dropped here, nowhere else. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <geos_c.h>
#include <proj.h>

#include "geoflux/ctx.h"

/* Per-code counts of gf_ctx_logc(); codes beyond the table are not limited. */
#define GF_LOG_CODES 128
typedef struct gf_logcode {
    char code[64];
    gf_log_level level;
    uint64_t n;
} gf_logcode;

typedef struct gf_logshare {
    gf_log_fn fn;
    void *user;
    gf_log_level min;
    pthread_mutex_t mu;
    int refs;
    int repeat;  /* 0: no limit */
    int ncodes;
    gf_logcode codes[GF_LOG_CODES];
} gf_logshare;

/* Objects a worker keeps across runs (gf_ctx_cache_put()): one per
 * distinct key (a stage and a pair of CRSs), so a few dozen in practice;
 * the cap only stops a runaway caller. */
#define GF_CTX_CACHE 1024
typedef struct gf_ctx_entry {
    char *key;
    void *obj;
    void (*free_fn)(void *obj);
} gf_ctx_entry;

struct gf_ctx {
    char err[1024];
    gf_status err_st;  /* status given with err */
    char dep[512];     /* last PROJ/GEOS log line, kept apart from err */
    gf_logshare *log;  /* the sink in use: own, or shared with a parent */
    gf_logshare *own;  /* created with the context (gf_ctx_create()); NULL for a fork */
    PJ_CONTEXT *proj;
    GEOSContextHandle_t geos;
    gf_ctx_entry *cache;
    int ncache, capcache;
};

const char *gf_status_str(gf_status st)
{
    switch (st) {
    case GF_OK: return "ok";
    case GF_DONE: return "done";
    case GF_ERR_ARG: return "invalid argument";
    case GF_ERR_IO: return "I/O error";
    case GF_ERR_NOMEM: return "out of memory";
    case GF_ERR_PARSE: return "parse error";
    case GF_ERR_SCHEMA: return "schema error";
    case GF_ERR_PROJ: return "PROJ error";
    case GF_ERR_GEOS: return "GEOS error";
    case GF_ERR_GDAL: return "GDAL error";
    case GF_ERR_SQL: return "SQLite error";
    case GF_ERR_UNSUPPORTED: return "unsupported";
    case GF_ERR_INTERNAL: return "internal error";
    case GF_ERR_INPUT: return "input error";
    case GF_ERR_OUTPUT: return "output error";
    case GF_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

gf_status_class gf_status_class_of(gf_status st)
{
    switch (st) {
    case GF_OK:
    case GF_DONE: return GF_CLASS_NONE;
    case GF_ERR_ARG:
    case GF_ERR_UNSUPPORTED: return GF_CLASS_USAGE;
    case GF_ERR_INPUT:
    case GF_ERR_PARSE:
    case GF_ERR_SCHEMA: return GF_CLASS_INPUT;
    case GF_ERR_OUTPUT:
    case GF_ERR_IO: return GF_CLASS_OUTPUT;
    case GF_ERR_PROJ:
    case GF_ERR_GEOS:
    case GF_ERR_GDAL:
    case GF_ERR_SQL: return GF_CLASS_DEPENDENCY;
    case GF_ERR_NOMEM:
    case GF_ERR_INTERNAL: return GF_CLASS_INTERNAL;
    case GF_ERR_CANCELLED: return GF_CLASS_CANCELLED;
    }
    return GF_CLASS_INTERNAL;
}

const char *gf_status_class_str(gf_status_class c)
{
    switch (c) {
    case GF_CLASS_NONE: return "none";
    case GF_CLASS_USAGE: return "usage";
    case GF_CLASS_INPUT: return "input";
    case GF_CLASS_OUTPUT: return "output";
    case GF_CLASS_DEPENDENCY: return "dependency";
    case GF_CLASS_INTERNAL: return "internal";
    case GF_CLASS_CANCELLED: return "cancelled";
    }
    return "internal";
}

gf_status gf_ctx_create(gf_ctx **out)
{
    gf_ctx *c = calloc(1, sizeof *c);
    if (!c) return GF_ERR_NOMEM;
    c->log = calloc(1, sizeof *c->log);
    if (!c->log) { free(c); return GF_ERR_NOMEM; }
    pthread_mutex_init(&c->log->mu, NULL);
    c->log->refs = 2; /* one for c->log, one for c->own */
    c->log->min = GF_LOG_INFO;
    c->own = c->log;
    *out = c;
    return GF_OK;
}

static void log_ref(gf_logshare *l)
{
    pthread_mutex_lock(&l->mu);
    l->refs++;
    pthread_mutex_unlock(&l->mu);
}

static void log_unref(gf_logshare *l)
{
    pthread_mutex_lock(&l->mu);
    int refs = --l->refs;
    pthread_mutex_unlock(&l->mu);
    if (refs == 0) {
        pthread_mutex_destroy(&l->mu);
        free(l);
    }
}

gf_status gf_ctx_fork(gf_ctx *parent, gf_ctx **out)
{
    gf_ctx *c = calloc(1, sizeof *c);
    if (!c) return GF_ERR_NOMEM;
    c->log = parent->log;
    log_ref(c->log);
    *out = c;
    return GF_OK;
}

void gf_ctx_share_log(gf_ctx *c, gf_ctx *parent)
{
    gf_logshare *to = parent ? parent->log : c->own;
    if (!to || to == c->log) return;
    log_ref(to);
    log_unref(c->log);
    c->log = to;
    c->err[0] = 0;
    c->err_st = GF_OK;
    c->dep[0] = 0;
}

void *gf_ctx_cache_get(gf_ctx *c, const char *key)
{
    for (int i = 0; i < c->ncache; i++)
        if (!strcmp(c->cache[i].key, key)) return c->cache[i].obj;
    return NULL;
}

gf_status gf_ctx_cache_put(gf_ctx *c, const char *key, void *obj, void (*free_fn)(void *obj))
{
    if (c->ncache >= GF_CTX_CACHE || gf_ctx_cache_get(c, key)) return GF_ERR_ARG;
    if (c->ncache == c->capcache) {
        int nc = c->capcache ? c->capcache * 2 : 16;
        gf_ctx_entry *ne = realloc(c->cache, (size_t)nc * sizeof *ne);
        if (!ne) return GF_ERR_NOMEM;
        c->cache = ne;
        c->capcache = nc;
    }
    char *k = strdup(key);
    if (!k) return GF_ERR_NOMEM;
    c->cache[c->ncache++] = (gf_ctx_entry){k, obj, free_fn};
    return GF_OK;
}

int gf_ctx_cache_count(const gf_ctx *c) { return c ? c->ncache : 0; }

void gf_ctx_destroy(gf_ctx *c)
{
    if (!c) return;
    /* cached objects first: PROJ objects belong to c->proj */
    for (int i = c->ncache - 1; i >= 0; i--) {
        if (c->cache[i].free_fn) c->cache[i].free_fn(c->cache[i].obj);
        free(c->cache[i].key);
    }
    free(c->cache);
    if (c->proj) proj_context_destroy(c->proj);
    if (c->geos) GEOS_finish_r(c->geos);
    log_unref(c->log);
    if (c->own) log_unref(c->own);
    free(c);
}

void gf_ctx_set_log(gf_ctx *c, gf_log_fn fn, void *user, gf_log_level min)
{
    pthread_mutex_lock(&c->log->mu);
    c->log->fn = fn;
    c->log->user = user;
    c->log->min = min;
    pthread_mutex_unlock(&c->log->mu);
}

gf_status gf_ctx_err(gf_ctx *c, gf_status st, const char *fmt, ...)
{
    if (!c) return st;
    /* Formatted aside: the arguments may point into c->err or c->dep. */
    char msg[sizeof c->err];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(c->err, msg, sizeof c->err);
    c->err_st = st;
    return st;
}

const char *gf_ctx_errmsg(const gf_ctx *c) { return c ? c->err : ""; }
gf_status gf_ctx_errstatus(const gf_ctx *c) { return c ? c->err_st : GF_OK; }
const char *gf_ctx_dep_msg(const gf_ctx *c) { return c ? c->dep : ""; }
void gf_ctx_dep_clear(gf_ctx *c) { if (c) c->dep[0] = 0; }

void gf_ctx_take_error(gf_ctx *c, const gf_ctx *child)
{
    if (c && child && child->err[0]) {
        memcpy(c->err, child->err, sizeof c->err);
        c->err_st = child->err_st;
    }
}

void gf_ctx_vlog(gf_ctx *c, gf_log_level level, const char *fmt, va_list ap)
{
    if (!c) return;
    gf_logshare *l = c->log;
    pthread_mutex_lock(&l->mu);
    if (l->fn && level >= l->min) {
        char msg[2048];
        vsnprintf(msg, sizeof msg, fmt, ap);
        l->fn(l->user, level, msg);
    }
    pthread_mutex_unlock(&l->mu);
}

void gf_ctx_log(gf_ctx *c, gf_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gf_ctx_vlog(c, level, fmt, ap);
    va_end(ap);
}

void gf_ctx_logc(gf_ctx *c, gf_log_level level, const char *code, const char *fmt, ...)
{
    if (!c) return;
    gf_logshare *l = c->log;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&l->mu);
    if (l->fn && level >= l->min) {
        gf_logcode *k = NULL;
        if (code && l->repeat > 0) {
            for (int i = 0; i < l->ncodes && !k; i++)
                if (l->codes[i].level == level && !strncmp(l->codes[i].code, code, sizeof l->codes[i].code - 1))
                    k = &l->codes[i];
            if (!k && l->ncodes < GF_LOG_CODES) {
                k = &l->codes[l->ncodes++];
                snprintf(k->code, sizeof k->code, "%s", code);
                k->level = level;
                k->n = 0;
            }
        }
        if (!k || k->n++ < (uint64_t)l->repeat) {
            char msg[2048];
            vsnprintf(msg, sizeof msg, fmt, ap);
            l->fn(l->user, level, msg);
        }
    }
    pthread_mutex_unlock(&l->mu);
    va_end(ap);
}

void gf_ctx_set_log_repeat(gf_ctx *c, int limit)
{
    pthread_mutex_lock(&c->log->mu);
    c->log->repeat = limit > 0 ? limit : 0;
    pthread_mutex_unlock(&c->log->mu);
}

void gf_ctx_log_flush(gf_ctx *c)
{
    if (!c) return;
    gf_logshare *l = c->log;
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->ncodes; i++) {
        gf_logcode *k = &l->codes[i];
        if (l->fn && k->n > (uint64_t)l->repeat) {
            char msg[160];
            snprintf(msg, sizeof msg, "... and %llu more (code %s)", (unsigned long long)(k->n - (uint64_t)l->repeat),
                     k->code);
            l->fn(l->user, k->level, msg);
        }
    }
    l->ncodes = 0;
    pthread_mutex_unlock(&l->mu);
}

static void proj_quiet(void *user, int level, const char *msg)
{
    (void)level;
    gf_ctx *c = user;
    /* Kept apart from the error: the caller quotes it in its own message. */
    snprintf(c->dep, sizeof c->dep, "%s", msg);
}

void *gf_ctx_proj(gf_ctx *c)
{
    if (!c->proj) {
        c->proj = proj_context_create();
        if (c->proj) proj_log_func(c->proj, c, proj_quiet);
    }
    return c->proj;
}

static void geos_msg(const char *msg, void *user)
{
    gf_ctx *c = user;
    snprintf(c->dep, sizeof c->dep, "%s", msg);
}

void *gf_ctx_geos(gf_ctx *c)
{
    if (!c->geos) {
        c->geos = GEOS_init_r();
        if (c->geos) {
            GEOSContext_setErrorMessageHandler_r(c->geos, geos_msg, c);
            GEOSContext_setNoticeMessageHandler_r(c->geos, NULL, NULL);
        }
    }
    return c->geos;
}
