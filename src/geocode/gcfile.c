/* The geocoding index file (gcfile.h): layout, checksum, save, and the
 * loader that checks every count, offset and index before use. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "geoflux/write.h"
#include "geocode/gcfile.h"

static size_t pad8(size_t x) { return (x + 7) & ~(size_t)7; }

int gc_file_layout(const gc_fhdr *h, size_t off[GC_NSECT], size_t size[GC_NSECT], size_t *total)
{
    uint64_t ncell;
    if (__builtin_mul_overflow((uint64_t)h->g_nx, (uint64_t)h->g_ny, &ncell) || ncell == UINT64_MAX) return -1;
    const struct { uint64_t n; size_t elt; } s[GC_NSECT] = {
        [GC_S_COMMUNES] = {h->ncommunes, sizeof(gc_commune)}, [GC_S_STREETS] = {h->nstreets, sizeof(gc_street)},
        [GC_S_ADDRS] = {h->naddrs, sizeof(gc_addr)},          [GC_S_POOL] = {h->poollen, 1},
        [GC_S_H_INSEE] = {h->h_insee_cap, 4},                 [GC_S_H_STREET] = {h->h_street_cap, 4},
        [GC_S_H_CNAME] = {h->h_cname_cap, 4},                 [GC_S_POSTCODES] = {h->npostcodes, 8},
        [GC_S_ALIASES] = {h->naliases, sizeof(gc_alias)},     [GC_S_TRI_KEYS] = {h->ntri, 8},
        [GC_S_TRI_VALS] = {h->ntri, 4},                       [GC_S_GRID_START] = {ncell + 1, 4},
        [GC_S_GRID_ITEMS] = {h->ngrid_items, 4},             [GC_S_LD_ADDRS] = {h->nld, 4},
    };
    size_t o = pad8(sizeof *h);
    for (int i = 0; i < GC_NSECT; i++) {
        size_t n;
        if (s[i].n > SIZE_MAX || __builtin_mul_overflow((size_t)s[i].n, s[i].elt, &n) || n > SIZE_MAX - 7 ||
            pad8(n) > SIZE_MAX - o)
            return -1;
        off[i] = o;
        size[i] = n;
        o += pad8(n);
    }
    *total = o;
    return 0;
}

/* The index's arrays, in section order. */
static void section_ptrs(gf_gc_index *ix, void **p[GC_NSECT])
{
    p[GC_S_COMMUNES] = (void **)&ix->communes;   p[GC_S_STREETS] = (void **)&ix->streets;
    p[GC_S_ADDRS] = (void **)&ix->addrs;         p[GC_S_POOL] = (void **)&ix->pool;
    p[GC_S_H_INSEE] = (void **)&ix->h_insee;     p[GC_S_H_STREET] = (void **)&ix->h_street;
    p[GC_S_H_CNAME] = (void **)&ix->h_cname;     p[GC_S_POSTCODES] = (void **)&ix->postcodes;
    p[GC_S_ALIASES] = (void **)&ix->aliases;     p[GC_S_TRI_KEYS] = (void **)&ix->tri_keys;
    p[GC_S_TRI_VALS] = (void **)&ix->tri_vals;   p[GC_S_GRID_START] = (void **)&ix->grid_start;
    p[GC_S_GRID_ITEMS] = (void **)&ix->grid_items; p[GC_S_LD_ADDRS] = (void **)&ix->ld_addrs;
}

/* crc32_z takes a size_t length (zlib >= 1.2.9) */
static uint32_t crc_add(uint32_t crc, const void *p, size_t n) { return (uint32_t)crc32_z(crc, p, n); }

uint32_t gc_file_crc(const void *file, size_t len)
{
    gc_fhdr h;
    memcpy(&h, file, sizeof h);
    h.crc = 0;
    uint32_t crc = crc_add(crc32(0, NULL, 0), &h, sizeof h);
    return crc_add(crc, (const char *)file + sizeof h, len - sizeof h);
}

