/* Atomic outputs and number formatting shared by the writers. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
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

gf_status gf_atomic_commit(gf_ctx *ctx, const char *tmp, const char *path)
{
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot rename from %s: %s", path, tmp, strerror(e));
    }
    return GF_OK;
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
