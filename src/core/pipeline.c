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

/* lines of a profile: the source, each stage, each sink, the commit wait */
#define PROF_NLINES(p) (2 + (p)->nstages + (p)->nsinks)
_Static_assert(2 + GF_MAX_STAGES + GF_MAX_SINKS <= GF_PROF_MAX_LINES, "a profile holds every line");

/* A profile line's counters, one set per worker (and one for the main
 * thread's finish()), added up after the run. */
typedef struct gf_prof_acc {
    uint64_t cpu_ns, wait_ns, rows, batches;
} gf_prof_acc;

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
    /* profile (opts.profile): the last run's, once it ended */
    gf_prof_acc prof[2 + GF_MAX_STAGES + GF_MAX_SINKS];
    double prof_process_s;
    int prof_threads, prof_done;
};

typedef struct gf_worker {
    gf_pipeline *p;
    int idx;
    gf_ctx *ctx; /* the engine worker's, during the task */
    gf_batch *batch;
    gf_buf bufs[GF_MAX_SINKS];
    gf_prof_acc prof[2 + GF_MAX_STAGES + GF_MAX_SINKS]; /* opts.profile: this worker's share */
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

static uint64_t clock_ns(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* One clock read pair per part and batch: prof_begin() before, prof_end()
 * after (both no-ops without opts.profile). */
static uint64_t prof_begin(const gf_pipeline *p) { return p->opts.profile ? clock_ns(CLOCK_THREAD_CPUTIME_ID) : 0; }
static void prof_end(const gf_pipeline *p, gf_prof_acc *a, uint64_t t0, const gf_batch *b)
{
    if (!p->opts.profile) return;
    a->cpu_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
    if (b) {
        a->rows += b->n + b->nrej;
        a->batches++;
    }
}

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
        uint64_t t = prof_begin(p);
        gf_status st = p->src_vt->next(p->src, w->ctx, b);
        prof_end(p, &w->prof[0], t, st == GF_OK ? b : NULL);
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
        /* (a line counts b->n + b->nrej after its part: rejected rows
         * move from n to nrej, the sum is the batch's rows read) */
        for (int i = 0; i < p->nstages && st == GF_OK; i++) {
            t = prof_begin(p);
            st = p->stages[i].vt->run(p->stages[i].st, w->ctx, w->idx, b);
            gf_batch_compact(b);
            prof_end(p, &w->prof[1 + i], t, b);
        }
        gf_prof_acc *sink_prof = &w->prof[1 + p->nstages];
        for (int i = 0; i < p->nsinks && st == GF_OK; i++) {
            w->bufs[i].len = 0;
            t = prof_begin(p);
            if (p->sinks[i].vt->encode)
                st = p->sinks[i].vt->encode(p->sinks[i].st, w->ctx, w->idx, b, &w->bufs[i]);
            prof_end(p, &sink_prof[i], t, b);
        }

        /* 3. Commit in sequence order. */
        t = prof_begin(p);
        uint64_t wall = p->opts.profile ? clock_ns(CLOCK_MONOTONIC) : 0;
        pthread_mutex_lock(&p->commit_mu);
        while (!p->failed && p->next_commit != b->seq)
            pthread_cond_wait(&p->commit_cv, &p->commit_mu);
        if (p->opts.profile) {
            gf_prof_acc *a = &w->prof[1 + p->nstages + p->nsinks];
            a->wait_ns += clock_ns(CLOCK_MONOTONIC) - wall;
            prof_end(p, a, t, b);
        }
        if (p->failed) {
            pthread_mutex_unlock(&p->commit_mu);
            break;
        }
        if (st != GF_OK) {
            fail_locked(p, w, st);
            pthread_mutex_unlock(&p->commit_mu);
            break;
        }
        for (int i = 0; i < p->nsinks && st == GF_OK; i++) {
            t = prof_begin(p);
            st = p->sinks[i].vt->commit(p->sinks[i].st, w->ctx, b, &w->bufs[i]);
            /* the sink's batch was counted at encode(): CPU only here */
            prof_end(p, &sink_prof[i], t, NULL);
        }
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
    memset(p->prof, 0, sizeof p->prof);
    p->prof_done = 0;
    uint64_t proc0 = p->opts.profile ? clock_ns(CLOCK_PROCESS_CPUTIME_ID) : 0;

    if (is_cancelled(p)) st = cancelled_err(p->ctx);
    for (int i = 0; i < p->nstages && st == GF_OK; i++)
        if (p->stages[i].vt->start)
            st = p->stages[i].vt->start(p->stages[i].st, p->ctx, &p->schema, nw);
    for (int i = 0; i < p->nsinks && st == GF_OK; i++) {
        st = p->sinks[i].vt->begin(p->sinks[i].st, p->ctx, &p->schema, nw);
        if (st == GF_OK) p->sinks[i].begun = 1;
    }

    /* the rows in flight, not each worker's, are fixed: -j 8 holds what
     * -j 1 holds (the batch arenas, columns and encoded buffers are most
     * of a worker's memory: 10 MB at 4096 BAL rows) */
    size_t batch_rows = p->opts.batch_rows;
    if (!batch_rows) {
        batch_rows = GF_BATCH_ROWS / (size_t)(nw > 0 ? nw : 1);
        if (batch_rows < GF_BATCH_MIN_ROWS) batch_rows = GF_BATCH_MIN_ROWS;
    }
    gf_worker *ws = calloc((size_t)nw, sizeof *ws);
    void **args = calloc((size_t)nw, sizeof *args);
    if (!ws || !args) st = gf_ctx_err(p->ctx, GF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nw && st == GF_OK; i++) {
        ws[i].p = p;
        ws[i].idx = i;
        args[i] = &ws[i];
        st = gf_batch_create(&p->schema, batch_rows, &ws[i].batch);
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
        if (p->sinks[i].vt->start_finish) st = p->sinks[i].vt->start_finish(p->sinks[i].st, p->ctx);
    /* the sinks finishing in the background last: the others overlap them */
    for (int bg = 0; bg < 2; bg++)
        for (int i = 0; i < p->nsinks && st == GF_OK; i++)
            if (p->sinks[i].vt->finish && (p->sinks[i].vt->start_finish != NULL) == bg) {
                uint64_t t = prof_begin(p);
                st = p->sinks[i].vt->finish(p->sinks[i].st, p->ctx);
                prof_end(p, &p->prof[1 + p->nstages + i], t, NULL);
            }
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
    if (p->opts.profile) { /* the workers are done: their counters are ours to read */
        for (int i = 0; i < nw && ws; i++)
            for (int k = 0; k < PROF_NLINES(p); k++) {
                p->prof[k].cpu_ns += ws[i].prof[k].cpu_ns;
                p->prof[k].wait_ns += ws[i].prof[k].wait_ns;
                p->prof[k].rows += ws[i].prof[k].rows;
                p->prof[k].batches += ws[i].prof[k].batches;
            }
        p->prof_process_s = (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - proc0) * 1e-9;
        p->prof_threads = nw;
        p->prof_done = 1;
    }
    gf_engine_destroy(own);
    for (int i = 0; i < nw && ws; i++) {
        gf_batch_destroy(ws[i].batch);
        for (int k = 0; k < GF_MAX_SINKS; k++) gf_buf_free(&ws[i].bufs[k]);
    }
    free(ws);
    free(args);
    return st;
}

gf_status gf_pipeline_profile_get(const gf_pipeline *p, gf_pipeline_profile *out)
{
    memset(out, 0, sizeof *out);
    if (!p->opts.profile) return gf_ctx_err(p->ctx, GF_ERR_ARG, "the pipeline was made without a profile");
    if (!p->prof_done) return gf_ctx_err(p->ctx, GF_ERR_ARG, "the pipeline has not run");
    int n = 0;
    out->line[n++] = (gf_prof_line){.part = GF_PROF_SOURCE, .name = p->src_vt->name};
    for (int i = 0; i < p->nstages; i++)
        out->line[n++] = (gf_prof_line){.part = GF_PROF_STAGE, .index = i, .name = p->stages[i].vt->name};
    for (int i = 0; i < p->nsinks; i++)
        out->line[n++] = (gf_prof_line){.part = GF_PROF_SINK, .index = i, .name = p->sinks[i].vt->name};
    out->line[n++] = (gf_prof_line){.part = GF_PROF_COMMIT_WAIT, .name = "commit wait"};
    for (int k = 0; k < n; k++) {
        out->line[k].rows = p->prof[k].rows;
        out->line[k].batches = p->prof[k].batches;
        out->line[k].cpu_s = (double)p->prof[k].cpu_ns * 1e-9;
        out->line[k].wait_s = (double)p->prof[k].wait_ns * 1e-9;
    }
    out->nlines = n;
    out->threads = p->prof_threads;
    out->rows = p->stats.read;
    out->process_cpu_s = p->prof_process_s;
    return GF_OK;
}
