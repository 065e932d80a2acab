/* gf_buf: growable byte buffer for encoders. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/swar.h"
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

void gf_buf_fit(gf_buf *b)
{
    if (!b || b->len == b->cap) return;
    if (!b->len) {
        gf_buf_free(b);
        return;
    }
    char *np = realloc(b->p, b->len);
    if (!np) return; /* the larger block stays, as good */
    b->p = np;
    b->cap = b->len;
}

/* The one JSON string escaper (GeoJSON writer, tile metadata, the CLI's
 * JSON summaries): quotes, backslashes and control characters.
 * Hand-written word at a time (core/swar.h): a byte loop with three tests
 * a byte was a fifth of the NDJSON writer's work. Eight bytes are loaded (the tail
 * padded with spaces, never escaped), stored whole and kept up to the first
 * byte to escape, which the byte path then writes; the buffer keeps 8
 * bytes of slack for the whole-word stores. */
gf_status gf_buf_json_str(gf_buf *o, const char *p, size_t n)
{
    gf_status st = gf_buf_reserve(o, n * 2 + 2 + 8);
    if (st) return st;
    char *w = o->p + o->len;
    *w++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t rem = n - i, k;
        uint64_t x = 0x2020202020202020u;
        if (rem >= 8) memcpy(&x, p + i, 8); /* one load */
        else memcpy(&x, p + i, rem);
        uint64_t le = gf_swar_le(x);
        uint64_t m = gf_swar_eq(le, '"') | gf_swar_eq(le, '\\') | gf_swar_lt(le, 0x20);
        k = m ? gf_swar_first(m) : 8;
        size_t lim = rem < 8 ? rem : 8;
        memcpy(w, &x, 8);
        if (k >= lim) { /* nothing to escape in these bytes */
            w += lim;
            i += lim;
            continue;
        }
        w += k; /* p[i + k] is escaped */
        i += k;
        unsigned char c = (unsigned char)p[i++];
        if (c == '"' || c == '\\') { *w++ = '\\'; *w++ = (char)c; }
        else {
            o->len = (size_t)(w - o->p);
            if ((st = gf_buf_reserve(o, 6 + (n - i) * 2 + 2 + 8))) return st;
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
