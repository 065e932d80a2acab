/* gf_ctx: error buffer, logging and per-thread PROJ/GEOS handles.
 * This file is the PROJ and GEOS adapter for handle life cycles: their
 * messages are turned into gf_ctx errors or dropped here, nowhere else. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <geos_c.h>
#include <proj.h>

#include "geoflux/ctx.h"

typedef struct gf_logshare {
    gf_log_fn fn;
    void *user;
    gf_log_level min;
    pthread_mutex_t mu;
    int refs;
} gf_logshare;

struct gf_ctx {
    char err[1024];
    gf_logshare *log;
    PJ_CONTEXT *proj;
    GEOSContextHandle_t geos;
    pthread_mutex_t refmu; /* guards log->refs in the root */
    gf_ctx *root;
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
    }
    return "unknown status";
}

gf_status gf_ctx_create(gf_ctx **out)
{
    gf_ctx *c = calloc(1, sizeof *c);
    if (!c) return GF_ERR_NOMEM;
    c->log = calloc(1, sizeof *c->log);
    if (!c->log) { free(c); return GF_ERR_NOMEM; }
    pthread_mutex_init(&c->log->mu, NULL);
    c->log->refs = 1;
    c->log->min = GF_LOG_INFO;
    c->root = c;
    *out = c;
    return GF_OK;
}

gf_status gf_ctx_fork(gf_ctx *parent, gf_ctx **out)
{
    gf_ctx *c = calloc(1, sizeof *c);
    if (!c) return GF_ERR_NOMEM;
    c->log = parent->log;
    c->root = parent->root;
    pthread_mutex_lock(&c->log->mu);
    c->log->refs++;
    pthread_mutex_unlock(&c->log->mu);
    *out = c;
    return GF_OK;
}

void gf_ctx_destroy(gf_ctx *c)
{
    if (!c) return;
    if (c->proj) proj_context_destroy(c->proj);
    if (c->geos) GEOS_finish_r(c->geos);
    pthread_mutex_lock(&c->log->mu);
    int refs = --c->log->refs;
    pthread_mutex_unlock(&c->log->mu);
    if (refs == 0) {
        pthread_mutex_destroy(&c->log->mu);
        free(c->log);
    }
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
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return st;
}

const char *gf_ctx_errmsg(const gf_ctx *c) { return c ? c->err : ""; }

void gf_ctx_take_error(gf_ctx *c, const gf_ctx *child)
{
    if (c && child && child->err[0]) memcpy(c->err, child->err, sizeof c->err);
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

static void proj_quiet(void *user, int level, const char *msg)
{
    (void)level;
    gf_ctx *c = user;
    /* Keep PROJ's last message as context for the error the caller raises. */
    snprintf(c->err, sizeof c->err, "PROJ: %s", msg);
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
    snprintf(c->err, sizeof c->err, "GEOS: %s", msg);
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
