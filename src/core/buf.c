/* gf_buf: growable byte buffer for encoders. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geoflux/pipeline.h"

gf_status gf_buf_reserve(gf_buf *b, size_t extra)
{
    if (b->len + extra <= b->cap) return GF_OK;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + extra) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) return GF_ERR_NOMEM;
    b->p = np;
    b->cap = nc;
    return GF_OK;
}

gf_status gf_buf_append(gf_buf *b, const void *p, size_t n)
{
    gf_status st = gf_buf_reserve(b, n);
    if (st) return st;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return GF_OK;
}

gf_status gf_buf_printf(gf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return GF_ERR_INTERNAL;
    if ((size_t)n < sizeof tmp) return gf_buf_append(b, tmp, (size_t)n);
    gf_status st = gf_buf_reserve(b, (size_t)n + 1);
    if (st) return st;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return GF_OK;
}

void gf_buf_free(gf_buf *b)
{
    if (!b) return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
