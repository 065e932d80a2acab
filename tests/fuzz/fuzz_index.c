/* Fuzz target: the geocoding index loader, on real index files (the seeds
 * are indexes the library built, tests/fuzz/corpus-fuzz_index/), then
 * geocode and reverse queries on whatever loads. Must never crash or hang.
 *
 * The custom mutator knows the file's structure (gcfile.h): it changes one
 * header field (counts, sizes, the grid's origin and cell) or one word of
 * one section (an offset, an index, a position) to a value that matters
 * (0, the count, the count +- 1, 2^31, 2^32 - 1, NaN, ...), links homonym
 * chains back, fills hash tables, swaps entries, flips bits, or lets
 * libFuzzer mutate bytes; then, most of the time, it re-seals the CRC so
 * that the change reaches the structural checks and the lookups instead of
 * stopping at the checksum. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_sample.h"
#include "geocode/gcfile.h"

/* weak: the corpus replay under ctest links without libFuzzer (and never mutates) */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size) __attribute__((weak));

static unsigned char *sample;
static size_t sample_len;

/* Once, on the first input (the ctest replay has no LLVMFuzzerInitialize). */
static void setup(void)
{
    gf_ctx *ctx;
    if (gf_ctx_create(&ctx) != GF_OK || gc_sample_bytes(ctx, gc_sample_bal, &sample, &sample_len) != GF_OK) {
        fprintf(stderr, "fuzz_index: cannot build the sample index\n");
        abort();
    }
    gf_ctx_destroy(ctx);
}

/* ---- queries ---- */
static size_t touch(const gf_gc_result *r)
{
    /* every string of a result points into the index: read them all */
    return strlen(r->name) + strlen(r->street) + strlen(r->postcode) + strlen(r->city) + strlen(r->citycode) +
           strlen(r->id) + strlen(r->suffix);
}

static void geo(const gf_gc_index *ix, gf_gc_scratch *s, const char *q, const char *pc, const char *cc, const char *city)
{
    gf_gc_query qu = {.q = q, .qlen = q ? strlen(q) : 0, .postcode = pc, .postcodelen = pc ? strlen(pc) : 0,
                      .citycode = cc, .citycodelen = cc ? strlen(cc) : 0, .city = city, .citylen = city ? strlen(city) : 0};
    gf_gc_result r;
    if (gf_gc_geocode(ix, s, &qu, &r) == GF_OK) (void)touch(&r);
}

static void rev(const gf_gc_index *ix, gf_gc_scratch *s, double lon, double lat)
{
    gf_gc_result r;
    /* the reverse stage only asks for WGS84 positions */
    if (!(fabs(lon) <= 180 && fabs(lat) <= 90)) return;
    if (gf_gc_reverse(ix, s, lon, lat, 0, &r) == GF_OK) (void)touch(&r);
    if (gf_gc_reverse(ix, s, lon, lat, 25, &r) == GF_OK) (void)touch(&r);
}

