/* The engine: a long-lived pool of worker threads that runs the pipelines
 * of any number of jobs, one after the other or at the same time.
 *
 * Each worker thread owns one gf_ctx for its whole life, so what a context
 * creates lazily (the PROJ context, the GEOS handle, and the objects kept
 * in its cache, gf_ctx_cache_put(): PROJ transformations, scratch buffers)
 * is created once per worker and reused by every run. While a worker
 * serves a run its context logs through the run's context
 * (gf_ctx_share_log()), so messages go where the job's caller wants them.
 *
 * Start and stop hooks run on each worker thread, with its context, when
 * the thread starts and before it ends: the place for per-worker set-up
 * that outlives runs.
 *
 * Runs submit tasks (gf_engine_run()); a task runs to its end on one
 * worker. Tasks of one call never wait for tasks of another call, so runs
 * sharing an engine cannot deadlock each other; a run whose tasks find
 * every worker busy waits for one to free up. */
#ifndef GEOFLUX_ENGINE_H
#define GEOFLUX_ENGINE_H

#include "geoflux/ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gf_engine gf_engine;

typedef struct gf_engine_opts {
    int threads; /* worker threads; <= 0: all cores. 0 threads is not an engine */
    /* Optional, called on each worker thread: start() once before the
     * worker takes any task (a failure makes gf_engine_create() fail with
     * that status), stop() once when the engine is destroyed. worker is
     * 0..threads-1, wctx the worker's own context. */
    gf_status (*worker_start)(void *user, int worker, gf_ctx *wctx);
    void (*worker_stop)(void *user, int worker, gf_ctx *wctx);
    void *hook_user;
} gf_engine_opts;

/* Starts the worker threads. Returns GF_OK with *out (caller frees with
 * gf_engine_destroy()), GF_ERR_NOMEM, GF_ERR_INTERNAL when a thread cannot
 * be created, or the status of a failed worker_start() (message in ctx). */
gf_status gf_engine_create(gf_ctx *ctx, const gf_engine_opts *opts, gf_engine **out);

/* Stops and joins the workers (their stop hooks run), frees their
 * contexts. Must not be called while a run uses the engine. NULL: no-op. */
void gf_engine_destroy(gf_engine *e);

/* Number of worker threads. */
int gf_engine_threads(const gf_engine *e);

/* A task: runs on a worker thread with that worker's context (logging
 * through the caller's context) and its index 0..threads-1. */
typedef void (*gf_task_fn)(void *arg, gf_ctx *wctx, int worker);

/* Runs fn(args[i]) for i in 0..n-1, each on some worker, and returns once
 * every one has returned. Thread-safe: several threads may call it at once
 * on one engine. caller: the context whose log sink the workers use while
 * they run these tasks. Returns GF_OK. */
gf_status gf_engine_run(gf_engine *e, gf_ctx *caller, int n, gf_task_fn fn, void *const *args);

#ifdef __cplusplus
}
#endif
#endif
