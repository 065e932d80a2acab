/* Fuzz target: the geocoder's query side. The input is up to four fields
 * separated by newlines (free text, postcode, INSEE code, city), each
 * going through the normaliser (src/geocode/norm.c: folding, words, street
 * types, suffixes, edit distance) with output buffers of every size, then
 * the whole query through the free-text parser and the matcher against a
 * small real index (tests/fuzz/gc_sample.h), whole words and as autocompletion. Must never crash or hang, and
 * the normaliser must keep its promises (NUL-terminated, within the buffer,
 * the length it returns). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_sample.h"
#include "geocode/gc.h"

static gf_gc_index *ix;
static gf_gc_scratch *scr;

/* Once, on the first input (the ctest replay has no LLVMFuzzerInitialize). */
static void setup(void)
{
    gf_ctx *ctx;
    if (gf_ctx_create(&ctx) != GF_OK || gc_sample_build(ctx, gc_sample_bal, &ix) != GF_OK ||
        gf_gc_scratch_create(ix, &scr) != GF_OK) {
        fprintf(stderr, "fuzz_query: cannot build the sample index\n");
        abort();
    }
    gf_ctx_destroy(ctx);
}

static void text(const char *p, size_t n)
{
    static const size_t sizes[] = {1, 2, 4, 16, 64, 256, 1024};
    char out[1024 + 16];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t sz = sizes[i];
        memset(out, 'Z', sizeof out);
        size_t l = gf_gc_normalize(p, n, out, sz);
        if (l >= sz || out[l] != 0 || strlen(out) != l || out[sz] != 'Z') abort();
        memset(out, 'Z', sizeof out);
        l = gc_fold(p, n, out, sz);
        if (l >= sz || out[sz] != 'Z') abort();
    }
    char f[1024];
    size_t fl = gc_fold(p, n, f, sizeof f);
    /* word by word, as the parser takes them */
    for (size_t i = 0; i < fl;) {
        size_t j = i;
        while (j < fl && f[j] != ' ') j++;
        size_t wl = 0;
        const char *w = gc_word(f + i, j - i, &wl);
        if (w && w != f + i && (wl == 0 || strlen(w) != wl)) abort(); /* an expansion: a whole word */
        (void)gc_is_street_type(f + i, j - i);
        char sfx[16];
        if (gc_suffix_norm(f + i, j - i, sfx) && strlen(sfx) > 5) abort();
        i = j + 1;
    }
    uint32_t tris[128];
    if (gc_trigrams(f, fl, tris, 128) > 128) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ix) setup();
    /* fields: q \n postcode \n citycode \n city (exact-size copies, not NUL-terminated) */
    const char *f[4] = {0};
    size_t fl[4] = {0};
    int nf = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size && nf < 4; i++)
        if (i == size || data[i] == '\n') {
            f[nf] = (const char *)data + start;
            fl[nf++] = i - start;
            start = i + 1;
        }
    char *c[4] = {0};
    for (int i = 0; i < nf; i++) {
        c[i] = malloc(fl[i] ? fl[i] : 1);
        if (fl[i]) memcpy(c[i], f[i], fl[i]);
        text(c[i], fl[i]);
    }
    if (nf >= 2) {
        char a[128], b[128];
        size_t la = gf_gc_normalize(c[0], fl[0], a, sizeof a), lb = gf_gc_normalize(c[1], fl[1], b, sizeof b);
        for (int k = 0; k <= 4; k++) {
            int d = gc_osa(a, (int)la, b, (int)lb, k);
            if (d < 0 || d > k + 1) abort();
        }
    }
    gf_gc_query q = {.q = c[0], .qlen = fl[0], .postcode = c[1], .postcodelen = fl[1],
                     .citycode = c[2], .citycodelen = fl[2], .city = c[3], .citylen = fl[3]};
    gf_gc_result r;
    if (gf_gc_geocode(ix, scr, &q, &r) != GF_OK) abort();
    if (strlen(r.name) + strlen(r.street) + strlen(r.city) + strlen(r.postcode) + strlen(r.id) > 4096) abort();
    /* the free text alone, and with each filter alone */
    gf_gc_query q1 = {.q = c[0], .qlen = fl[0]};
    gf_gc_geocode(ix, scr, &q1, &r);
    q1.city = c[3]; q1.citylen = fl[3];
    gf_gc_geocode(ix, scr, &q1, &r);
    /* autocompletion: the last word as a prefix, with and without a commune */
    gf_gc_result rl[GF_GC_MAX_RESULTS];
    int n = 0;
    q.prefix = q1.prefix = 1;
    if (gf_gc_search(ix, scr, &q, rl, GF_GC_MAX_RESULTS, &n) != GF_OK || n < 0 || n > GF_GC_MAX_RESULTS) abort();
    for (int i = 0; i < n; i++) if (!(rl[i].score >= 0 && rl[i].score <= 1)) abort();
    q1.city = NULL; q1.citylen = 0;
    if (gf_gc_search(ix, scr, &q1, rl, 10, &n) != GF_OK || n > 10) abort();
    for (int i = 0; i < nf; i++) free(c[i]);
    return 0;
}
