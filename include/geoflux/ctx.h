/* gf_ctx: the object that owns everything a run needs instead of globals:
 * the last error message (with file:line:column where it applies), the log
 * callback, and lazily created per-thread handles for PROJ and GEOS.
 * A gf_ctx is used by one thread at a time; worker threads get their own
 * with gf_ctx_fork(), which shares the log callback of its parent. */
#ifndef GEOFLUX_CTX_H
#define GEOFLUX_CTX_H

#include <stdarg.h>
#include "geoflux/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gf_ctx gf_ctx;

typedef enum gf_log_level {
    GF_LOG_DEBUG = 0,
    GF_LOG_INFO = 1,
    GF_LOG_WARN = 2,
    GF_LOG_ERROR = 3,  /* an error of a row or a feature; the run goes on */
    GF_LOG_SILENT = 4  /* as the minimum level of a sink: nothing passes */
} gf_log_level;

/* Log sink. Called with a complete message (no trailing newline). May be
 * called from worker threads, but never concurrently: the context family
 * serialises calls with one mutex. */
typedef void (*gf_log_fn)(void *user, gf_log_level level, const char *msg);

/* Creates a context. Returns GF_OK or GF_ERR_NOMEM. Caller frees with
 * gf_ctx_destroy(). */
gf_status gf_ctx_create(gf_ctx **out);

/* Creates a child context for a worker thread: own error buffer and own
 * PROJ/GEOS handles, parent's log sink. Caller frees with gf_ctx_destroy()
 * before destroying the parent. */
gf_status gf_ctx_fork(gf_ctx *parent, gf_ctx **out);

/* Frees the context, the objects in its cache and its PROJ/GEOS handles.
 * NULL is a no-op. */
void gf_ctx_destroy(gf_ctx *ctx);

/* For a context that serves several runs (an engine worker's): from now
 * on, ctx logs through parent's sink and repeat counter (parent NULL: its
 * own sink again, which drops everything unless set), and its error is
 * cleared. Not while another thread uses ctx. */
void gf_ctx_share_log(gf_ctx *ctx, gf_ctx *parent);

/* A small cache of objects a context keeps until it is destroyed, for what
 * a worker should create once and reuse across runs (PROJ transformations
 * made with its PROJ context, scratch buffers). gf_ctx_cache_get() returns
 * the object stored under key, or NULL. gf_ctx_cache_put() stores obj
 * under key, and the context then owns it (free_fn(obj) at
 * gf_ctx_destroy(), before the PROJ and GEOS handles go); GF_ERR_ARG when
 * the key is taken or the cache is full (1024 objects), GF_ERR_NOMEM: the
 * caller keeps obj then. gf_ctx_cache_count(): objects held.
 * Why a stage caches rather than frees at end(): an engine worker's context
 * may be serving another run on its own thread while end() runs, and PROJ
 * and GEOS objects must not be touched from two threads at once; an object
 * the cache refused is freed at end() as before, the rare exception. */
void *gf_ctx_cache_get(gf_ctx *ctx, const char *key);
gf_status gf_ctx_cache_put(gf_ctx *ctx, const char *key, void *obj, void (*free_fn)(void *obj));
int gf_ctx_cache_count(const gf_ctx *ctx);

/* Sets the log sink (default: none, messages are dropped) and the minimum
 * level passed to it. */
void gf_ctx_set_log(gf_ctx *ctx, gf_log_fn fn, void *user, gf_log_level min);

/* Records an error (its status and message) and returns st unchanged, so
 * callers can write
 * `return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));`.
 * The status decides the class of the failure and so the exit code (see
 * status.h): choose GF_ERR_INPUT or GF_ERR_OUTPUT, not GF_ERR_IO, when the
 * failing file is one the user named. The arguments may include
 * gf_ctx_errmsg(ctx) or gf_ctx_dep_msg(ctx) of this same context (the
 * message is formatted aside first). */
gf_status gf_ctx_err(gf_ctx *ctx, gf_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The last error message; "" when none. Borrowed: valid until the next
 * gf_ctx_err() on this context. Messages logged by PROJ or GEOS never
 * land here (see gf_ctx_dep_msg()): what a dependency logs while geoflux
 * cleans up after a failure cannot replace the error that caused it. */
const char *gf_ctx_errmsg(const gf_ctx *ctx);

/* The status given with the last gf_ctx_err(); GF_OK when none. */
gf_status gf_ctx_errstatus(const gf_ctx *ctx);

/* The last message PROJ or GEOS logged on this context's handles; "" when
 * none since gf_ctx_dep_clear(). Adapters quote it in their own error
 * (`gf_ctx_err(ctx, GF_ERR_GEOS, "%s: feature %ld: %s", path, i,
 * gf_ctx_dep_msg(ctx))`). Borrowed: valid until the next PROJ/GEOS call on
 * this context. */
const char *gf_ctx_dep_msg(const gf_ctx *ctx);
void gf_ctx_dep_clear(gf_ctx *ctx);

/* Copies the error (message and status) of a child context into ctx (used
 * when a worker fails). */
void gf_ctx_take_error(gf_ctx *ctx, const gf_ctx *child);

void gf_ctx_log(gf_ctx *ctx, gf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gf_ctx_vlog(gf_ctx *ctx, gf_log_level level, const char *fmt, va_list ap);

/* Logs a message that may repeat, under a code: a short stable key such as
 * "row.rejected" or a BAL rule code. When the context family has a repeat
 * limit (gf_ctx_set_log_repeat()), the messages of one code beyond the
 * limit are counted, not formatted nor passed to the sink, and
 * gf_ctx_log_flush() passes one line per such code and level:
 * "... and N more (code X)". code NULL: as gf_ctx_log(). */
void gf_ctx_logc(gf_ctx *ctx, gf_log_level level, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Messages passed per code before counting starts; 0 (the default): all. */
void gf_ctx_set_log_repeat(gf_ctx *ctx, int limit);
/* Passes the "... and N more" lines of the codes counted so far, and
 * starts counting again. */
void gf_ctx_log_flush(gf_ctx *ctx);

/* The PROJ context (PJ_CONTEXT *) of this gf_ctx, created on first use;
 * PROJ's log lines go to gf_ctx_dep_msg(). NULL if PROJ could not create
 * one. Owned by ctx. */
void *gf_ctx_proj(gf_ctx *ctx);

/* The GEOS handle (GEOSContextHandle_t) of this gf_ctx, created on first
 * use; GEOS error messages go to gf_ctx_dep_msg(). Owned by ctx. */
void *gf_ctx_geos(gf_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