static void queries(const gf_gc_index *ix)
{
    gf_gc_scratch *s;
    if (gf_gc_scratch_create(ix, &s) != GF_OK) return;
    static const char *const fixed[][4] = {
        {"3 bis rue des acacias", "35170", NULL, NULL},
        {"12 av du gal de gaulle bruz", NULL, NULL, NULL},
        {"13 avenue du general de gaulle", NULL, "35047", NULL},
        {"grande rue", NULL, NULL, "saint martin"},
        {"4 grande rue saint martin", NULL, NULL, NULL},
        {"le manoir pont rean", NULL, NULL, NULL},
        {"5 allee des acacia", "35230", NULL, NULL},
        {"7 rue de chanteloup 35230 corps nuds", NULL, NULL, NULL},
        {"la haute mote", NULL, NULL, "bruz"},
        {"", "35170", NULL, NULL},
        {"", NULL, NULL, "pont rean"},
        {"rue inconnue", "99999", "99999", "nulle part"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) geo(ix, s, fixed[i][0], fixed[i][1], fixed[i][2], fixed[i][3]);
    /* queries made of the index's own names and numbers, so that lookups
     * find what was mutated */
    char q[512];
    for (uint32_t i = 0; i < ix->nstreets && i < 8; i++) {
        const gc_street *sp = &ix->streets[i];
        const gc_commune *cm = &ix->communes[sp->commune];
        int num = sp->naddr ? ix->addrs[sp->addr0].num + (int)(i % 3) : (int)i;
        snprintf(q, sizeof q, "%d %.200s %.60s", num, gc_str(ix, sp->name), gc_str(ix, cm->name));
        geo(ix, s, q, NULL, NULL, NULL);
        snprintf(q, sizeof q, "%.200s", gc_str(ix, sp->nname));
        geo(ix, s, q, gc_str(ix, cm->postcode), cm->insee, NULL);
        geo(ix, s, q, NULL, NULL, gc_str(ix, cm->nname));
    }
    for (uint32_t i = 0; i < ix->naliases && i < 4; i++) geo(ix, s, "rue des acacias", NULL, NULL, gc_str(ix, ix->aliases[i].nname));
    for (uint32_t i = 0; i < ix->naddrs && i < 8; i++) {
        const gc_addr *a = &ix->addrs[i];
        rev(ix, s, a->lon / GC_E7, a->lat / GC_E7);
        rev(ix, s, a->lon / GC_E7 + 0.01 * (i % 3), a->lat / GC_E7 - 0.01 * (i % 2));
    }
    double x0 = ix->g_lon0, y0 = ix->g_lat0, x1 = x0 + ix->g_nx * ix->g_cell, y1 = y0 + ix->g_ny * ix->g_cell;
    rev(ix, s, x0, y0);
    rev(ix, s, x1, y1);
    rev(ix, s, (x0 + x1) / 2, (y0 + y1) / 2);
    rev(ix, s, x0 - 1, y1 + 1);
    rev(ix, s, 180, -90);
    rev(ix, s, -180, 90);
    gf_gc_stats st;
    gf_gc_index_stats(ix, &st);
    gf_gc_scratch_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy: ASan sees a read past the file; malloc aligns as a mapping does */
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    gf_ctx *ctx;
    if (gf_ctx_create(&ctx) != GF_OK) { free(buf); return 0; }
    gf_gc_index *ix = NULL;
    gf_status st = gc_index_open(ctx, "fuzz.idx", buf, size, &ix);
    if (st == GF_OK) {
        queries(ix);
        gf_gc_index_destroy(ix);
    } else if (st != GF_ERR_PARSE || ix != NULL || gf_ctx_errmsg(ctx)[0] == 0) {
        abort(); /* refused, but not as documented */
    }
    gf_ctx_destroy(ctx);
    free(buf);
    return 0;
}

/* ---- the structure-aware mutator ---- */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return *s;
}

static uint32_t value32(uint64_t *rs, uint32_t cur, const gc_fhdr *h)
{
    static const uint32_t fixed[] = {0, 1, 2, 3, 7, 8, 63, 64, 65, 255, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 99998, 99999,
                                     1800000000u, (uint32_t)-1800000000, 900000000u, (uint32_t)-900000000,
                                     0x7FFFFFFF, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu};
    const uint32_t counts[] = {h->ncommunes, h->nstreets, h->naddrs, (uint32_t)h->poollen, h->ntri, h->ngrid_items,
                               h->naddrs + h->nstreets, h->h_insee_cap, h->g_nx * h->g_ny};
    switch (rnd(rs) % 6) {
    case 0: return fixed[rnd(rs) % (sizeof fixed / sizeof fixed[0])];
    case 1: { uint32_t c = counts[rnd(rs) % (sizeof counts / sizeof counts[0])]; return c + (uint32_t)(rnd(rs) % 3) - 1; }
    case 2: return cur + (uint32_t)(rnd(rs) % 17) - 8;
    case 3: return cur ^ (1u << (rnd(rs) % 32));
    case 4: { uint32_t c = counts[rnd(rs) % (sizeof counts / sizeof counts[0])]; return c ? (uint32_t)(rnd(rs) % c) : 0; }
    default: return (uint32_t)rnd(rs);
    }
}

