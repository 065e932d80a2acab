/* Writes the coverage dashboard (index.html and the files of dashboard/),
 * embedded in the binary by cmake/embed.cmake, into a SITE directory being
 * built. Uses the write layer's atomic outputs: every file under a
 * temporary name, all renamed once all are written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "geoflux/write.h"
#include "publish/dashboard.h"
#include "write/ofile.h"

const gf_embedded_file *gf_dashboard_file(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < gf_dashboard_count; i++)
        if (!strcmp(gf_dashboard_files[i].name, name)) return &gf_dashboard_files[i];
    return NULL;
}

/* site_dir/index.html for the page itself, site_dir/dashboard/NAME for what
 * it loads (the SITE layout of docs/publish.md). Allocated, NULL: no memory. */
static char *site_path(const char *site_dir, const char *name)
{
    const char *sub = strcmp(name, "index.html") ? "dashboard/" : "";
    size_t n = strlen(site_dir) + 1 + strlen(sub) + strlen(name) + 1;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s%s", site_dir, sub, name);
    return p;
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

gf_status gf_dashboard_write(gf_ctx *ctx, const char *site_dir)
{
    if (!site_dir || !*site_dir) return gf_ctx_err(ctx, GF_ERR_ARG, "dashboard: no SITE directory given");
    if (!is_dir(site_dir))
        return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: not an existing directory", site_dir);

    size_t n = strlen(site_dir) + sizeof "/dashboard";
    char *sub = malloc(n);
    if (!sub) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    snprintf(sub, n, "%s/dashboard", site_dir);
    if (mkdir(sub, 0755) != 0 && !(errno == EEXIST && is_dir(sub))) {
        gf_status st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: %s", sub,
                                  errno == EEXIST ? "exists and is not a directory" : strerror(errno));
        free(sub);
        return st;
    }
    free(sub);

    gf_status st = GF_OK;
    gf_atomic *out = calloc(gf_dashboard_count ? gf_dashboard_count : 1, sizeof *out);
    if (!out) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    size_t made = 0;
    for (; made < gf_dashboard_count && !st; made++) {
        const gf_embedded_file *f = &gf_dashboard_files[made];
        char *path = site_path(site_dir, f->name);
        if (!path) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
        st = gf_atomic_create(ctx, path, 0, &out[made]);
        if (!st) {
            int e = gf_pio(out[made].fd, 1, (void *)f->data, f->size, 0);
            if (e) st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: %s", path, strerror(e));
        }
        if (!st) st = gf_atomic_close(ctx, &out[made]);
        free(path);
    }
    /* Phase 2 only when every file reached phase 1: all or none. */
    for (size_t i = 0; i < made && !st; i++) st = gf_atomic_publish(ctx, &out[i]);
    for (size_t i = 0; i < made; i++) gf_atomic_free(&out[i]);
    free(out);
    if (st == GF_ERR_IO) st = GF_ERR_OUTPUT;  /* same class, the spelling this API documents */
    return st;
}
