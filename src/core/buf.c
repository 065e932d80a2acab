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
    if (n == 0) return GF_OK; /* p may be NULL then (an empty value), and memcpy's may not */
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

/* The one JSON string escaper (GeoJSON writer, tile metadata, the CLI's
 * JSON summaries): quotes, backslashes and control characters. */
gf_status gf_buf_json_str(gf_buf *o, const char *p, size_t n)
{
    gf_status st = gf_buf_reserve(o, n * 2 + 2);
    if (st) return st;
    char *w = o->p + o->len;
    *w++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') { *w++ = '\\'; *w++ = (char)c; }
        else if (c >= 0x20) *w++ = (char)c;
        else {
            o->len = (size_t)(w - o->p);
            if ((st = gf_buf_reserve(o, 6 + (n - i) * 2 + 2))) return st;
            w = o->p + o->len;
            static const char hex[] = "0123456789abcdef";
            const char *esc = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (esc) { *w++ = esc[0]; *w++ = esc[1]; }
            else { memcpy(w, "\\u00", 4); w += 4; *w++ = hex[c >> 4]; *w++ = hex[c & 15]; }
        }
    }
    *w++ = '"';
    o->len = (size_t)(w - o->p);
    return GF_OK;
}
