/* The streaming pipeline: source -> stages (worker threads) -> sinks in order.
 * See include/geoflux/pipeline.h for the threading model. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "geoflux/engine.h"
#include "geoflux/pipeline.h"

#define GF_MAX_STAGES 16
#define GF_MAX_SINKS 8

typedef struct gf_stage_slot { const gf_stage_vt *vt; void *st; } gf_stage_slot;
typedef struct gf_sink_slot { const gf_sink_vt *vt; void *st; int begun; } gf_sink_slot;

struct gf_pipeline {
    gf_ctx *ctx;
    gf_pipeline_opts opts;
    const gf_source_vt *src_vt;
    void *src;
    void (*src_free)(void *);
    gf_schema schema;
    gf_stage_slot stages[GF_MAX_STAGES];
    int nstages;
    gf_sink_slot sinks[GF_MAX_SINKS];
    int nsinks;

    /* run state */
    pthread_mutex_t src_mu, commit_mu;
    pthread_cond_t commit_cv;
    uint64_t next_seq, next_commit;
    int src_done, failed;
    int cancelled; /* gf_pipeline_cancel(): read and written with atomics */
    gf_status fail_st;
    gf_run_stats stats;
    struct timespec t0;
};

typedef struct gf_worker {
    gf_pipeline *p;
    int idx;
    gf_ctx *ctx; /* the engine worker's, during the task */
    gf_batch *batch;
    gf_buf bufs[GF_MAX_SINKS];
} gf_worker;

int gf_ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

gf_status gf_pipeline_create(gf_ctx *ctx, const gf_pipeline_opts *opts, gf_pipeline **out)
{
    gf_pipeline *p = calloc(1, sizeof *p);
    if (!p) return GF_ERR_NOMEM;
    p->ctx = ctx;
    if (opts) p->opts = *opts;
    if (p->opts.threads <= 0) p->opts.threads = gf_ncpus();
    if (p->opts.batch_rows == 0) p->opts.batch_rows = GF_BATCH_ROWS;
    *out = p;
    return GF_OK;
}

void gf_pipeline_destroy(gf_pipeline *p)
{
    if (!p) return;
    if (p->src_free) p->src_free(p->src);
    for (int i = 0; i < p->nstages; i++)
        if (p->stages[i].vt->destroy) p->stages[i].vt->destroy(p->stages[i].st);
    for (int i = 0; i < p->nsinks; i++)
        if (p->sinks[i].vt->destroy) p->sinks[i].vt->destroy(p->sinks[i].st);
    free(p);
}

gf_status gf_pipeline_set_source(gf_pipeline *p, const gf_source_vt *vt, void *st,
                                 const gf_schema *schema, void (*free_fn)(void *))
{
    p->src_vt = vt;
    p->src = st;
    p->src_free = free_fn;
    p->schema = *schema;
    return GF_OK;
}

gf_status gf_pipeline_add_stage(gf_pipeline *p, const gf_stage_vt *vt, void *st)
{
    if (p->nstages >= GF_MAX_STAGES) return gf_ctx_err(p->ctx, GF_ERR_ARG, "too many stages");
    p->stages[p->nstages++] = (gf_stage_slot){vt, st};
    return GF_OK;
}

gf_status gf_pipeline_add_sink(gf_pipeline *p, const gf_sink_vt *vt, void *st)
{
    if (p->nsinks >= GF_MAX_SINKS) return gf_ctx_err(p->ctx, GF_ERR_ARG, "too many outputs");
    p->sinks[p->nsinks++] = (gf_sink_slot){vt, st, 0};
    return GF_OK;
}

void gf_pipeline_set_engine(gf_pipeline *p, gf_engine *e) { p->opts.engine = e; }

const gf_schema *gf_pipeline_schema(const gf_pipeline *p) { return &p->schema; }

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* Records the first failure and wakes everybody. Call with commit_mu held. */
static void fail_locked(gf_pipeline *p, gf_worker *w, gf_status st)
{
    if (!p->failed) {
        p->failed = 1;
        p->fail_st = st;
        gf_ctx_take_error(p->ctx, w->ctx);
    }
    pthread_cond_broadcast(&p->commit_cv);
}

void gf_pipeline_cancel(gf_pipeline *p)
{
    __atomic_store_n(&p->cancelled, 1, __ATOMIC_SEQ_CST);
}

