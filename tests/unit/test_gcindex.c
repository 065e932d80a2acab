/* The geocoding index file and its loader: a real index (tests/fuzz/
 * gc_sample.h) is saved, then damaged or crafted in memory, each defect on
 * its own, and loaded from an exact-size buffer (so that ASan sees any read
 * past it). Crafted files are re-sealed with a good CRC so that the defect,
 * not the checksum, is what the loader must catch. Every refused file is
 * GF_ERR_PARSE with a message; every accepted one answers geocode and
 * reverse queries, which must end (a watchdog fails the test on a hang).
 * Usage: test_gcindex SRCDIR (GF_WRITE_SEEDS=1 rewrites the fuzz seeds). */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geocode/gcfile.h"
#include "gf_test.h"
#include "../fuzz/gc_sample.h"

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "test_gcindex: a lookup did not end (hang)\n";
    (void)!write(2, m, sizeof m - 1);
    _exit(1);
}

static unsigned char *dup_buf(const unsigned char *p, size_t n)
{
    unsigned char *q = malloc(n ? n : 1);
    if (n) memcpy(q, p, n);
    return q;
}

static gc_fhdr *hdr(unsigned char *b) { return (gc_fhdr *)(void *)b; }

static void reseal(unsigned char *b, size_t len) { hdr(b)->crc = gc_file_crc(b, len); }

/* Section i of a well-formed file. */
static void *sect(unsigned char *b, int i)
{
    size_t off[GC_NSECT], size[GC_NSECT], total;
    if (gc_file_layout(hdr(b), off, size, &total)) abort();
    return b + off[i];
}

/* A few queries of every kind; they must end, whatever the index. */
static void exercise(const gf_gc_index *ix)
{
    gf_gc_scratch *s;
    if (gf_gc_scratch_create(ix, &s) != GF_OK) return;
    const char *qs[] = {"3 bis rue des acacias", "12 av du gal de gaulle bruz", "grande rue saint martin", "le manoir pont rean",
                        "7 rue de chanteloup 35230 corps nuds", "la haute motte", "4 grande rue 25000", "rue inconnue 99999 nulle part"};
    gf_gc_result r;
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        gf_gc_query q = {.q = qs[i], .qlen = strlen(qs[i])};
        gf_gc_geocode(ix, s, &q, &r);
        q.citycode = "99999"; q.citycodelen = 5; /* absent: every probe of the INSEE table */
        gf_gc_geocode(ix, s, &q, &r);
        q.citycode = NULL; q.citycodelen = 0;
        q.city = "saint martin"; q.citylen = 12;
        gf_gc_geocode(ix, s, &q, &r);
    }
    const double pts[][2] = {{-1.7453, 48.0284}, {6.02, 47.24}, {179.9, -89.9}, {-180, 90}, {0, 0}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        gf_gc_reverse(ix, s, pts[i][0], pts[i][1], 0, &r);
        gf_gc_reverse(ix, s, pts[i][0], pts[i][1], 50, &r);
    }
    gf_gc_scratch_destroy(s);
}

/* Loads b (copied into an exact-size buffer); returns the status and runs
 * the queries when it loads. */
static gf_status try_open(gf_ctx *ctx, const unsigned char *b, size_t len)
{
    unsigned char *c = dup_buf(b, len);
    gf_gc_index *ix = (gf_gc_index *)1;
    gf_status st = gc_index_open(ctx, "x.idx", c, len, &ix);
    if (st == GF_OK) exercise(ix);
    else CHECK(ix == NULL && gf_ctx_errmsg(ctx)[0] != 0);
    gf_gc_index_destroy(st == GF_OK ? ix : NULL);
    free(c);
    return st;
}

/* The buffer is refused with a message holding `why`. */
static int refused(gf_ctx *ctx, const unsigned char *b, size_t len, const char *why)
{
    gf_status st = try_open(ctx, b, len);
    int ok = st == GF_ERR_PARSE && strstr(gf_ctx_errmsg(ctx), why) != NULL;
    if (!ok) fprintf(stderr, "  status %d, message \"%s\", expected \"%s\"\n", st, gf_ctx_errmsg(ctx), why);
    return ok;
}

/* b = a fresh copy of the sample b0 (len bytes) with the edits given, re-sealed. */
#define CRAFT(...) do { b = dup_buf(b0, len); __VA_ARGS__; reseal(b, len); } while (0)

