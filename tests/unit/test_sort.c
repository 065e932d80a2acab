/* Unit tests of the radix sort (src/core/sort.c), property style: on
 * random arrays of many sizes (0 and 1 included) and key shapes, the
 * result is qsort's with the same order, ties kept in input order (the
 * values carried with the keys tell), for every lo_bit; invalid lo_bit
 * is refused and leaves the keys alone. gf_radix_sort_rec() likewise on
 * records of several layouts (key first, key last), every byte of each
 * record travelling with its key. The external sort (src/core/xsort.c) on
 * fixed-size records, past its budget (runs spilled and merged in a
 * cascade), idx given in order (radix path) and out of order (qsort path):
 * every record comes back once, in (key, idx) order, whole, twice, also
 * after the in-memory run was released to disk; a scratch write that fails
 * is an I/O error naming the output. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "gf_test.h"
#include "core/sort.h"
#include "core/xsort.h"
#include "geoflux/ctx.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

typedef struct kv { uint64_t k; uint32_t v; } kv;
static int g_lo;
static int cmp_kv(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    uint64_t kx = x->k >> g_lo, ky = y->k >> g_lo;
    if (kx != ky) return kx < ky ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v; /* stable: input order */
}

/* shape: 0 random, 1 few distinct values, 2 all equal, 3 sorted
 * descending, 4 only the top bits vary, 5 only the low bits vary */
static uint64_t gen(int shape, size_t i, size_t n)
{
    switch (shape) {
    case 0: return next();
    case 1: return (next() % 5) * 0x0101010101010101ull;
    case 2: return 0xdeadbeefcafef00dull;
    case 3: return UINT64_MAX - i * 7919;
    case 4: return next() & 0xfff0000000000000ull;
    default: return (next() & 0x7ff) | 0x4000000000000000ull;
    }
    (void)n;
}

static void one(gf_ctx *ctx, size_t n, int shape, int lo, int with_val)
{
    uint64_t *key = n ? malloc(n * sizeof *key) : NULL;
    uint32_t *val = n && with_val ? malloc(n * sizeof *val) : NULL;
    kv *ref = n ? malloc(n * sizeof *ref) : NULL;
    for (size_t i = 0; i < n; i++) {
        key[i] = gen(shape, i, n);
        if (val) val[i] = (uint32_t)i;
        ref[i] = (kv){key[i], (uint32_t)i};
    }
    g_lo = lo;
    if (n > 1) qsort(ref, n, sizeof *ref, cmp_kv);
    CHECK(gf_radix_sort_u64(ctx, key, val, n, lo) == GF_OK);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        /* with lo > 0 the low bits ride along: the whole key must match */
        if (key[i] != ref[i].k) bad++;
        if (val && val[i] != ref[i].v) bad++;
    }
    if (bad) fprintf(stderr, "n=%zu shape=%d lo=%d val=%d: %d mismatches\n", n, shape, lo, with_val, bad);
    CHECK(bad == 0);
    free(key);
    free(val);
    free(ref);
}

/* records of w words, the key at word kw, the other words the input
 * position (so that a record torn apart or out of input order shows) */
static void one_rec(gf_ctx *ctx, size_t n, int shape, size_t w, size_t kw)
{
    uint64_t *rec = n ? malloc(n * w * 8) : NULL;
    kv *ref = n ? malloc(n * sizeof *ref) : NULL;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < w; j++) rec[i * w + j] = i * 1000003u + j;
        rec[i * w + kw] = gen(shape, i, n);
        ref[i] = (kv){rec[i * w + kw], (uint32_t)i};
    }
    g_lo = 0;
    if (n > 1) qsort(ref, n, sizeof *ref, cmp_kv);
    CHECK(gf_radix_sort_rec(ctx, rec, n, w * 8, kw * 8) == GF_OK);
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < w; j++)
            if (rec[i * w + j] != (j == kw ? ref[i].k : (uint64_t)ref[i].v * 1000003u + j)) bad++;
    if (bad) fprintf(stderr, "records n=%zu shape=%d w=%zu kw=%zu: %d mismatches\n", n, shape, w, kw, bad);
    CHECK(bad == 0);
    free(rec);
    free(ref);
}