static int is_cancelled(gf_pipeline *p) { return __atomic_load_n(&p->cancelled, __ATOMIC_SEQ_CST); }

static gf_status cancelled_err(gf_ctx *ctx)
{
    return gf_ctx_err(ctx, GF_ERR_CANCELLED, "the run was cancelled");
}

static void fail(gf_pipeline *p, gf_worker *w, gf_status st)
{
    pthread_mutex_lock(&p->commit_mu);
    fail_locked(p, w, st);
    pthread_mutex_unlock(&p->commit_mu);
}

static void worker_main(void *arg, gf_ctx *wctx, int engine_worker)
{
    (void)engine_worker;
    gf_worker *w = arg;
    gf_pipeline *p = w->p;
    gf_batch *b = w->batch;
    w->ctx = wctx;
    for (;;) {
        /* 1. Pull the next batch under the source lock. */
        pthread_mutex_lock(&p->src_mu);
        pthread_mutex_lock(&p->commit_mu);
        int stop = p->failed;
        pthread_mutex_unlock(&p->commit_mu);
        if (!stop && is_cancelled(p)) {
            pthread_mutex_unlock(&p->src_mu);
            fail(p, w, cancelled_err(w->ctx));
            break;
        }
        if (stop || p->src_done) {
            pthread_mutex_unlock(&p->src_mu);
            break;
        }
        gf_batch_reset(b);
        gf_status st = p->src_vt->next(p->src, w->ctx, b);
        if (st == GF_DONE) {
            p->src_done = 1;
            pthread_mutex_unlock(&p->src_mu);
            break;
        }
        if (st != GF_OK) {
            p->src_done = 1;
            pthread_mutex_unlock(&p->src_mu);
            fail(p, w, st);
            break;
        }
        b->seq = p->next_seq++;
        pthread_mutex_unlock(&p->src_mu);

        /* 2. Middle stages and encoders, in parallel with other workers. */
        for (int i = 0; i < p->nstages && st == GF_OK; i++) {
            st = p->stages[i].vt->run(p->stages[i].st, w->ctx, w->idx, b);
            gf_batch_compact(b);
        }
        for (int i = 0; i < p->nsinks && st == GF_OK; i++) {
            w->bufs[i].len = 0;
            if (p->sinks[i].vt->encode)
                st = p->sinks[i].vt->encode(p->sinks[i].st, w->ctx, w->idx, b, &w->bufs[i]);
        }

        /* 3. Commit in sequence order. */
        pthread_mutex_lock(&p->commit_mu);
        while (!p->failed && p->next_commit != b->seq)
            pthread_cond_wait(&p->commit_cv, &p->commit_mu);
        if (p->failed) {
            pthread_mutex_unlock(&p->commit_mu);
            break;
        }
        if (st != GF_OK) {
            fail_locked(p, w, st);
            pthread_mutex_unlock(&p->commit_mu);
            break;
        }
        for (int i = 0; i < p->nsinks && st == GF_OK; i++)
            st = p->sinks[i].vt->commit(p->sinks[i].st, w->ctx, b, &w->bufs[i]);
        if (st != GF_OK) {
            fail_locked(p, w, st);
            pthread_mutex_unlock(&p->commit_mu);
            break;
        }
        p->stats.written += b->n;
        p->stats.rejected += b->nrej;
        for (size_t r = 0; r < b->n; r++) {
            uint32_t f = b->flags[r];
            p->stats.invalid_kept += (f & GF_ROW_INVALID) != 0;
            p->stats.with_warnings += (f & GF_ROW_WARN) != 0;
            p->stats.no_position += (f & GF_ROW_HAS_POS) == 0;
            p->stats.pos_mismatch += (f & GF_ROW_POS_MISMATCH) != 0;
        }
        p->next_commit++;
        if (p->opts.progress) {
            p->stats.read = p->stats.written + p->stats.rejected;
            p->stats.seconds = elapsed(&p->t0);
            p->opts.progress(p->opts.progress_user, &p->stats);
        }
        pthread_cond_broadcast(&p->commit_cv);
        pthread_mutex_unlock(&p->commit_mu);
    }
    w->ctx = NULL;
}

