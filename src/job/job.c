/* What every job shares: checks made before any work, the run with its
 * progress and cancellation, destruction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdal.h>

#include "job/job_int.h"

gf_status gf_job_check_input(gf_ctx *ctx, const char *path)
{
    if (!strcmp(path, "-")) return GF_OK;
    struct stat sb;
    if (stat(path, &sb) != 0) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: is a directory, not a file", path);
    if (access(path, R_OK) != 0) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));
    return GF_OK;
}

gf_status gf_job_check_output(gf_ctx *ctx, const char *path)
{
    if (!strcmp(path, "-")) return GF_OK;
    if (!path[0]) return gf_ctx_err(ctx, GF_ERR_ARG, "empty output path");
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: is a directory; give a file name", path);
    char *dir = gf_path_parent(path);
    if (!dir) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    gf_status st = GF_OK;
    if (stat(dir, &sb) != 0)
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: cannot create it: folder %s: %s", path, dir, strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: cannot create it: %s is not a folder", path, dir);
    else if (access(dir, W_OK | X_OK) != 0)
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: cannot create it in folder %s: %s", path, dir, strerror(errno));
    free(dir);
    return st;
}

char *gf_job_rejects_path(const char *out, const char *rejects)
{
    if (rejects) return strdup(rejects);
    const char *base = strcmp(out, "-") ? out : "geoflux";
    size_t n = strlen(base) + sizeof "?.rejects.csv";
    char *p = malloc(n);
    if (p) snprintf(p, n, "?%s.rejects.csv", base);
    return p;
}

void gf_job_progress_cb(void *user, const gf_run_stats *s)
{
    gf_job *j = user;
    if (!j->progress) return;
    gf_job_progress pr = {.stats = s};
    if (j->reader) gf_reader_progress(j->reader, &pr.bytes_done, &pr.bytes_total);
    j->progress(j->progress_user, &pr);
}

void gf_job_cancel(gf_job *j)
{
    if (!j) return;
    __atomic_store_n(&j->cancelled, 1, __ATOMIC_SEQ_CST);
    if (j->p) gf_pipeline_cancel(j->p);
}

gf_status gf_job_run_pipeline(gf_job *j, gf_engine *e, gf_run_stats *stats)
{
    gf_run_stats s0;
    if (!stats) stats = &s0;
    memset(stats, 0, sizeof *stats);
    if (j->ran) return gf_ctx_err(j->ctx, GF_ERR_ARG, "a job runs once");
    j->ran = 1;
    gf_pipeline_set_engine(j->p, e);
    if (__atomic_load_n(&j->cancelled, __ATOMIC_SEQ_CST)) gf_pipeline_cancel(j->p);
    gf_status st = gf_pipeline_run(j->p, stats);
    gf_ctx_log_flush(j->ctx);
    if (st) return st;
    if (stats->read != stats->written + stats->rejected)
        return gf_ctx_err(j->ctx, GF_ERR_INTERNAL, "internal: read %llu != written %llu + rejected %llu",
                          (unsigned long long)stats->read, (unsigned long long)stats->written,
                          (unsigned long long)stats->rejected);
    return GF_OK;
}

gf_status gf_job_run(gf_job *j, gf_engine *e, gf_run_stats *stats)
{
    gf_run_stats s0;
    if (!stats) stats = &s0;
    gf_status st = gf_job_run_pipeline(j, e, stats);
    /* the default rejects file belongs to the run: with --overwrite, one
     * left by an earlier run must not outlive a run without rejects */
    if (st == GF_OK && j->rejects_path && !j->o.rejects && !stats->rejected && j->o.overwrite && strcmp(j->o.output, "-"))
        unlink(j->rejects_path + 1);
    return st;
}

void gf_job_destroy(gf_job *j)
{
    if (!j) return;
    gf_pipeline_destroy(j->p);
    gf_gc_index_destroy(j->ix); /* after the stage that reads it */
    if (j->join_ds) GDALClose(j->join_ds); /* after the writers that read it */
    free(j->rejects_path);
    free(j->xl);
    gf_crs_info_free(&j->crs);
    gf_crs_info_free(&j->scrs);
    free(j);
}