gf_status gf_gc_index_save(const gf_gc_index *cix, gf_ctx *ctx, const char *path)
{
    gf_gc_index *ix = (gf_gc_index *)cix; /* section_ptrs() takes addresses of the fields, read only here */
    gc_fhdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, GC_MAGIC, 8);
    h.version = GC_VERSION;
    h.endian = GC_ENDIAN;
    h.ncommunes = ix->ncommunes; h.nstreets = ix->nstreets; h.naddrs = ix->naddrs;
    h.h_insee_cap = ix->h_insee_cap; h.h_street_cap = ix->h_street_cap; h.h_cname_cap = ix->h_cname_cap;
    h.npostcodes = ix->npostcodes; h.ntri = ix->ntri; h.ngrid_items = ix->ngrid_items; h.naliases = ix->naliases;
    h.nld = ix->nld;
    h.g_nx = ix->g_nx; h.g_ny = ix->g_ny; h.poollen = ix->poollen;
    h.g_lon0 = ix->g_lon0; h.g_lat0 = ix->g_lat0; h.g_cell = ix->g_cell;
    size_t off[GC_NSECT], size[GC_NSECT], total;
    void **ptr[GC_NSECT];
    section_ptrs(ix, ptr);
    if (gc_file_layout(&h, off, size, &total)) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s: index too large", path);
    h.filelen = total;
    /* the arrays are in memory: the CRC goes into the header before the first byte is written */
    static const char zeros[8] = {0};
    uint32_t crc = crc_add(crc32(0, NULL, 0), &h, sizeof h);
    crc = crc_add(crc, zeros, pad8(sizeof h) - sizeof h);
    for (int i = 0; i < GC_NSECT; i++) {
        if (size[i]) crc = crc_add(crc, *ptr[i], size[i]);
        crc = crc_add(crc, zeros, pad8(size[i]) - size[i]);
    }
    h.crc = crc;
    gf_atomic out; /* write.h: temporary created exclusively, renamed when complete */
    gf_status st = gf_atomic_create(ctx, path, 0, &out);
    if (st) return st;
    FILE *f = fdopen(out.fd, "wb");
    if (!f) {
        st = gf_ctx_err(ctx, GF_ERR_IO, "%s: %s", path, strerror(errno));
        gf_atomic_free(&out);
        return st;
    }
    out.fd = -1; /* closed with f */
    int ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(zeros, 1, pad8(sizeof h) - sizeof h, f) == pad8(sizeof h) - sizeof h;
    for (int i = 0; i < GC_NSECT && ok; i++) {
        if (size[i]) ok = fwrite(*ptr[i], 1, size[i], f) == size[i];
        size_t pd = pad8(size[i]) - size[i];
        if (ok && pd) ok = fwrite(zeros, 1, pd, f) == pd;
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok) {
        int e = errno;
        gf_atomic_free(&out);
        return gf_ctx_err(ctx, GF_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    st = gf_atomic_publish(ctx, &out);
    gf_atomic_free(&out);
    return st;
}

static int pos_ok(int32_t lon, int32_t lat)
{
    return lon >= -180 * (int32_t)GC_E7 && lon <= 180 * (int32_t)GC_E7 && lat >= -90 * (int32_t)GC_E7 &&
           lat <= 90 * (int32_t)GC_E7;
}

/* Slots in use of an open-addressing table: refused past half full (the
 * builder never fills more), so that every probe meets an empty slot soon;
 * the lookups bound their probes by the capacity as well. */
static int table_ok(const uint32_t *t, uint32_t cap, uint32_t max)
{
    if (cap == 0) return 1;
    if (cap & (cap - 1)) return 0;
    uint32_t used = 0;
    for (uint32_t i = 0; i < cap; i++) {
        if (t[i] > max) return 0;
        used += t[i] != 0;
    }
    return used <= cap / 2;
}

/* Every count, offset and index of a mapped file within its table, every
 * position in range, every chain ascending: what the lookups rely on to
 * stay in bounds and to end. NULL when all hold, else what does not.
 *
 * One pass over the file at load, rather than checks at each use: the
 * CRC already reads every byte at load, this pass adds about as much, and
 * the lookups (whose inner loops are the hot path of a 1M-row run) then
 * need no bounds checks of their own. Lazy checks would have to be in every
 * access of match.c, where one forgotten check is an out-of-bounds read. */
static const char *index_problem(const gf_gc_index *ix)
{
    uint64_t pl = ix->poollen;
    if (pl == 0 || ix->pool[pl - 1] != 0) return "the string pool is not terminated";
    if (!table_ok(ix->h_insee, ix->h_insee_cap, ix->ncommunes) || !table_ok(ix->h_cname, ix->h_cname_cap, ix->ncommunes) ||
        !table_ok(ix->h_street, ix->h_street_cap, ix->nstreets))
        return "a hash table is malformed or overfull";
    for (uint32_t i = 0; i < ix->ncommunes; i++) {
        const gc_commune *c = &ix->communes[i];
        if (c->name >= pl || c->nname >= pl || c->postcode >= pl || memchr(c->insee, 0, sizeof c->insee) == NULL)
            return "a commune's name or code is out of range";
        /* chains of homonyms go up (the builder links them in commune order), so they end */
        if (c->next_name != GC_NONE && (c->next_name <= i || c->next_name >= ix->ncommunes))
            return "a commune's homonym link is out of range";
        if (c->lon != INT32_MIN && !pos_ok(c->lon, c->lat)) return "a commune's position is out of range";
    }
    for (uint32_t i = 0; i < ix->nstreets; i++) {
        const gc_street *s = &ix->streets[i];
        if (s->commune >= ix->ncommunes || s->name >= pl || s->nname >= pl || s->nlen >= pl - s->nname ||
            s->postcode >= pl || s->tstart > s->nlen || s->oldcity >= pl || s->oldcitycode >= pl)
            return "a street's name or commune is out of range";
        uint32_t na = s->kind == GC_K_LIEUDIT ? ix->nld : ix->naddrs;
        if (s->kind > GC_K_LIEUDIT) return "a street's kind is unknown";
        if (s->addr0 > na || s->naddr > na - s->addr0) return "a street's addresses are out of range";
        if (s->lon != INT32_MIN && !pos_ok(s->lon, s->lat)) return "a street's position is out of range";
    }
    for (uint32_t i = 0; i < ix->naddrs; i++) {
        const gc_addr *a = &ix->addrs[i];
        if (a->street >= ix->nstreets || a->suffix >= pl || a->cle >= pl || a->num < 0 || a->num >= 99999)
            return "an address's street, number or strings are out of range";
        if (!pos_ok(a->lon, a->lat)) return "an address's position is out of range";
    }
    for (uint32_t i = 0; i < ix->npostcodes; i++)
        if ((ix->postcodes[i] & 0xFFFFFFFF) >= ix->ncommunes) return "a postcode's commune is out of range";
    for (uint32_t i = 0; i < ix->naliases; i++)
        if (ix->aliases[i].nname >= pl || ix->aliases[i].commune >= ix->ncommunes) return "an alias is out of range";
    for (uint32_t i = 0; i < ix->ntri; i++)
        if (ix->tri_vals[i] >= ix->nstreets) return "a trigram posting is out of range";
    for (uint32_t i = 0; i < ix->nld; i++)
        if (ix->ld_addrs[i] >= ix->naddrs) return "a lieu-dit's address is out of range";
    /* the grid: finite, in WGS84 range, bounded in cells (reverse walks it ring by ring) */
    if (!(ix->g_lon0 >= -180 && ix->g_lon0 <= 180 && ix->g_lat0 >= -90 && ix->g_lat0 <= 90 && ix->g_cell >= 1e-6 &&
          ix->g_cell <= 360) ||
        ix->g_nx == 0 || ix->g_ny == 0 || (uint64_t)ix->g_nx * ix->g_ny > GC_GRID_MAXCELLS)
        return "the reverse grid's origin, cell or size is out of range";
    size_t ncell = (size_t)ix->g_nx * ix->g_ny;
    if (ix->grid_start[0] != 0 || ix->grid_start[ncell] != ix->ngrid_items) return "the reverse grid is malformed";
    for (size_t c = 0; c < ncell; c++)
        if (ix->grid_start[c] > ix->grid_start[c + 1]) return "the reverse grid is malformed";
    uint64_t nitems = (uint64_t)ix->naddrs + ix->nstreets;
    for (uint32_t i = 0; i < ix->ngrid_items; i++)
        if (ix->grid_items[i] >= nitems) return "a reverse grid item is out of range";
    return NULL;
}

gf_status gc_index_open(gf_ctx *ctx, const char *name, const void *p, size_t len, gf_gc_index **out)
{
    *out = NULL;
    gc_fhdr h;
    if (len < sizeof h) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a geoflux index (too short)", name);
    memcpy(&h, p, sizeof h);
    if (memcmp(h.magic, GC_MAGIC, 8) != 0) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a geoflux index", name);
    if (h.endian != GC_ENDIAN)
        return gf_ctx_err(ctx, GF_ERR_PARSE,
                          "%s: index written on a machine of another byte order: rebuild it with `geoflux index build`", name);
    if (h.version != GC_VERSION)
        return gf_ctx_err(ctx, GF_ERR_PARSE,
                          "%s: index format version %u, this geoflux reads version %u: rebuild it with `geoflux index build`",
                          name, h.version, GC_VERSION);
    if (gc_file_crc(p, len) != h.crc)
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: checksum mismatch (file damaged or truncated)", name);
    /* past the CRC the file is whole as written, but it may have been
     * written (or re-sealed) by someone else: nothing in it is trusted yet */
    size_t off[GC_NSECT], size[GC_NSECT], total;
    if (h.filelen != len || gc_file_layout(&h, off, size, &total) || total != len)
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: corrupt index (its sections do not add up to the file's %zu bytes)",
                          name, len);
    gf_gc_index *ix = calloc(1, sizeof *ix);
    if (!ix) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    ix->ncommunes = h.ncommunes; ix->nstreets = h.nstreets; ix->naddrs = h.naddrs;
    ix->h_insee_cap = h.h_insee_cap; ix->h_street_cap = h.h_street_cap; ix->h_cname_cap = h.h_cname_cap;
    ix->npostcodes = h.npostcodes; ix->ntri = h.ntri; ix->ngrid_items = h.ngrid_items; ix->naliases = h.naliases;
    ix->nld = h.nld;
    ix->g_nx = h.g_nx; ix->g_ny = h.g_ny; ix->poollen = h.poollen;
    ix->g_lon0 = h.g_lon0; ix->g_lat0 = h.g_lat0; ix->g_cell = h.g_cell;
    void **ptr[GC_NSECT];
    section_ptrs(ix, ptr);
    for (int i = 0; i < GC_NSECT; i++) *ptr[i] = (char *)p + off[i]; /* read only: the arrays are never written once loaded */
    const char *why = index_problem(ix);
    if (why) {
        free(ix);
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: corrupt index (%s)", name, why);
    }
    *out = ix;
    return GF_OK;
}

gf_status gf_gc_index_load(gf_ctx *ctx, const char *path, gf_gc_index **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a geoflux index (not a regular file)", path);
    }
    if (sb.st_size < (off_t)sizeof(gc_fhdr)) {
        close(fd);
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a geoflux index (too short)", path);
    }
    size_t len = (size_t)sb.st_size;
    void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: mmap: %s", path, strerror(errno));
    gf_status st = gc_index_open(ctx, path, m, len, out);
    if (st) {
        munmap(m, len);
        return st;
    }
    (*out)->map = m;
    (*out)->maplen = len;
    return GF_OK;
}
