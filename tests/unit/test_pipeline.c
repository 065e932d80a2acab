/* Pipeline contract: order and determinism whatever the thread count, the
 * read = written + rejected identity, and failure propagation with abort. */
#include <stdlib.h>

#include "geoflux/pipeline.h"
#include "gf_test.h"

static const gf_schema schema = {.kind = "test", .nfields = 1, .fields = {{"v", GF_T_INT}}};

typedef struct src { uint64_t next, total, fail_at; } src;

static gf_status src_next(void *st, gf_ctx *ctx, gf_batch *b)
{
    src *s = st;
    while (b->n + b->nrej < b->cap && s->next < s->total) {
        uint64_t v = s->next++;
        if (s->fail_at && v == s->fail_at) return gf_ctx_err(ctx, GF_ERR_IO, "input:%llu: boom", (unsigned long long)v);
        if (v % 97 == 13) { gf_batch_reject_raw(b, v, 0, "raw", 3, "parse: bad"); continue; }
        long r = gf_batch_add_row(b, v, 0);
        gf_batch_set_int(b, 0, (size_t)r, (int64_t)v);
    }
    return b->n + b->nrej ? GF_OK : GF_DONE;
}
static uint64_t src_rows(void *st) { return ((src *)st)->next; }
static const gf_source_vt src_vt = {"test", src_next, src_rows};

/* stage: rejects multiples of 10, busy-work with a data-dependent delay */
static gf_status stage_run(void *st, gf_ctx *ctx, int w, gf_batch *b)
{
    (void)st; (void)ctx; (void)w;
    volatile double x = 0;
    for (size_t r = 0; r < b->n; r++) {
        int64_t v = b->cols[0].v.i[r];
        for (int k = 0; k < (int)(v % 7) * 50; k++) x += k;
        if (v % 10 == 0) gf_batch_reject(b, r, "rule: multiple of ten");
    }
    return GF_OK;
}
/* stage state: counts abort() and end() calls, end() after abort() */
typedef struct stg { int aborted, ended, ended_after_abort; } stg;
static gf_status stage_end(void *st, gf_ctx *ctx)
{
    (void)ctx;
    stg *g = st;
    g->ended++;
    g->ended_after_abort = g->aborted;
    return GF_OK;
}
static void stage_abort(void *st) { ((stg *)st)->aborted++; }
static const gf_stage_vt stage_vt = {.name = "t", .run = stage_run, .end = stage_end, .abort = stage_abort};
static stg last_stage;

typedef struct sink { uint64_t sum, count, last, order_ok, aborted, finished; uint64_t fail_commit; } sink;
static gf_status sk_begin(void *st, gf_ctx *c, const gf_schema *s, int n) { (void)st; (void)c; (void)s; (void)n; return GF_OK; }
static gf_status sk_encode(void *st, gf_ctx *c, int w, const gf_batch *b, gf_buf *out)
{
    (void)st; (void)c; (void)w;
    for (size_t r = 0; r < b->n; r++) gf_buf_printf(out, "%lld\n", (long long)b->cols[0].v.i[r]);
    return GF_OK;
}
static gf_status sk_commit(void *st, gf_ctx *c, const gf_batch *b, const gf_buf *enc)
{
    sink *k = st;
    if (k->fail_commit && b->seq == k->fail_commit) return gf_ctx_err(c, GF_ERR_IO, "disk full");
    for (size_t r = 0; r < b->n; r++) {
        uint64_t v = (uint64_t)b->cols[0].v.i[r];
        if (k->count && v <= k->last) k->order_ok = 0;
        k->last = v;
        k->count++;
        k->sum = k->sum * 31 + v;
    }
    k->sum = k->sum * 7 + enc->len;
    return GF_OK;
}
static gf_status sk_finish(void *st, gf_ctx *c) { (void)c; ((sink *)st)->finished = 1; return GF_OK; }
static void sk_abort(void *st) { ((sink *)st)->aborted = 1; }
static const gf_sink_vt sink_vt = {"t", sk_begin, sk_encode, sk_commit, sk_finish, sk_abort, NULL, NULL, NULL};

/* Finishing order: a sink with start_finish() (its work in the background)
 * is started before any finish() and finished after the sinks without. */
static int fin_clock;
typedef struct osink { int started, finished, fail, aborted; } osink;
static gf_status os_begin(void *st, gf_ctx *c, const gf_schema *s, int n) { (void)st; (void)c; (void)s; (void)n; return GF_OK; }
static gf_status os_commit(void *st, gf_ctx *c, const gf_batch *b, const gf_buf *e) { (void)st; (void)c; (void)b; (void)e; return GF_OK; }
static gf_status os_finish(void *st, gf_ctx *c)
{
    osink *k = st;
    k->finished = ++fin_clock;
    return k->fail ? gf_ctx_err(c, GF_ERR_IO, "finish failed") : GF_OK;
}
static gf_status os_start(void *st, gf_ctx *c) { (void)c; ((osink *)st)->started = ++fin_clock; return GF_OK; }
static void os_abort(void *st) { ((osink *)st)->aborted = 1; }
static const gf_sink_vt osink_fg = {.name = "fg", .begin = os_begin, .commit = os_commit, .finish = os_finish, .abort = os_abort};
static const gf_sink_vt osink_bg = {.name = "bg", .begin = os_begin, .commit = os_commit, .finish = os_finish, .abort = os_abort,
                                    .start_finish = os_start};