/* 32-byte records: key, idx, then two words derived from them */
static void one_xsort(gf_ctx *ctx, size_t n, int idx_ordered)
{
    gf_xsort *x = NULL;
    CHECK(gf_xsort_create(ctx, 1, NULL, "/tmp/gf-test-xsort-fixed", 32, NULL, &x) == GF_OK);
    if (!x) return;
    for (size_t i = 0; i < n; i++) {
        uint64_t r[4];
        r[0] = next() % (n / 4 + 1); /* many equal keys: idx breaks ties */
        r[1] = idx_ordered ? i : next() % (n * 4);
        r[2] = r[0] * 31 + r[1];
        r[3] = ~r[1];
        CHECK(gf_xsort_add(x, ctx, (const uint8_t *)r, sizeof r) == GF_OK);
    }
    CHECK(gf_xsort_count(x) == n);
    if (n > 20000) {
        CHECK(gf_xsort_runs_spilled(x) > 8); /* a cascade merged some (fan-in 8 at this budget) */
        if (idx_ordered) { /* the in-memory run goes to disk too: same records back */
            int before = gf_xsort_runs_spilled(x);
            CHECK(gf_xsort_release(x, ctx) == GF_OK);
            CHECK(gf_xsort_runs_spilled(x) > before);
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        CHECK(gf_xsort_rewind(x, ctx) == GF_OK);
        const uint8_t *p;
        size_t len, cnt = 0, bad = 0;
        uint64_t pk = 0, pi = 0;
        gf_status st;
        while ((st = gf_xsort_next(x, ctx, &p, &len)) == GF_OK) {
            uint64_t r[4];
            memcpy(r, p, sizeof r);
            if (len != 32 || r[2] != r[0] * 31 + r[1] || r[3] != ~r[1]) bad++;
            if (cnt && (r[0] < pk || (r[0] == pk && r[1] < pi))) bad++;
            pk = r[0];
            pi = r[1];
            cnt++;
        }
        CHECK(st == GF_DONE);
        CHECK(cnt == n);
        if (bad) fprintf(stderr, "xsort n=%zu ordered=%d pass %d: %zu bad\n", n, idx_ordered, pass, bad);
        CHECK(bad == 0);
    }
    uint8_t small[8] = {0};
    CHECK(gf_xsort_add(x, ctx, small, sizeof small) == GF_ERR_INTERNAL); /* shorter than the header */
    gf_xsort_destroy(x);
}

/* A scratch write that fails (the file size limit stands in for a full
 * disk) is an I/O error naming the output the sort serves. */
static void xsort_write_fails(gf_ctx *ctx)
{
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {.rlim_cur = 4096, .rlim_max = old.rlim_max};
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    gf_xsort *x = NULL;
    CHECK(gf_xsort_create(ctx, 1, NULL, "/tmp/gf-test-out.gpkg", 32, NULL, &x) == GF_OK);
    gf_status st = GF_OK;
    for (uint64_t i = 0; i < 100000 && st == GF_OK; i++) {
        uint64_t r[4] = {i * 7 % 1000, i, 0, 0};
        st = gf_xsort_add(x, ctx, (const uint8_t *)r, sizeof r);
    }
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CHECK(st == GF_ERR_IO);
    const char *msg = gf_ctx_errmsg(ctx);
    CHECK(strstr(msg, "/tmp/gf-test-out.gpkg: scratch file: write failed") != NULL);
    gf_xsort_destroy(x);
}

int main(void)
{
    gf_ctx *ctx = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    static const size_t sizes[] = {0, 1, 2, 3, 10, 100, 2047, 2048, 2049, 10007, 200000};
    static const int los[] = {0, 1, 11, 32, 40, 63};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int shape = 0; shape < 6; shape++)
            for (size_t l = 0; l < sizeof los / sizeof los[0]; l++) {
                if (sizes[s] > 20000 && l % 2) continue; /* keep it quick */
                one(ctx, sizes[s], shape, los[l], (int)(s + l) % 2);
                if (sizes[s] < 20000) one(ctx, sizes[s], shape, los[l], !((int)(s + l) % 2));
            }
    static const size_t layouts[][2] = {{1, 0}, {2, 1}, {3, 0}, {3, 2}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int shape = 0; shape < 6; shape++)
            for (size_t l = 0; l < 4; l++)
                if (sizes[s] < 20000 || (l + (size_t)shape) % 4 == 0) one_rec(ctx, sizes[s], shape, layouts[l][0], layouts[l][1]);
    uint64_t r3[6] = {9, 1, 2, 3, 4, 5};
    CHECK(gf_radix_sort_rec(ctx, r3, 2, 12, 0) == GF_ERR_INTERNAL && r3[0] == 9); /* not a multiple of 8 */
    CHECK(gf_radix_sort_rec(ctx, r3, 2, 24, 24) == GF_ERR_INTERNAL && r3[0] == 9); /* key past the record */
    CHECK(gf_radix_sort_rec(ctx, r3, 2, 24, 4) == GF_ERR_INTERNAL && r3[0] == 9);  /* key not aligned */
    CHECK(gf_radix_sort_rec(ctx, NULL, 0, 24, 0) == GF_OK);
    /* NULL arrays with n of 0 or 1 */
    CHECK(gf_radix_sort_u64(ctx, NULL, NULL, 0, 0) == GF_OK);
    uint64_t k1 = 42;
    CHECK(gf_radix_sort_u64(ctx, &k1, NULL, 1, 0) == GF_OK && k1 == 42);
    /* invalid lo_bit: refused, keys untouched */
    uint64_t k2[2] = {2, 1};
    CHECK(gf_radix_sort_u64(ctx, k2, NULL, 2, 64) == GF_ERR_INTERNAL && k2[0] == 2 && k2[1] == 1);
    CHECK(gf_radix_sort_u64(ctx, k2, NULL, 2, -1) == GF_ERR_INTERNAL && k2[0] == 2);
    static const size_t xn[] = {0, 1, 5, 3000, 100000};
    for (size_t i = 0; i < sizeof xn / sizeof xn[0]; i++) {
        one_xsort(ctx, xn[i], 1);
        one_xsort(ctx, xn[i], 0);
    }
    xsort_write_fails(ctx);
    gf_xsort *bad = NULL;
    CHECK(gf_xsort_create(ctx, 1 << 20, NULL, "/tmp/gf-test-xsort-fixed", 8, NULL, &bad) == GF_ERR_INTERNAL && !bad);
    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