static int same_file(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char *c = malloc(len + 1);
    size_t n = fread(c, 1, len + 1, f);
    fclose(f);
    int same = n == len && memcmp(b, c, len) == 0;
    free(c);
    return same;
}

static void check_seed(const char *src, const char *name, const unsigned char *b, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus-fuzz_index/%s", src, name);
    const char *w = getenv("GF_WRITE_SEEDS");
    if (w && !strcmp(w, "1")) {
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(b, 1, len, f) == len);
        if (f) fclose(f);
    }
    int same = same_file(path, b, len);
    if (!same)
        fprintf(stderr, "%s is not the index the current format makes of its sample: rewrite it with "
                        "GF_WRITE_SEEDS=1 build/test_gcindex .\n", path);
    CHECK(same);
}

int main(int argc, char **argv)
{
    const char *src = argc > 1 ? argv[1] : ".";
    signal(SIGALRM, on_alarm);
    alarm(120);
    gf_ctx *ctx;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    unsigned char *b0 = NULL, *e0 = NULL;
    size_t len = 0, elen = 0;
    CHECK(gc_sample_bytes(ctx, gc_sample_bal, &b0, &len) == GF_OK);
    CHECK(gc_sample_bytes(ctx, gc_sample_empty_bal, &e0, &elen) == GF_OK);
    if (!b0 || !e0) GF_TEST_END();
    size_t off[GC_NSECT], size[GC_NSECT], total;
    CHECK(gc_file_layout(hdr(b0), off, size, &total) == 0 && total == len && hdr(b0)->filelen == len);

    /* 1. the samples load and answer; the fuzz seeds are the current format's */
    CHECK(try_open(ctx, b0, len) == GF_OK);
    CHECK(try_open(ctx, e0, elen) == GF_OK);
    {
        gf_gc_index *ix = NULL;
        unsigned char *c = dup_buf(b0, len);
        CHECK(gc_index_open(ctx, "x.idx", c, len, &ix) == GF_OK);
        if (ix) {
            gf_gc_scratch *s;
            gf_gc_result r;
            CHECK(gf_gc_scratch_create(ix, &s) == GF_OK);
            gf_gc_query q = {.q = "3 bis rue des acacias 35170 bruz", .qlen = 31};
            CHECK(gf_gc_geocode(ix, s, &q, &r) == GF_OK && r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0001_00003"));
            gf_gc_query q2 = {.q = "grande rue", .qlen = 10, .city = "saint martin", .citylen = 12}; /* homonyms */
            CHECK(gf_gc_geocode(ix, s, &q2, &r) == GF_OK && r.type == GF_GC_STREET);
            CHECK(gf_gc_reverse(ix, s, -1.7449, 48.0290, 0, &r) == GF_OK && !strcmp(r.id, "35047_0001_00009"));
            /* the lieu-dit complement instead of the street, and after it */
            gf_gc_query q3 = {.q = "12 a le manoir 35170 bruz", .qlen = 25};
            CHECK(gf_gc_geocode(ix, s, &q3, &r) == GF_OK && !strcmp(r.id, "35047_0002_00012") &&
                  !strcmp(r.street, "Avenue du Général de Gaulle") && r.score > 0.9);
            gf_gc_query q4 = {.q = "12a avenue du general de gaulle le manoir 35170 bruz", .qlen = 52};
            CHECK(gf_gc_geocode(ix, s, &q4, &r) == GF_OK && !strcmp(r.id, "35047_0002_00012"));
            gf_gc_scratch_destroy(s);
            gf_gc_index_destroy(ix);
        }
        free(c);
    }
    check_seed(src, "sample.idx", b0, len);
    check_seed(src, "empty.idx", e0, elen);

    /* 2. truncated: too short, or the checksum fails (memory and file) */
    {
        size_t cuts[] = {len - 1, len - 8, len / 2, sizeof(gc_fhdr), sizeof(gc_fhdr) - 1, 8, 0};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
            CHECK(refused(ctx, b0, cuts[i], cuts[i] >= sizeof(gc_fhdr) ? "checksum mismatch (file damaged or truncated)" : "too short"));
        char path[] = "/tmp/gf_gcindex_XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0 && write(fd, b0, len / 2) == (ssize_t)(len / 2));
        if (fd >= 0) close(fd);
        gf_gc_index *ix = NULL;
        CHECK(gf_gc_index_load(ctx, path, &ix) == GF_ERR_PARSE && ix == NULL);
        CHECK(strstr(gf_ctx_errmsg(ctx), path) && strstr(gf_ctx_errmsg(ctx), ": checksum mismatch (file damaged or truncated)"));
        /* an old format is refused with a word on what to do */
        unsigned char *b; CRAFT(hdr(b)->version = 2);
        fd = open(path, O_WRONLY | O_TRUNC);
        CHECK(fd >= 0 && write(fd, b, len) == (ssize_t)len);
        if (fd >= 0) close(fd);
        CHECK(gf_gc_index_load(ctx, path, &ix) == GF_ERR_PARSE && strstr(gf_ctx_errmsg(ctx), "version 2") &&
              strstr(gf_ctx_errmsg(ctx), "rebuild"));
        free(b);
        unlink(path);
    }

    /* 3. one bit flipped: the checksum catches it; re-sealed, the loader
     * refuses it or the lookups still end (every bit of the header, one in
     * three elsewhere) */
    {
        unsigned char *b = dup_buf(b0, len);
        int caught = 1, loaded = 0;
        for (size_t i = 0; i < len * 8; i++) {
            if (i / 8 >= sizeof(gc_fhdr) && i % 3) continue;
            b[i / 8] ^= (unsigned char)(1u << (i % 8));
            if (i % 31 == 0 && try_open(ctx, b, len) != GF_ERR_PARSE) caught = 0;
            if (i / 8 < offsetof(gc_fhdr, crc) || i / 8 >= offsetof(gc_fhdr, crc) + 4) {
                uint32_t keep = hdr(b)->crc;
                reseal(b, len);
                loaded += try_open(ctx, b, len) == GF_OK;
                hdr(b)->crc = keep;
            }
            b[i / 8] ^= (unsigned char)(1u << (i % 8));
        }
        CHECK(caught);
        CHECK(loaded > 0); /* most flips in names and positions leave a usable index */
        free(b);
        /* one bit of the exponent of the grid's origin: 43.52 becomes 5.8e155 (it hung reverse) */
        CRAFT({ uint64_t u; memcpy(&u, &hdr(b)->g_lat0, 8); u ^= 1ull << 61; memcpy(&hdr(b)->g_lat0, &u, 8); });
        CHECK(refused(ctx, b, len, "reverse grid's origin"));
        free(b);
    }

    /* 4. sizes that wrap (off + size past 2^64) or products that overflow */
    {
        unsigned char *b; CRAFT(hdr(b)->poollen = UINT64_MAX - 7);
        CHECK(refused(ctx, b, len, "sections do not add up"));
        free(b);
        CRAFT(hdr(b)->poollen = UINT64_MAX - (len - 8) + 1);
        CHECK(refused(ctx, b, len, "sections do not add up"));
        free(b);
        /* (2^31 * 2^31 + 1) * 4 is 4 modulo 2^64 */
        CRAFT({ hdr(b)->g_nx = 1u << 31; hdr(b)->g_ny = 1u << 31; });
        CHECK(refused(ctx, b, len, "sections do not add up"));
        free(b);
        CRAFT({ hdr(b)->g_nx = UINT32_MAX; hdr(b)->g_ny = UINT32_MAX; });
        CHECK(refused(ctx, b, len, "sections do not add up"));
        free(b);
        CRAFT(hdr(b)->ncommunes = UINT32_MAX);
        CHECK(refused(ctx, b, len, "sections do not add up"));
        free(b);
        CRAFT(hdr(b)->filelen = len + 8);
        CHECK(refused(ctx, b, len, "sections do not add up"));
        free(b);
        /* the grid's size agrees with the file but has no cell */
        CRAFT({ uint32_t t = hdr(b)->g_nx; hdr(b)->g_nx = hdr(b)->g_ny; hdr(b)->g_ny = t; });
        CHECK(try_open(ctx, b, len) == GF_OK || refused(ctx, b, len, "reverse grid"));
        free(b);
    }

    /* 5. the reverse grid: NaN, infinite or huge origin, bad cells */
    {
        const double lat0[] = {NAN, INFINITY, -INFINITY, 1e300, -1e300, 91};
        for (size_t i = 0; i < sizeof lat0 / sizeof lat0[0]; i++) {
            unsigned char *b; CRAFT(hdr(b)->g_lat0 = lat0[i]);
            CHECK(refused(ctx, b, len, "reverse grid's origin"));
            free(b);
            CRAFT(hdr(b)->g_lon0 = lat0[i] == 91 ? 181 : lat0[i]);
            CHECK(refused(ctx, b, len, "reverse grid's origin"));
            free(b);
        }
        const double cells[] = {NAN, 0, -1, 1e-300, INFINITY, 1e300};
        for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
            unsigned char *b; CRAFT(hdr(b)->g_cell = cells[i]);
            CHECK(refused(ctx, b, len, "reverse grid's origin"));
            free(b);
        }
        unsigned char *b; CRAFT(((uint32_t *)sect(b, GC_S_GRID_START))[1] = UINT32_MAX);
        CHECK(refused(ctx, b, len, "reverse grid is malformed"));
        free(b);
        CRAFT(((uint32_t *)sect(b, GC_S_GRID_ITEMS))[0] = hdr(b)->naddrs + hdr(b)->nstreets);
        CHECK(refused(ctx, b, len, "reverse grid item"));
        free(b);
    }

    /* 6. full hash tables: refused at load; and the lookups end even on one */
    {
        for (int t = GC_S_H_INSEE; t <= GC_S_H_CNAME; t++) {
            unsigned char *b; CRAFT({
                uint32_t *h = sect(b, t);
                for (size_t i = 0; i < size[t] / 4; i++) if (!h[i]) h[i] = 1;
            });
            CHECK(refused(ctx, b, len, "hash table"));
            free(b);
        }
        unsigned char *b; CRAFT(((uint32_t *)sect(b, GC_S_H_STREET))[3] = hdr(b)->nstreets + 1);
        CHECK(refused(ctx, b, len, "hash table"));
        free(b);
        unsigned char *c = dup_buf(b0, len);
        gf_gc_index *ix = NULL;
        CHECK(gc_index_open(ctx, "x.idx", c, len, &ix) == GF_OK);
        if (ix) {
            gf_gc_index full = *ix; /* the same index with every table full */
            uint32_t cap = ix->h_insee_cap > ix->h_street_cap ? ix->h_insee_cap : ix->h_street_cap;
            if (ix->h_cname_cap > cap) cap = ix->h_cname_cap;
            uint32_t *one = malloc(cap * sizeof *one);
            for (uint32_t i = 0; i < cap; i++) one[i] = 1;
            full.h_insee = full.h_street = full.h_cname = one;
            full.map = NULL;
            exercise(&full);
            CHECK(gc_find_insee(&full, "99999", 5) == GC_NONE && gc_find_cname(&full, "nulle part", 10) == GC_NONE &&
                  gc_find_street(&full, 0, "rue inconnue", 12) == GC_NONE);
            /* the copy's own lazily built prefix tables (a query naming no
             * commune searched the whole index): the copy is not destroyed */
            gc_prefix_free(atomic_load(&full.prefix));
            free(one);
            gf_gc_index_destroy(ix);
        }
        free(c);
    }

    /* 7. homonym chains: a cycle, a link to itself or backwards */
    {
        gc_commune *cm = sect(b0, GC_S_COMMUNES);
        uint32_t first = GC_NONE, nc = hdr(b0)->ncommunes;
        for (uint32_t i = 0; i < nc; i++) if (cm[i].next_name != GC_NONE) first = i;
        CHECK(first != GC_NONE); /* the two Saint-Martin */
        if (first != GC_NONE) {
            uint32_t second = cm[first].next_name;
            unsigned char *b; CRAFT(((gc_commune *)sect(b, GC_S_COMMUNES))[second].next_name = first);
            CHECK(refused(ctx, b, len, "homonym link"));
            free(b);
            CRAFT(((gc_commune *)sect(b, GC_S_COMMUNES))[first].next_name = first);
            CHECK(refused(ctx, b, len, "homonym link"));
            free(b);
            CRAFT(((gc_commune *)sect(b, GC_S_COMMUNES))[first].next_name = nc);
            CHECK(refused(ctx, b, len, "homonym link"));
            free(b);
        }
    }

    /* 8. every other index or offset held by the file */
    {
        unsigned char *b; CRAFT(((gc_street *)sect(b, GC_S_STREETS))[0].addr0 = 0xFFFFFFF0u);
        CHECK(refused(ctx, b, len, "street's addresses"));
        free(b);
        CRAFT({ gc_street *s = sect(b, GC_S_STREETS); s[0].naddr = hdr(b)->naddrs - s[0].addr0 + 1; });
        CHECK(refused(ctx, b, len, "street's addresses"));
        free(b);
        CRAFT(((gc_street *)sect(b, GC_S_STREETS))[0].nlen = (uint16_t)(hdr(b)->poollen));
        CHECK(refused(ctx, b, len, "street's name"));
        free(b);
        CRAFT(((gc_street *)sect(b, GC_S_STREETS))[0].commune = hdr(b)->ncommunes);
        CHECK(refused(ctx, b, len, "street's name or commune"));
        free(b);
        CRAFT(((gc_addr *)sect(b, GC_S_ADDRS))[0].street = hdr(b)->nstreets);
        CHECK(refused(ctx, b, len, "address's street"));
        free(b);
        CRAFT(((gc_addr *)sect(b, GC_S_ADDRS))[0].cle = (uint32_t)hdr(b)->poollen);
        CHECK(refused(ctx, b, len, "address's street"));
        free(b);
        CRAFT(((gc_addr *)sect(b, GC_S_ADDRS))[0].num = INT32_MIN);
        CHECK(refused(ctx, b, len, "address's street, number"));
        free(b);
        CRAFT(((gc_addr *)sect(b, GC_S_ADDRS))[0].lon = INT32_MAX);
        CHECK(refused(ctx, b, len, "address's position"));
        free(b);
        CRAFT(((gc_street *)sect(b, GC_S_STREETS))[0].lat = 90 * 10000000 + 1);
        CHECK(refused(ctx, b, len, "street's position"));
        free(b);
        CRAFT(memset(((gc_commune *)sect(b, GC_S_COMMUNES))[0].insee, 'A', 8));
        CHECK(refused(ctx, b, len, "commune's name or code"));
        free(b);
        CRAFT(((char *)sect(b, GC_S_POOL))[hdr(b)->poollen - 1] = 'x');
        CHECK(refused(ctx, b, len, "string pool"));
        free(b);
        CRAFT(((uint32_t *)sect(b, GC_S_TRI_VALS))[0] = hdr(b)->nstreets);
        CHECK(refused(ctx, b, len, "trigram"));
        free(b);
        CRAFT(((uint64_t *)sect(b, GC_S_POSTCODES))[0] |= 0xFFFFFFFFu);
        CHECK(refused(ctx, b, len, "postcode"));
        free(b);
        CRAFT(((gc_alias *)sect(b, GC_S_ALIASES))[0].commune = hdr(b)->ncommunes);
        CHECK(hdr(b0)->naliases > 0 && refused(ctx, b, len, "alias"));
        free(b);
        /* lieux-dits: their address list (another section) and its entries */
        uint32_t ld = UINT32_MAX, ns = hdr(b0)->nstreets;
        for (uint32_t i = 0; i < ns && ld == UINT32_MAX; i++)
            if (((gc_street *)sect(b0, GC_S_STREETS))[i].kind == GC_K_LIEUDIT) ld = i;
        CHECK(ld != UINT32_MAX && hdr(b0)->nld > 0);
        if (ld != UINT32_MAX) {
            CRAFT(((uint32_t *)sect(b, GC_S_LD_ADDRS))[0] = hdr(b)->naddrs);
            CHECK(refused(ctx, b, len, "lieu-dit's address"));
            free(b);
            /* in range of the addresses, not of the lieu-dit list */
            CRAFT({ gc_street *s = sect(b, GC_S_STREETS); s[ld].naddr = hdr(b)->nld - s[ld].addr0 + 1; });
            CHECK(refused(ctx, b, len, "street's addresses"));
            free(b);
            CRAFT(((gc_street *)sect(b, GC_S_STREETS))[ld].kind = GC_K_LIEUDIT + 1);
            CHECK(refused(ctx, b, len, "street's kind"));
            free(b);
        }
    }

    /* 9. the builder leaves out positions outside WGS84's range (they have
     * no int32 form), instead of storing a wrapped one */
    {
        static const char bal[] = "cle_interop;commune_insee;commune_nom;voie_nom;numero;suffixe;long;lat\n"
                                  "35047_0001_00001;35047;Bruz;Rue des Acacias;1;;250.5;48.02\n"
                                  "35047_0001_00002;35047;Bruz;Rue des Acacias;2;;-1.74;48.02\n";
        gf_gc_index *ix = NULL;
        CHECK(gc_sample_build(ctx, bal, &ix) == GF_OK);
        if (ix) {
            gf_gc_stats gs;
            gf_gc_index_stats(ix, &gs);
            CHECK(gs.addresses == 1);
            gf_gc_index_destroy(ix);
        }
    }
    free(b0);
    free(e0);
    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