static gf_status run_order(gf_ctx *ctx, osink *bg, osink *fg1, osink *fg2)
{
    gf_pipeline *p;
    gf_pipeline_opts o = {.threads = 2, .batch_rows = 64};
    gf_pipeline_create(ctx, &o, &p);
    src *sr = calloc(1, sizeof *sr);
    sr->total = 1000;
    gf_pipeline_set_source(p, &src_vt, sr, &schema, free);
    gf_pipeline_add_sink(p, &osink_bg, bg); /* sink 0: the main output, finishing in the background */
    gf_pipeline_add_sink(p, &osink_fg, fg1);
    gf_pipeline_add_sink(p, &osink_fg, fg2);
    fin_clock = 0;
    gf_status st = gf_pipeline_run(p, NULL);
    gf_pipeline_destroy(p);
    return st;
}

static gf_status run(int threads, size_t batch, uint64_t total, uint64_t fail_at, uint64_t fail_commit, sink *k,
                     gf_run_stats *s, gf_ctx *ctx)
{
    gf_pipeline *p;
    gf_pipeline_opts o = {.threads = threads, .batch_rows = batch};
    gf_pipeline_create(ctx, &o, &p);
    src *sr = calloc(1, sizeof *sr);
    sr->total = total;
    sr->fail_at = fail_at;
    memset(k, 0, sizeof *k);
    k->order_ok = 1;
    k->fail_commit = fail_commit;
    gf_pipeline_set_source(p, &src_vt, sr, &schema, free);
    memset(&last_stage, 0, sizeof last_stage);
    gf_pipeline_add_stage(p, &stage_vt, &last_stage);
    gf_pipeline_add_sink(p, &sink_vt, k);
    gf_status st = gf_pipeline_run(p, s);
    gf_pipeline_destroy(p);
    return st;
}

int main(void)
{
    gf_ctx *ctx;
    gf_ctx_create(&ctx);
    sink k1, k4;
    gf_run_stats s1, s4;
    CHECK(run(1, 100, 20000, 0, 0, &k1, &s1, ctx) == GF_OK);
    CHECK(run(4, 100, 20000, 0, 0, &k4, &s4, ctx) == GF_OK);
    CHECK(k1.order_ok && k4.order_ok);
    CHECK(k1.sum == k4.sum && k1.count == k4.count);
    CHECK(s1.read == 20000 && s4.read == 20000);
    CHECK(s1.read == s1.written + s1.rejected);
    CHECK(s4.read == s4.written + s4.rejected);
    CHECK(s1.rejected == s4.rejected && s1.rejected > 0);
    CHECK(k1.finished && !k1.aborted);
    CHECK(last_stage.ended == 1 && last_stage.aborted == 0);

    /* start_finish(): bg started first, then fg1, fg2 finished, then bg */
    osink bg = {0}, fg1 = {0}, fg2 = {0};
    CHECK(run_order(ctx, &bg, &fg1, &fg2) == GF_OK);
    CHECK(bg.started == 1 && fg1.finished == 2 && fg2.finished == 3 && bg.finished == 4 && !bg.aborted);
    /* a failed finish() before it: bg's finish() never runs (abort() waits) */
    bg = (osink){0}; fg1 = (osink){.fail = 1}; fg2 = (osink){0};
    CHECK(run_order(ctx, &bg, &fg1, &fg2) == GF_ERR_IO);
    CHECK(bg.started == 1 && fg1.finished == 2 && !fg2.finished && !bg.finished && bg.aborted);

    /* empty input */
    CHECK(run(3, 100, 0, 0, 0, &k1, &s1, ctx) == GF_OK);
    CHECK(s1.read == 0 && s1.written == 0 && k1.finished);

    /* a source error fails the run, aborts the sink, keeps the message */
    CHECK(run(3, 50, 20000, 7777, 0, &k4, &s4, ctx) == GF_ERR_IO);
    CHECK(k4.aborted && !k4.finished);
    CHECK(strstr(gf_ctx_errmsg(ctx), "input:7777: boom") != NULL);
    /* stages hear about the failure before end() */
    CHECK(last_stage.aborted == 1 && last_stage.ended == 1 && last_stage.ended_after_abort == 1);

    /* a commit error too */
    CHECK(run(2, 50, 20000, 0, 5, &k4, &s4, ctx) == GF_ERR_IO);
    CHECK(k4.aborted && !k4.finished);
    CHECK(strstr(gf_ctx_errmsg(ctx), "disk full") != NULL);

    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
