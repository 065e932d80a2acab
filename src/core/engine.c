/* The engine: worker threads that outlive runs (see include/geoflux/engine.h).
 * One mutex guards a FIFO of task groups (one group per gf_engine_run()
 * call); a worker takes the next task of the oldest group, runs it without
 * the lock, and counts it done in its group. */
#include <pthread.h>
#include <stdlib.h>

#include "geoflux/engine.h"
#include "geoflux/pipeline.h"

typedef struct gf_tgroup {
    gf_task_fn fn;
    void *const *args;
    int n, next, done;
    gf_ctx *caller;
    pthread_cond_t done_cv;
    struct gf_tgroup *link;
} gf_tgroup;

typedef struct gf_eworker {
    gf_engine *e;
    int idx;
    gf_ctx *ctx;
    gf_status start_st;
} gf_eworker;

struct gf_engine {
    int nthreads, started;
    pthread_t *th;
    gf_eworker *w;
    gf_engine_opts o;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, ready_cv;
    gf_tgroup *head, *tail;
    int ready, stop;
};

static void *worker_main(void *arg)
{
    gf_eworker *w = arg;
    gf_engine *e = w->e;
    gf_status st = e->o.worker_start ? e->o.worker_start(e->o.hook_user, w->idx, w->ctx) : GF_OK;
    pthread_mutex_lock(&e->mu);
    w->start_st = st;
    e->ready++;
    pthread_cond_broadcast(&e->ready_cv);
    pthread_mutex_unlock(&e->mu);
    for (;;) {
        pthread_mutex_lock(&e->mu);
        while (!e->stop && !e->head) pthread_cond_wait(&e->work_cv, &e->mu);
        if (!e->head) { /* stopping, nothing left */
            pthread_mutex_unlock(&e->mu);
            break;
        }
        gf_tgroup *g = e->head;
        int i = g->next++;
        if (g->next == g->n) { /* every task of g taken: the next group's turn */
            e->head = g->link;
            if (!e->head) e->tail = NULL;
        }
        pthread_mutex_unlock(&e->mu);

        gf_ctx_share_log(w->ctx, g->caller);
        g->fn(g->args[i], w->ctx, w->idx);
        gf_ctx_share_log(w->ctx, NULL);

        pthread_mutex_lock(&e->mu);
        if (++g->done == g->n) pthread_cond_signal(&g->done_cv);
        pthread_mutex_unlock(&e->mu);
    }
    if (e->o.worker_stop && st == GF_OK) e->o.worker_stop(e->o.hook_user, w->idx, w->ctx);
    return NULL;
}

void gf_engine_destroy(gf_engine *e)
{
    if (!e) return;
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    pthread_cond_broadcast(&e->work_cv);
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; i < e->started; i++) pthread_join(e->th[i], NULL);
    for (int i = 0; i < e->nthreads; i++) gf_ctx_destroy(e->w[i].ctx);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->work_cv);
    pthread_cond_destroy(&e->ready_cv);
    free(e->th);
    free(e->w);
    free(e);
}

gf_status gf_engine_create(gf_ctx *ctx, const gf_engine_opts *opts, gf_engine **out)
{
    *out = NULL;
    gf_engine *e = calloc(1, sizeof *e);
    if (!e) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (opts) e->o = *opts;
    int n = e->o.threads > 0 ? e->o.threads : gf_ncpus();
    e->th = calloc((size_t)n, sizeof *e->th);
    e->w = calloc((size_t)n, sizeof *e->w);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->work_cv, NULL);
    pthread_cond_init(&e->ready_cv, NULL);
    if (!e->th || !e->w) {
        gf_engine_destroy(e);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    e->nthreads = n;
    gf_status st = GF_OK;
    for (int i = 0; i < n && st == GF_OK; i++) {
        e->w[i].e = e;
        e->w[i].idx = i;
        if (gf_ctx_create(&e->w[i].ctx) != GF_OK) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        else if (pthread_create(&e->th[i], NULL, worker_main, &e->w[i]) != 0)
            st = gf_ctx_err(ctx, GF_ERR_INTERNAL, "cannot start engine worker %d", i);
        else e->started++;
    }
    /* every started worker has run its start hook before the engine is used */
    pthread_mutex_lock(&e->mu);
    while (e->ready < e->started) pthread_cond_wait(&e->ready_cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; i < e->started && st == GF_OK; i++)
        if (e->w[i].start_st != GF_OK) {
            st = e->w[i].start_st;
            gf_ctx_take_error(ctx, e->w[i].ctx);
        }
    if (st != GF_OK) {
        gf_engine_destroy(e);
        return st;
    }
    *out = e;
    return GF_OK;
}

int gf_engine_threads(const gf_engine *e) { return e ? e->nthreads : 1; }

gf_status gf_engine_run(gf_engine *e, gf_ctx *caller, int n, gf_task_fn fn, void *const *args)
{
    if (n <= 0) return GF_OK;
    gf_tgroup g = {.fn = fn, .args = args, .n = n, .caller = caller};
    pthread_cond_init(&g.done_cv, NULL);
    pthread_mutex_lock(&e->mu);
    if (e->tail) e->tail->link = &g;
    else e->head = &g;
    e->tail = &g;
    pthread_cond_broadcast(&e->work_cv);
    while (g.done < n) pthread_cond_wait(&g.done_cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
    pthread_cond_destroy(&g.done_cv);
    return GF_OK;
}
