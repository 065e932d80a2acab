/* The pipeline: one source (a pull cursor filling batches), middle stages
 * run on worker threads, sinks committed in input order.
 *
 * Threading model (after libvips): each worker thread takes the source lock,
 * pulls the next batch and stamps it with a sequence number, releases the
 * lock, runs every stage on it with its own gf_ctx, runs every sink's
 * encode() (parallel part of a writer), then waits for its turn and runs
 * every sink's commit() in sequence order. At most `threads` batches are in
 * flight, so memory is bounded by the batch size, and output bytes do not
 * depend on the thread count. The worker threads are an engine's
 * (engine.h), shared with other runs, or started for the run. */
#ifndef GEOFLUX_PIPELINE_H
#define GEOFLUX_PIPELINE_H

#include <stdint.h>
#include "geoflux/batch.h"
#include "geoflux/ctx.h"
#include "geoflux/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Growable byte buffer used by encoders. */
typedef struct gf_buf {
    char *p;
    size_t len, cap;
} gf_buf;
gf_status gf_buf_reserve(gf_buf *b, size_t extra);
gf_status gf_buf_append(gf_buf *b, const void *p, size_t n);
gf_status gf_buf_printf(gf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gf_buf_free(gf_buf *b);
/* Gives back the capacity past b->len (none left when empty): for a buffer
 * kept long after it was filled, one per commune say, where the 4 KB a
 * buffer starts with would add up. */
void gf_buf_fit(gf_buf *b);
/* Appends p[0..n) as a JSON string, quotes included, with '"', '\\' and
 * control characters escaped (bytes >= 0x80 are copied: UTF-8 stays as is).
 * GF_ERR_NOMEM when the buffer cannot grow. */
gf_status gf_buf_json_str(gf_buf *b, const char *p, size_t n);

/* Source: fills an empty batch with up to b->cap rows (and rejects).
 * Returns GF_OK with b->n + b->nrej > 0, GF_DONE at end of input, or an
 * error. Called under the source lock, never concurrently. */
typedef struct gf_source_vt {
    const char *name;
    gf_status (*next)(void *st, gf_ctx *ctx, gf_batch *b);
    /* Rows read so far (data records, not headers). */
    uint64_t (*rows_read)(void *st);
} gf_source_vt;

/* Middle stage. start() runs once before any batch, on the main thread, and
 * may append fields to *schema; run() is called from worker threads, with the
 * worker's index (0..nworkers-1) and own ctx, and must only touch per-worker
 * state or read-only shared state. end() runs once after the last batch.
 * destroy(NULL) must be a no-op. */
typedef struct gf_stage_vt {
    const char *name;
    gf_status (*start)(void *st, gf_ctx *ctx, gf_schema *schema, int nworkers);
    gf_status (*run)(void *st, gf_ctx *wctx, int worker, gf_batch *b);
    gf_status (*end)(void *st, gf_ctx *ctx);
    void (*destroy)(void *st);
    /* Optional: called once before end() when the run failed (source,
     * stage or sink error), so a stage that writes a side output at end()
     * (the join's statistics) can skip it. */
    void (*abort)(void *st);
    /* Optional: a stage that writes a user-visible file at end() (the
     * join's --stats) writes it under a temporary name (gf_atomic) and
     * renames it here: publish() runs only when the whole run succeeded,
     * with the sinks' (see gf_sink_vt); otherwise destroy() discards it. */
    gf_status (*publish)(void *st, gf_ctx *ctx);
} gf_stage_vt;

/* Sink (writer). begin() on the main thread with the final schema;
 * encode() (optional) on a worker, into a per-batch buffer; commit() in
 * sequence order, one at a time, with the encoded buffer.
 * The outputs of a run commit together or not at all, in two phases:
 * finish() after the last batch writes, flushes and closes everything
 * under temporary names (gf_atomic_close); then, only once every stage's
 * end() and every sink's finish() succeeded, publish() renames them to
 * their final names (gf_atomic_publish), stages' first, then the sinks' in
 * reverse order (the main output, sink 0, last). abort() on any failure
 * before or during publication removes the temporaries (nothing once
 * published). A sink must not make anything visible under a final name in
 * finish(). */
typedef struct gf_sink_vt {
    const char *name;
    gf_status (*begin)(void *st, gf_ctx *ctx, const gf_schema *schema, int nworkers);
    gf_status (*encode)(void *st, gf_ctx *wctx, int worker, const gf_batch *b, gf_buf *out);
    gf_status (*commit)(void *st, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc);
    gf_status (*finish)(void *st, gf_ctx *ctx);
    void (*abort)(void *st);
    void (*destroy)(void *st);
    gf_status (*publish)(void *st, gf_ctx *ctx); /* optional (last: positional initialisers stay valid) */
    /* Optional: called on every sink that has it before any finish(), to
     * start finishing work that touches nothing shared (no GDAL dataset,
     * no other sink's state) on a thread of the sink's own; its finish()
     * waits for that work. Such sinks are finished after the others, which
     * their work overlaps; abort() waits for it too. */
    gf_status (*start_finish)(void *st, gf_ctx *ctx);
} gf_sink_vt;

typedef struct gf_run_stats {
    uint64_t read;     /* data rows read */
    uint64_t written;  /* rows that reached the sinks */
    uint64_t rejected; /* rows rejected */
    uint64_t invalid_kept;  /* rows kept despite errors (--keep-invalid) */
    uint64_t with_warnings; /* rows with at least one warning */
    uint64_t no_position;   /* written rows without a position */
    uint64_t pos_mismatch;  /* rows whose x/y and lon/lat disagree */
    double seconds;
} gf_run_stats;

/* Called after each committed batch on the committing thread. */
typedef void (*gf_progress_fn)(void *user, const gf_run_stats *s);

struct gf_engine;
typedef struct gf_pipeline_opts {
    int threads;        /* worker threads; <= 0: all cores; capped by the engine's */
    size_t batch_rows;  /* rows per batch; 0: GF_BATCH_ROWS / threads, at least GF_BATCH_MIN_ROWS */
    gf_progress_fn progress;
    void *progress_user;
    /* The engine whose workers run the batches (engine.h), borrowed; NULL:
     * threads of the pipeline's own, started and joined by each run. */
    struct gf_engine *engine;
    /* 1: measure the CPU of each part of the run (gf_pipeline_profile()). */
    int profile;
} gf_pipeline_opts;

typedef struct gf_pipeline gf_pipeline;

/* Creates an empty pipeline bound to ctx (borrowed). Caller frees with
 * gf_pipeline_destroy(), which also destroys the source, stages and sinks it
 * was given. */
gf_status gf_pipeline_create(gf_ctx *ctx, const gf_pipeline_opts *opts, gf_pipeline **out);
void gf_pipeline_destroy(gf_pipeline *p);

/* Takes ownership of st (freed with vt->destroy... sources: free_fn). The
 * schema is borrowed from the source and copied at run time. */
gf_status gf_pipeline_set_source(gf_pipeline *p, const gf_source_vt *vt, void *st,
                                 const gf_schema *schema, void (*free_fn)(void *));
gf_status gf_pipeline_add_stage(gf_pipeline *p, const gf_stage_vt *vt, void *st);
gf_status gf_pipeline_add_sink(gf_pipeline *p, const gf_sink_vt *vt, void *st);

/* Sets the engine of the next run (gf_pipeline_opts.engine). */
void gf_pipeline_set_engine(gf_pipeline *p, struct gf_engine *e);

/* The schema after every stage's start(); valid once run has begun. */
const gf_schema *gf_pipeline_schema(const gf_pipeline *p);

/* Runs to completion. On error every sink is aborted (no output of the run
 * under a final name, unless the failure is a rename during publication,
 * after which the outputs already renamed stay) and the error message is
 * in ctx. stats may be NULL. GF_ERR_CANCELLED after gf_pipeline_cancel().
 * Stages get their worker index 0..threads-1 and a worker context that may
 * serve other runs before and after this one (an engine's): per-run state
 * is freed in end(), objects meant to outlive the run go into the worker
 * context's cache (gf_ctx_cache_put()). */
gf_status gf_pipeline_run(gf_pipeline *p, gf_run_stats *stats);

/* Asks a run to stop, from any thread (async-signal-safe too): workers
 * take no new batch (those in flight are finished), and the run
 * returns GF_ERR_CANCELLED with every output discarded, unless it had
 * already begun renaming them to their final names. Before the run: it
 * returns GF_ERR_CANCELLED at once. */
void gf_pipeline_cancel(gf_pipeline *p);

/* ---- stage profile ---------------------------------------------------------
 * With gf_pipeline_opts.profile, a run measures the thread CPU time
 * (CLOCK_THREAD_CPUTIME_ID) each part of the pipeline took, summed over the
 * threads that ran it: one clock read pair per part and batch, never per
 * row, into counters of each worker's own, added up after the run (no
 * shared counter, no lock on the way). Outputs are the same bytes with or
 * without it. A sink's line is its encode(), commit() and finish(); the
 * commit wait is the time a worker spends waiting for its turn to commit
 * (its CPU, and the wall time it waited). */
typedef enum gf_prof_part {
    GF_PROF_SOURCE,      /* the source's next(): reading and tokenising */
    GF_PROF_STAGE,       /* a middle stage's run() (and the batch compaction after it) */
    GF_PROF_SINK,        /* a sink's encode(), commit() and finish() */
    GF_PROF_COMMIT_WAIT  /* waiting for the batch's turn to commit */
} gf_prof_part;
typedef struct gf_prof_line {
    gf_prof_part part;
    int index;          /* the stage's or sink's rank, in order of addition; 0 for the others */
    const char *name;   /* the vt's name, "commit wait"; static */
    const char *output; /* a sink's output path where its owner names it (gf_job_convert_profile()); else NULL */
    uint64_t rows;      /* rows of the batches it ran on (rows read, rejects included) */
    uint64_t batches;
    double cpu_s;       /* thread CPU seconds, summed over the threads */
    double wait_s;      /* GF_PROF_COMMIT_WAIT: wall seconds waited, summed over the workers; else 0 */
} gf_prof_line;
#define GF_PROF_MAX_LINES 32
typedef struct gf_pipeline_profile {
    int nlines;          /* source, stages, sinks, commit wait, in this order */
    gf_prof_line line[GF_PROF_MAX_LINES];
    int threads;         /* worker threads of the run */
    uint64_t rows;       /* rows read */
    /* The process's CPU during the run (CLOCK_PROCESS_CPUTIME_ID): the lines
     * plus what no line sees (the writers' own threads, a tile sink's
     * encoding pool, the stages' start() and end(), the pipeline's
     * bookkeeping), and whatever else the process ran at the same time. */
    double process_cpu_s;
} gf_pipeline_profile;

/* Fills *out with the profile of the last run. GF_ERR_ARG (message in the
 * pipeline's ctx) when the pipeline was made without opts.profile or has
 * not run. */
gf_status gf_pipeline_profile_get(const gf_pipeline *p, gf_pipeline_profile *out);

/* Number of online CPUs (at least 1). */
int gf_ncpus(void);

#ifdef __cplusplus
}
#endif
#endif
