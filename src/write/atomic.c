/* Atomic outputs and number formatting shared by the writers. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/write.h"

void gf_atomic_tmpname(const char *path, char *out, size_t outsz)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(out, outsz, "%.*s/.%s.tmp-%ld", (int)(slash - path), path, slash + 1, (long)getpid());
    else
        snprintf(out, outsz, ".%s.tmp-%ld", path, (long)getpid());
}

gf_status gf_scratch_open(gf_ctx *ctx, const char *tmpdir, const char *path, int *fd)
{
    char tpl[1200];
    if (tmpdir) {
        snprintf(tpl, sizeof tpl, "%s/.geoflux-scratch-XXXXXX", tmpdir);
    } else {
        const char *slash = path ? strrchr(path, '/') : NULL;
        if (slash) snprintf(tpl, sizeof tpl, "%.*s/.geoflux-scratch-XXXXXX", (int)(slash - path), path);
        else snprintf(tpl, sizeof tpl, ".geoflux-scratch-XXXXXX");
    }
    int f = mkstemp(tpl);
    if (f < 0) return gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot create a scratch file: %s", tpl, strerror(errno));
    unlink(tpl); /* freed by the kernel on close, even after a crash */
    *fd = f;
    return GF_OK;
}

gf_status gf_atomic_commit(gf_ctx *ctx, const char *tmp, const char *path)
{
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot rename from %s: %s", path, tmp, strerror(e));
    }
    return GF_OK;
}

gf_status gf_atomic_commit_sqlite(gf_ctx *ctx, const char *tmp, const char *path)
{
    static const char *const side[] = {"-wal", "-shm", "-journal"};
    for (int i = 0; i < 3; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s%s", path, side[i]);
        if (unlink(p) != 0 && errno != ENOENT) {
            int e = errno;
            unlink(tmp);
            return gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot remove the old %s: %s", path, p, strerror(e));
        }
    }
    return gf_atomic_commit(ctx, tmp, path);
}

gf_status gf_atomic_close(gf_ctx *ctx, FILE **f, const char *tmp, const char *path)
{
    /* No fsync: the rename keeps readers from ever seeing a partial file;
     * durability across a power cut is the file system's business. */
    int bad = ferror(*f);
    if (fclose(*f) != 0) bad = 1;
    *f = NULL;
    if (bad) {
        int e = errno;
        unlink(tmp);
        return gf_ctx_err(ctx, GF_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    return gf_atomic_commit(ctx, tmp, path);
}

void gf_atomic_discard(FILE **f, const char *tmp)
{
    if (!*f) return; /* never opened, or already closed and renamed */
    fclose(*f);
    *f = NULL;
    unlink(tmp);
}

int gf_fmt_scalar(gf_type t, const gf_col *c, size_t r, char *out)
{
    switch (t) {
    case GF_T_INT:
        return snprintf(out, 48, "%lld", (long long)c->v.i[r]);
    case GF_T_REAL: {
        double a = fabs(c->v.d[r]);
        int dec = 15;
        for (double p = 1; p <= a && dec > 0; p *= 10) dec--;
        return gf_fmt_fixed(c->v.d[r], dec > 10 ? 10 : dec, out);
    }
    case GF_T_BOOL:
        memcpy(out, c->v.i[r] ? "true" : "false", c->v.i[r] ? 5 : 6);
        return c->v.i[r] ? 4 : 5;
    default:
        return -1;
    }
}

/* Hand-written because printf("%.*f") dominates GeoJSON encoding time; the
 * result is the same digits for |v| * 10^prec < 2^63, else it falls back. */
int gf_fmt_fixed(double v, int prec, char *out)
{
    static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
    if (prec < 0) prec = 0;
    if (prec > 12) prec = 12;
    if (!isfinite(v)) return snprintf(out, 32, "null");
    double sc = fabs(v) * p10[prec];
    if (sc >= 9.0e15) return snprintf(out, 32, "%.17g", v); /* huge: exponent form, still valid JSON */
    uint64_t u = (uint64_t)llround(sc);
    uint64_t ip = u / (uint64_t)p10[prec], fp = u % (uint64_t)p10[prec];
    char tmp[32];
    int n = 0;
    if (v < 0 && u != 0) out[n++] = '-';
    int k = 0;
    do { tmp[k++] = (char)('0' + ip % 10); ip /= 10; } while (ip);
    while (k) out[n++] = tmp[--k];
    if (prec > 0 && fp) {
        char fr[16];
        for (int i = prec - 1; i >= 0; i--) { fr[i] = (char)('0' + fp % 10); fp /= 10; }
        int fl = prec;
        while (fl > 0 && fr[fl - 1] == '0') fl--;
        out[n++] = '.';
        memcpy(out + n, fr, (size_t)fl);
        n += fl;
    }
    out[n] = 0;
    return n;
}