static double value_d(uint64_t *rs, double cur)
{
    static const double fixed[] = {NAN, INFINITY, -INFINITY, 0, -0.0, 1e-300, 1e300, -1e300, 180, -180, 90, -90, 181,
                                   -91, 1e-6, 9e-7, 360, 360.5, DBL_MAX, DBL_MIN, 0.0005, 45};
    switch (rnd(rs) % 3) {
    case 0: return fixed[rnd(rs) % (sizeof fixed / sizeof fixed[0])];
    case 1: { uint64_t u; memcpy(&u, &cur, 8); u ^= 1ull << (rnd(rs) % 64); memcpy(&cur, &u, 8); return cur; }
    default: return cur * (double)(rnd(rs) % 2000) / 1000.0;
    }
}

/* One change in the header. */
static void mutate_header(uint64_t *rs, gc_fhdr *h)
{
    uint32_t *u32[] = {&h->ncommunes, &h->nstreets, &h->naddrs, &h->h_insee_cap, &h->h_street_cap, &h->h_cname_cap,
                       &h->npostcodes, &h->ntri, &h->ngrid_items, &h->g_nx, &h->g_ny, &h->naliases, &h->nld, &h->version, &h->endian};
    double *d[] = {&h->g_lon0, &h->g_lat0, &h->g_cell};
    uint64_t r = rnd(rs) % 20;
    if (r < 12) { uint32_t *f = u32[rnd(rs) % (sizeof u32 / sizeof u32[0])]; *f = value32(rs, *f, h); }
    else if (r < 17) { double *f = d[rnd(rs) % 3]; *f = value_d(rs, *f); }
    else if (r < 18) h->poollen = rnd(rs) % 2 ? UINT64_MAX - rnd(rs) % 4096 : h->poollen + rnd(rs) % 64 - 32;
    else if (r < 19) h->filelen += rnd(rs) % 64 - 32;
    else { uint32_t t = h->g_nx; h->g_nx = h->g_ny; h->g_ny = t; }
}

