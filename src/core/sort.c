/* Radix sort (see sort.h). One read of the keys builds the histograms of
 * every pass; the passes then scatter back and forth between the arrays
 * and one scratch copy, so the result is copied back at most once. */
#include <stdlib.h>
#include <string.h>

#include "core/sort.h"

#define RADIX_BITS 11
#define RADIX_N (1u << RADIX_BITS)

gf_status gf_radix_sort_u64(gf_ctx *ctx, uint64_t *key, uint32_t *val, size_t n, int lo_bit)
{
    if (lo_bit < 0 || lo_bit > 63) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "radix sort: no key bits from bit %d", lo_bit);
    if (n < 2) return GF_OK;
    const int npass = (64 - lo_bit + RADIX_BITS - 1) / RADIX_BITS;
    size_t *cnt = calloc((size_t)npass * RADIX_N, sizeof *cnt);
    uint64_t *tk = malloc(n * sizeof *tk);
    uint32_t *tv = val ? malloc(n * sizeof *tv) : NULL;
    if (!cnt || !tk || (val && !tv)) {
        free(cnt); free(tk); free(tv);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory (sorting %zu keys)", n);
    }
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < npass; p++) cnt[(size_t)p * RADIX_N + ((key[i] >> (lo_bit + p * RADIX_BITS)) & (RADIX_N - 1))]++;
    uint64_t *sk = key, *dk = tk;
    uint32_t *sv = val, *dv = tv;
    for (int p = 0; p < npass; p++) {
        const int sh = lo_bit + p * RADIX_BITS;
        size_t *c = cnt + (size_t)p * RADIX_N;
        if (c[(sk[0] >> sh) & (RADIX_N - 1)] == n) continue; /* every key has this digit */
        size_t sum = 0;
        for (size_t k = 0; k < RADIX_N; k++) { size_t t = c[k]; c[k] = sum; sum += t; }
        if (sv)
            for (size_t i = 0; i < n; i++) {
                size_t j = c[(sk[i] >> sh) & (RADIX_N - 1)]++;
                dk[j] = sk[i];
                dv[j] = sv[i];
            }
        else
            for (size_t i = 0; i < n; i++) dk[c[(sk[i] >> sh) & (RADIX_N - 1)]++] = sk[i];
        uint64_t *t = sk; sk = dk; dk = t;
        uint32_t *tu = sv; sv = dv; dv = tu;
    }
    if (sk != key) {
        memcpy(key, sk, n * sizeof *key);
        if (val) memcpy(val, sv, n * sizeof *val);
    }
    free(cnt);
    free(tk);
    free(tv);
    return GF_OK;
}

gf_status gf_radix_sort_rec(gf_ctx *ctx, void *rec, size_t n, size_t size, size_t key_off)
{
    if (size % 8 || !size || size > 256 || key_off % 8 || key_off + 8 > size)
        return gf_ctx_err(ctx, GF_ERR_INTERNAL, "radix sort: records of %zu bytes, key at %zu", size, key_off);
    if (n < 2) return GF_OK;
    enum { NPASS = (64 + RADIX_BITS - 1) / RADIX_BITS };
    const size_t kw = key_off / 8, w = size / 8; /* in 64-bit words */
    size_t *cnt = calloc((size_t)NPASS * RADIX_N, sizeof *cnt);
    uint64_t *tmp = malloc(n * size);
    if (!cnt || !tmp) {
        free(cnt); free(tmp);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory (sorting %zu records)", n);
    }
    uint64_t *src = rec, *dst = tmp;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = src[i * w + kw];
        for (int p = 0; p < NPASS; p++) cnt[(size_t)p * RADIX_N + ((k >> (p * RADIX_BITS)) & (RADIX_N - 1))]++;
    }
    for (int p = 0; p < NPASS; p++) {
        const int sh = p * RADIX_BITS;
        size_t *c = cnt + (size_t)p * RADIX_N;
        if (c[(src[kw] >> sh) & (RADIX_N - 1)] == n) continue; /* every key has this digit */
        size_t sum = 0;
        for (size_t k = 0; k < RADIX_N; k++) { size_t t = c[k]; c[k] = sum; sum += t; }
        for (size_t i = 0; i < n; i++) {
            const uint64_t *r = src + i * w;
            memcpy(dst + c[(r[kw] >> sh) & (RADIX_N - 1)]++ * w, r, size);
        }
        uint64_t *t = src; src = dst; dst = t;
    }
    if (src != rec) memcpy(rec, src, n * size);
    free(cnt);
    free(tmp);
    return GF_OK;
}
