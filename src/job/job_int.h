/* Private layout of a job, shared by the job builders (src/job/). */
#ifndef GF_JOB_INT_H
#define GF_JOB_INT_H

#include "geoflux/job.h"
#include "geoflux/reproject.h"
#include "geoflux/write.h"

struct gf_job {
    gf_ctx *ctx;              /* borrowed */
    gf_pipeline *p;
    const gf_reader *reader;  /* owned by p */
    int ran;
    int cancelled;            /* atomics: gf_job_cancel() may come from any thread */
    gf_job_progress_fn progress;
    void *progress_user;
    /* convert */
    gf_convert_opts o;
    gf_crs_info crs, scrs;
    char *rejects_path;       /* "?PATH": the default name, written only if needed */
    void *join_ds;            /* GDALDatasetH (Memory driver): the join's statistics for the writers */
    gf_extra_layer join_xl;
    gf_extra_layer *xl;       /* what the writers copy: the join's layer, then gf_convert_opts.extra_layers */
    /* geocode, reverse */
    const char *table[1];     /* the input table's path: the writers and rejects borrow the array */
    gf_gc_index *ix;
    void *gstage;             /* the geocode stage, owned by p: its counts */
    uint64_t defects;         /* counted by the tally sink */
    gf_gc_stats ixstats;
    int ix_built;
    double ix_seconds;
};

/* Runs j->p once on e: progress, cancellation, the log flushed, and the
 * run's identity read = written + rejected checked. */
gf_status gf_job_run_pipeline(gf_job *j, gf_engine *e, gf_run_stats *stats);
/* gf_pipeline_opts.progress of a job (user: the job). */
void gf_job_progress_cb(void *user, const gf_run_stats *s);

#endif