gf_status gf_pipeline_run(gf_pipeline *p, gf_run_stats *stats)
{
    gf_status st = GF_OK;
    gf_engine *e = p->opts.engine, *own = NULL;
    int nw = p->opts.threads;
    if (!p->src_vt) return gf_ctx_err(p->ctx, GF_ERR_ARG, "pipeline has no source");
    if (e && nw > gf_engine_threads(e)) nw = gf_engine_threads(e);
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    memset(&p->stats, 0, sizeof p->stats);

    if (is_cancelled(p)) st = cancelled_err(p->ctx);
    for (int i = 0; i < p->nstages && st == GF_OK; i++)
        if (p->stages[i].vt->start)
            st = p->stages[i].vt->start(p->stages[i].st, p->ctx, &p->schema, nw);
    for (int i = 0; i < p->nsinks && st == GF_OK; i++) {
        st = p->sinks[i].vt->begin(p->sinks[i].st, p->ctx, &p->schema, nw);
        if (st == GF_OK) p->sinks[i].begun = 1;
    }

    gf_worker *ws = calloc((size_t)nw, sizeof *ws);
    void **args = calloc((size_t)nw, sizeof *args);
    if (!ws || !args) st = gf_ctx_err(p->ctx, GF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nw && st == GF_OK; i++) {
        ws[i].p = p;
        ws[i].idx = i;
        args[i] = &ws[i];
        st = gf_batch_create(&p->schema, p->opts.batch_rows, &ws[i].batch);
        if (st) gf_ctx_err(p->ctx, st, "cannot allocate worker %d", i);
    }
    /* without an engine: one of our own for this run, destroyed after
     * end() (stages free there what they made with the workers' contexts) */
    if (st == GF_OK && !e) {
        gf_engine_opts eo = {.threads = nw};
        if ((st = gf_engine_create(p->ctx, &eo, &own)) == GF_OK) e = own;
    }

    if (st == GF_OK) {
        pthread_mutex_init(&p->src_mu, NULL);
        pthread_mutex_init(&p->commit_mu, NULL);
        pthread_cond_init(&p->commit_cv, NULL);
        p->next_seq = p->next_commit = 0;
        p->src_done = p->failed = 0;
        st = gf_engine_run(e, p->ctx, nw, worker_main, args);
        if (p->failed) st = p->fail_st;
        pthread_mutex_destroy(&p->src_mu);
        pthread_mutex_destroy(&p->commit_mu);
        pthread_cond_destroy(&p->commit_cv);
    }

    /* end() runs for every stage, even after a failure: it frees per-run
     * state. abort() first tells a failed run apart. */
    if (st != GF_OK)
        for (int i = 0; i < p->nstages; i++)
            if (p->stages[i].vt->abort) p->stages[i].vt->abort(p->stages[i].st);
    for (int i = 0; i < p->nstages; i++)
        if (p->stages[i].vt->end) {
            gf_status s2 = p->stages[i].vt->end(p->stages[i].st, p->ctx);
            if (st == GF_OK) st = s2;
        }
    /* two-phase commit: every output written and closed, then all renamed;
     * a cancellation up to the first rename discards them all */
    for (int i = 0; i < p->nsinks && st == GF_OK; i++)
        if (p->sinks[i].vt->finish) st = p->sinks[i].vt->finish(p->sinks[i].st, p->ctx);
    if (st == GF_OK && is_cancelled(p)) st = cancelled_err(p->ctx);
    for (int i = 0; i < p->nstages && st == GF_OK; i++)
        if (p->stages[i].vt->publish) st = p->stages[i].vt->publish(p->stages[i].st, p->ctx);
    for (int i = p->nsinks - 1; i >= 0 && st == GF_OK; i--)
        if (p->sinks[i].vt->publish) st = p->sinks[i].vt->publish(p->sinks[i].st, p->ctx);
    if (st != GF_OK)
        for (int i = 0; i < p->nsinks; i++)
            if (p->sinks[i].begun && p->sinks[i].vt->abort) p->sinks[i].vt->abort(p->sinks[i].st);

    p->stats.read = p->src_vt->rows_read ? p->src_vt->rows_read(p->src)
                                         : p->stats.written + p->stats.rejected;
    p->stats.seconds = elapsed(&p->t0);
    if (stats) *stats = p->stats;
    gf_engine_destroy(own);
    for (int i = 0; i < nw && ws; i++) {
        gf_batch_destroy(ws[i].batch);
        for (int k = 0; k < GF_MAX_SINKS; k++) gf_buf_free(&ws[i].bufs[k]);
    }
    free(ws);
    free(args);
    return st;
}