/* One change inside the sections; 0 when the layout does not allow it. */
static int mutate_sections(uint64_t *rs, uint8_t *data, size_t size)
{
    gc_fhdr h;
    memcpy(&h, data, sizeof h);
    size_t off[GC_NSECT], sz[GC_NSECT], total;
    if (gc_file_layout(&h, off, sz, &total) || total != size) return 0;
    int s = (int)(rnd(rs) % GC_NSECT);
    for (int k = 0; k < GC_NSECT && sz[s] < 4; k++) s = (s + 1) % GC_NSECT;
    if (sz[s] < 4) return 0;
    uint8_t *p = data + off[s];
    size_t nw = sz[s] / 4;
    switch (rnd(rs) % 8) {
    case 0: case 1: case 2: { /* one word */
        uint32_t v;
        size_t w = rnd(rs) % nw;
        memcpy(&v, p + 4 * w, 4);
        v = value32(rs, v, &h);
        memcpy(p + 4 * w, &v, 4);
        break;
    }
    case 3: { /* a homonym link back, or to anywhere */
        if (h.ncommunes == 0) return 0;
        gc_commune c;
        size_t i = rnd(rs) % h.ncommunes;
        memcpy(&c, data + off[GC_S_COMMUNES] + i * sizeof c, sizeof c);
        uint32_t to = rnd(rs) % 2 ? (uint32_t)(rnd(rs) % (i + 1)) : (uint32_t)(rnd(rs) % h.ncommunes);
        if (c.next_name != GC_NONE && c.next_name < h.ncommunes && rnd(rs) % 2) {
            i = c.next_name; /* the next one links back: a cycle */
            memcpy(&c, data + off[GC_S_COMMUNES] + i * sizeof c, sizeof c);
            to = (uint32_t)(rnd(rs) % (i + 1));
        }
        c.next_name = to;
        memcpy(data + off[GC_S_COMMUNES] + i * sizeof c, &c, sizeof c);
        break;
    }
    case 4: { /* a hash table filled up */
        int t = GC_S_H_INSEE + (int)(rnd(rs) % 3);
        uint32_t v = 1 + (uint32_t)(rnd(rs) % 4);
        for (size_t i = 0; i + 4 <= sz[t]; i += 4) {
            uint32_t x;
            memcpy(&x, data + off[t] + i, 4);
            if (!x) memcpy(data + off[t] + i, &v, 4);
        }
        break;
    }
    case 5: { /* two elements swapped (order broken, values sound) */
        /* one size per section: a section added to the format must be added here */
        static const size_t elt[] = {sizeof(gc_commune), sizeof(gc_street), sizeof(gc_addr), 1, 4, 4, 4, 8,
                                     sizeof(gc_alias), 8, 4, 4, 4, 4};
        _Static_assert(sizeof elt / sizeof elt[0] == GC_NSECT, "an element size per index section");
        size_t n = sz[s] / elt[s];
        if (n < 2) return 0;
        size_t a = rnd(rs) % n, b = rnd(rs) % n;
        uint8_t tmp[64];
        memcpy(tmp, p + a * elt[s], elt[s]);
        memcpy(p + a * elt[s], p + b * elt[s], elt[s]);
        memcpy(p + b * elt[s], tmp, elt[s]);
        break;
    }
    case 6: { /* a bit */
        size_t i = rnd(rs) % sz[s];
        p[i] ^= (uint8_t)(1u << (rnd(rs) % 8));
        break;
    }
    default: { /* a position moved (an address's or a street's lon or lat) */
        int t = rnd(rs) % 2 ? GC_S_ADDRS : GC_S_STREETS;
        size_t e = t == GC_S_ADDRS ? sizeof(gc_addr) : sizeof(gc_street), n = sz[t] / e;
        size_t at = t == GC_S_ADDRS ? offsetof(gc_addr, lon) : offsetof(gc_street, lon);
        if (!n) return 0;
        uint8_t *q = data + off[t] + (rnd(rs) % n) * e + at + 4 * (rnd(rs) % 2);
        int32_t v;
        memcpy(&v, q, 4);
        static const int32_t lim[] = {INT32_MIN, INT32_MAX, 1800000000, -1800000000, 900000000, -900000000, 0};
        v = rnd(rs) % 2 ? lim[rnd(rs) % 7] : (int32_t)((uint32_t)v + (uint32_t)(rnd(rs) % 2000001) - 1000000u);
        memcpy(q, &v, 4);
        break;
    }
    }
    return 1;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    if (!sample) setup();
    uint64_t rs = seed * 0x9E3779B97F4A7C15ull + 1;
    gc_fhdr h;
    int is_index = size >= sizeof h && !memcmp(data, GC_MAGIC, 8);
    if (is_index) memcpy(&h, data, sizeof h);
    /* not (or no longer) an index of this version: start again from the sample now and then */
    if ((!is_index || h.version != GC_VERSION) && rnd(&rs) % 4 == 0 && sample_len <= max_size) {
        memcpy(data, sample, sample_len);
        return sample_len;
    }
    uint64_t op = rnd(&rs) % 16;
    if (is_index && op < 4) {
        mutate_header(&rs, &h);
        memcpy(data, &h, sizeof h);
    } else if (is_index && op < 12) {
        int n = 1 + (int)(rnd(&rs) % 3);
        for (int i = 0; i < n; i++)
            if (!mutate_sections(&rs, data, size)) size = LLVMFuzzerMutate(data, size, max_size);
    } else if (op < 13 && size) {
        data[rnd(&rs) % size] ^= (uint8_t)(1u << (rnd(&rs) % 8));
    } else {
        size = LLVMFuzzerMutate(data, size, max_size);
    }
    /* re-sealed 15 times in 16: the checksum itself is tried too */
    if (size >= sizeof h && rnd(&rs) % 16) {
        memcpy(&h, data, sizeof h);
        h.crc = gc_file_crc(data, size);
        memcpy(data, &h, sizeof h);
    }
    return size;
}
