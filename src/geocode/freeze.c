/* Freezing the geocoding index: the builder's tables sorted and packed
 * into the index the matcher reads (hash tables, trigram postings, the
 * lieux-dits' addresses, the reverse grid), and the index's lifetime. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/sort.h"
#include "geocode/gcbuild.h"
#include "geocode/gcfile.h"

static int addr_cmp(const gc_addr *x, const gc_addr *y, const char *pool)
{
    if (x->num != y->num) return x->num < y->num ? -1 : 1;
    return strcmp(pool + x->suffix, pool + y->suffix);
}

static gf_status build_grid(gf_gc_index *ix, gf_ctx *ctx)
{
    double mnx = 1e9, mny = 1e9, mxx = -1e9, mxy = -1e9;
    uint32_t n = 0;
    for (uint32_t i = 0; i < ix->naddrs; i++) {
        double x = ix->addrs[i].lon / GC_E7, y = ix->addrs[i].lat / GC_E7;
        mnx = x < mnx ? x : mnx; mxx = x > mxx ? x : mxx;
        mny = y < mny ? y : mny; mxy = y > mxy ? y : mxy;
        n++;
    }
    for (uint32_t i = 0; i < ix->nstreets; i++) {
        const gc_street *s = &ix->streets[i];
        if (s->naddr || s->lon == INT32_MIN) continue;
        double x = s->lon / GC_E7, y = s->lat / GC_E7;
        mnx = x < mnx ? x : mnx; mxx = x > mxx ? x : mxx;
        mny = y < mny ? y : mny; mxy = y > mxy ? y : mxy;
        n++;
    }
    if (n == 0) { mnx = mny = 0; mxx = mxy = 1; }
    /* about 4 items per cell, cells no smaller than ~50 m, at most GC_GRID_MAXCELLS cells */
    double area = (mxx - mnx + 1e-6) * (mxy - mny + 1e-6);
    double cell = sqrt(area / (n / 4.0 + 1));
    if (cell < 0.0005) cell = 0.0005;
    while (((mxx - mnx) / cell + 1) * ((mxy - mny) / cell + 1) > GC_GRID_MAXCELLS) cell *= 1.5;
    ix->g_lon0 = mnx;
    ix->g_lat0 = mny;
    ix->g_cell = cell;
    ix->g_nx = (uint32_t)((mxx - mnx) / cell) + 1;
    ix->g_ny = (uint32_t)((mxy - mny) / cell) + 1;
    size_t ncell = (size_t)ix->g_nx * ix->g_ny;
    ix->grid_start = calloc(ncell + 1, sizeof *ix->grid_start);
    ix->grid_items = malloc(((size_t)n + 1) * sizeof *ix->grid_items);
    uint32_t *cellof = malloc(((size_t)n + 1) * sizeof *cellof);
    if (!ix->grid_start || !ix->grid_items || !cellof) { free(cellof); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    uint32_t k = 0;
    for (uint32_t i = 0; i < ix->naddrs + ix->nstreets; i++) {
        int32_t lo, la;
        if (i < ix->naddrs) { lo = ix->addrs[i].lon; la = ix->addrs[i].lat; }
        else {
            const gc_street *s = &ix->streets[i - ix->naddrs];
            if (s->naddr || s->lon == INT32_MIN) continue;
            lo = s->lon; la = s->lat;
        }
        uint32_t cx = (uint32_t)((lo / GC_E7 - mnx) / cell), cy = (uint32_t)((la / GC_E7 - mny) / cell);
        if (cx >= ix->g_nx) cx = ix->g_nx - 1;
        if (cy >= ix->g_ny) cy = ix->g_ny - 1;
        cellof[k] = cy * ix->g_nx + cx;
        ix->grid_items[k] = i;
        ix->grid_start[cellof[k] + 1]++;
        k++;
    }
    for (size_t c = 0; c < ncell; c++) ix->grid_start[c + 1] += ix->grid_start[c];
    uint32_t *tmp = malloc(((size_t)n + 1) * sizeof *tmp), *pos = malloc((ncell + 1) * sizeof *pos);
    if (!tmp || !pos) { free(tmp); free(pos); free(cellof); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    memcpy(pos, ix->grid_start, (ncell + 1) * sizeof *pos);
    for (uint32_t i = 0; i < k; i++) tmp[pos[cellof[i]]++] = ix->grid_items[i];
    memcpy(ix->grid_items, tmp, (size_t)k * sizeof *tmp);
    ix->ngrid_items = k;
    free(tmp); free(pos); free(cellof);
    return GF_OK;
}

typedef struct alias_key { const char *name; gc_alias a; } alias_key;

static int cmp_alias_key(const void *x, const void *y)
{
    const alias_key *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->a.commune > b->a.commune) - (a->a.commune < b->a.commune);
}

/* The address (number, suffix) of street s among the sorted addresses a[0..n) of the index being frozen. */
static uint32_t find_addr(const gc_addr *addrs, const gc_street *sp, int32_t num, const char *sfx, const char *pool)
{
    uint32_t lo = 0, hi = sp->naddr;
    const gc_addr *a = addrs + sp->addr0;
    while (lo < hi) {
        uint32_t m = (lo + hi) / 2;
        int c = a[m].num != num ? (a[m].num < num ? -1 : 1) : strcmp(pool + a[m].suffix, sfx);
        if (c < 0) lo = m + 1;
        else hi = m;
    }
    return lo < sp->naddr && a[lo].num == num && !strcmp(pool + a[lo].suffix, sfx) ? sp->addr0 + lo : GC_NONE;
}

/* Step 2b of finish: every place without addresses of its own that
 * numbered addresses name as their lieu-dit becomes GC_K_LIEUDIT, its
 * addr0/naddr a range of ix->ld_addrs (address indices by number and
 * suffix). A lieu-dit named exactly like a street of its commune that has
 * numbers ("Le Bourg", the street, and the lieu-dit Le Bourg around it)
 * shares that street's entry while the files are read; it gets an entry
 * of its own here, after the streets (so the street, lower, comes first
 * among the homonyms), else "7 Le Bourg" could only mean the street's 7.
 * Returns -1 when out of memory (message set). */
static int build_lieudits(gf_gc_builder *b, gf_gc_index *ix, gf_ctx *ctx)
{
    uint64_t *k = malloc(((size_t)b->nldp + 1) * sizeof *k);
    uint32_t ns0 = b->ns, *split = calloc((size_t)ns0 + 1, sizeof *split); /* place -> its lieu-dit entry + 1 */
    if (!k || !split) { free(k); free(split); gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); return -1; }
    size_t n = 0;
    for (uint32_t i = 0; i < b->nldp; i++) {
        const gc_ldpair *p = &b->ldp[i];
        uint32_t a = find_addr(ix->addrs, &b->streets[p->street], p->num, b->pool + p->suffix, b->pool);
        if (a == GC_NONE) continue;
        uint32_t place = p->place;
        if (b->streets[place].naddr) {
            if (!split[place]) {
                if (gc_grow((void **)&b->streets, &b->cs, b->ns + 1, sizeof *b->streets)) {
                    free(k); free(split); gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); return -1;
                }
                gc_street *lp = &b->streets[b->ns], *sp = &b->streets[place];
                *lp = (gc_street){.commune = sp->commune, .name = sp->name, .nname = sp->nname, .postcode = sp->postcode,
                                  .nlen = sp->nlen, .tstart = sp->tstart, .lon = ix->addrs[a].lon, .lat = ix->addrs[a].lat};
                split[place] = ++b->ns;
            }
            place = split[place] - 1;
        }
        k[n++] = ((uint64_t)place << 32) | a;
    }
    free(split);
    if (gf_radix_sort_u64(ctx, k, NULL, n, 0)) { free(k); return -1; } /* message set */
    uint32_t *ld = malloc((n + 1) * sizeof *ld), w = 0;
    if (!ld) { free(k); gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); return -1; }
    for (size_t i = 0; i < n;) {
        uint32_t place = (uint32_t)(k[i] >> 32), start = w;
        for (; i < n && (uint32_t)(k[i] >> 32) == place; i++) {
            uint32_t a = (uint32_t)k[i];
            if (w > start && ld[w - 1] == a) continue;
            /* by number and suffix (insertion: a lieu-dit holds a few hundred addresses at most) */
            uint32_t j = w++;
            while (j > start && addr_cmp(&ix->addrs[ld[j - 1]], &ix->addrs[a], b->pool) > 0) { ld[j] = ld[j - 1]; j--; }
            ld[j] = a;
        }
        gc_street *sp = &b->streets[place];
        sp->kind = GC_K_LIEUDIT;
        sp->addr0 = start;
        sp->naddr = w - start;
    }
    free(k);
    ix->ld_addrs = ld;
    ix->nld = w;
    return 0;
}

gf_status gf_gc_builder_finish(gf_gc_builder *b, gf_ctx *ctx, gf_gc_index **out)
{
    gf_gc_index *ix = calloc(1, sizeof *ix);
    if (!ix) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    ix->owned = 1;
    /* 1. addresses grouped by street (counting sort, stable: input order
     *    within a street), then by number and suffix (insertion sort: rows
     *    usually come sorted). Exact duplicates (one address, several
     *    positions) keep their first position. */
    uint32_t ns = b->ns, na = b->na;
    uint32_t *start = calloc((size_t)ns + 1, sizeof *start);
    gc_addr *sorted = malloc(((size_t)na + 1) * sizeof *sorted);
    if (!start || !sorted) { free(start); free(sorted); free(ix); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    for (uint32_t i = 0; i < na; i++) start[b->addrs[i].street + 1]++;
    for (uint32_t s = 0; s < ns; s++) start[s + 1] += start[s];
    {
        uint32_t *pos = malloc(((size_t)ns + 1) * sizeof *pos);
        if (!pos) { free(start); free(sorted); free(ix); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
        memcpy(pos, start, ((size_t)ns + 1) * sizeof *pos);
        for (uint32_t i = 0; i < na; i++) sorted[pos[b->addrs[i].street]++] = b->addrs[i];
        free(pos);
    }
    uint32_t w = 0;
    for (uint32_t s = 0; s < ns; s++) {
        gc_addr *a = sorted + start[s];
        uint32_t n = start[s + 1] - start[s];
        for (uint32_t i = 1; i < n; i++) {
            gc_addr t = a[i];
            uint32_t j = i;
            while (j > 0 && addr_cmp(&a[j - 1], &t, b->pool) > 0) { a[j] = a[j - 1]; j--; }
            a[j] = t;
        }
        gc_street *sp = &b->streets[s];
        sp->addr0 = w;
        for (uint32_t i = 0; i < n; i++) {
            if (i > 0 && addr_cmp(&a[i - 1], &a[i], b->pool) == 0) continue;
            sorted[w++] = a[i]; /* w <= start[s] + i: moving down is safe */
        }
        sp->naddr = w - sp->addr0;
    }
    free(start);
    free(b->addrs);
    b->addrs = NULL;
    b->na = b->ca = 0;
    ix->addrs = sorted;
    ix->naddrs = w;

    /* 2. streets: position, kind, type offset */
    for (uint32_t s = 0; s < ns; s++) {
        gc_street *sp = &b->streets[s];
        if (sp->lon == INT32_MIN && sp->naddr) {
            const gc_addr *m = &sorted[sp->addr0 + sp->naddr / 2];
            sp->lon = m->lon;
            sp->lat = m->lat;
        }
        const char *nm = b->pool + sp->nname;
        const char *sp1 = strchr(nm, ' ');
        size_t fl = sp1 ? (size_t)(sp1 - nm) : strlen(nm);
        int typed = gc_is_street_type(nm, fl);
        sp->tstart = (uint16_t)(typed && sp1 ? fl + 1 : 0);
        sp->kind = (!typed && sp->naddr == 0) ? 1 : 0;
        b->communes[sp->commune].naddr += sp->naddr;
    }
    /* 2b. lieux-dits named by numbered addresses of other streets */
    uint32_t ns_files = ns; /* the entries the files made */
    if (build_lieudits(b, ix, ctx)) { free(sorted); free(ix); return GF_ERR_NOMEM; }
    ns = b->ns; /* with the lieux-dits named like a street */
    /* 2c. a lieu-dit or place is another name of its commune, as La
     * Poste's hamlets are: "3 Rue des Lilas, Le Bourg-Neuf" without a
     * commune names Le Bourg-Neuf's (match.c reads it so only when nothing
     * else names a commune) */
    for (uint32_t s = 0; s < ns; s++) {
        const gc_street *sp = &b->streets[s];
        if (sp->kind == GC_K_STREET || !sp->nlen) continue;
        if (gc_grow((void **)&b->al, &b->cal, b->nal + 1, sizeof *b->al)) {
            free(sorted); free(ix); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        }
        b->al[b->nal++] = (gc_alias){.nname = sp->nname, .commune = sp->commune};
    }
    /* 3. communes: position (mean of their streets, else La Poste), normalised name */
    {
        double *sx = calloc((size_t)b->nc + 1, sizeof *sx), *sy = calloc((size_t)b->nc + 1, sizeof *sy);
        uint32_t *cnt = calloc((size_t)b->nc + 1, sizeof *cnt);
        if (!sx || !sy || !cnt) { free(sx); free(sy); free(cnt); free(sorted); free(ix); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
        for (uint32_t s = 0; s < ns_files; s++) { /* the streets and places of the files, as before 2b */
            const gc_street *sp = &b->streets[s];
            if (sp->lon == INT32_MIN) continue;
            sx[sp->commune] += sp->lon; sy[sp->commune] += sp->lat; cnt[sp->commune]++;
        }
        for (uint32_t c = 0; c < b->nc; c++) {
            gc_commune *cm = &b->communes[c];
            if (cnt[c]) { cm->lon = (int32_t)lround(sx[c] / cnt[c]); cm->lat = (int32_t)lround(sy[c] / cnt[c]); }
            else { cm->lon = b->c_plon[c]; cm->lat = b->c_plat[c]; }
            char nn[256];
            size_t l = gf_gc_normalize(b->pool + cm->name, strlen(b->pool + cm->name), nn, sizeof nn);
            if (gc_pool_add(b, nn, l, &cm->nname)) { free(sx); free(sy); free(cnt); free(sorted); free(ix); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
        }
        free(sx); free(sy); free(cnt);
    }
    ix->communes = b->communes; ix->ncommunes = b->nc; b->communes = NULL; b->nc = b->cc = 0;
    ix->streets = b->streets; ix->nstreets = ns; b->streets = NULL; b->ns = b->cs = 0;
    ix->pool = b->pool; ix->poollen = b->plen; b->pool = NULL; b->plen = b->pcap = 0;
    gf_status st = GF_OK;
    /* 4. hash tables */
    if (gc_rehash_insee(&ix->h_insee, &ix->h_insee_cap, ix->communes, ix->ncommunes) ||
        gc_rehash_street(&ix->h_street, &ix->h_street_cap, ix->streets, ix->nstreets, ix->pool)) {
        st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    {
        uint32_t cap = 64;
        while (cap < ix->ncommunes * 2 + 2) cap *= 2;
        ix->h_cname = calloc(cap, sizeof *ix->h_cname);
        if (!ix->h_cname) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto fail; }
        ix->h_cname_cap = cap;
        for (uint32_t c = ix->ncommunes; c-- > 0;) { /* chains end up in commune order */
            const char *nm = ix->pool + ix->communes[c].nname;
            size_t l = strlen(nm);
            if (!l) continue;
            uint32_t f = gc_find_cname(ix, nm, l);
            if (f != GC_NONE) {
                ix->communes[c].next_name = f;
                uint32_t h = (uint32_t)gc_hash(nm, l, 0) & (cap - 1);
                while (ix->h_cname[h] != f + 1) h = (h + 1) & (cap - 1);
                ix->h_cname[h] = c + 1;
            } else {
                uint32_t h = (uint32_t)gc_hash(nm, l, 0) & (cap - 1);
                while (ix->h_cname[h]) h = (h + 1) & (cap - 1);
                ix->h_cname[h] = c + 1;
            }
        }
    }
    /* 5. postcodes, sorted and unique */
    {
        if ((st = gf_radix_sort_u64(ctx, b->pc, NULL, b->npc, 0))) goto fail;
        uint32_t k = 0;
        for (uint32_t i = 0; i < b->npc; i++)
            if (k == 0 || b->pc[k - 1] != b->pc[i]) b->pc[k++] = b->pc[i];
        ix->postcodes = b->pc; ix->npostcodes = k; b->pc = NULL; b->npc = b->cpc = 0;
    }
    /* 5b. aliases sorted by name then commune, unique; a name that is the
     * commune's own is dropped */
    {
        gc_alias *al = b->al;
        uint32_t n = b->nal, k = 0;
        /* sorted through (name, alias) pairs: the lieux-dits make hundreds
         * of thousands of them over France, and qsort has no context for
         * the pool */
        alias_key *ak = malloc(((size_t)n + 1) * sizeof *ak);
        if (!ak) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto fail; }
        for (uint32_t i = 0; i < n; i++) ak[i] = (alias_key){ix->pool + al[i].nname, al[i]};
        if (n) qsort(ak, n, sizeof *ak, cmp_alias_key);
        for (uint32_t i = 0; i < n; i++) al[i] = ak[i].a;
        free(ak);
        for (uint32_t i = 0; i < n; i++) {
            if (!strcmp(ix->pool + al[i].nname, ix->pool + ix->communes[al[i].commune].nname)) continue;
            if (k && al[k - 1].commune == al[i].commune && !strcmp(ix->pool + al[k - 1].nname, ix->pool + al[i].nname)) continue;
            al[k++] = al[i];
        }
        ix->aliases = al; ix->naliases = k; b->al = NULL; b->nal = b->cal = 0;
    }
    /* 6. trigram postings: key = commune << 24 | trigram, packed with the street as key << 24 | street */
    {
        size_t cap = 0, n = 0;
        for (uint32_t s = 0; s < ix->nstreets; s++) cap += (size_t)ix->streets[s].nlen + 2;
        uint64_t *t = malloc((cap + 1) * sizeof *t);
        if (!t) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto fail; }
        if (ix->nstreets >= (1u << 24) || ix->ncommunes >= (1u << 16)) {
            free(t);
            st = gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "index: more than 16M streets or 65536 communes");
            goto fail;
        }
        for (uint32_t s = 0; s < ix->nstreets; s++) {
            const gc_street *sp = &ix->streets[s];
            if (sp->lon == INT32_MIN) continue;
            const char *nm = ix->pool + sp->nname;
            size_t l = sp->nlen;
            size_t first = n;
            uint32_t tris[600];
            size_t nt = gc_trigrams(nm, l, tris, 600);
            for (size_t i = 0; i < nt; i++) {
                uint64_t key = ((uint64_t)sp->commune << 24) | tris[i];
                uint64_t v = (key << 24) | s;
                int dup = 0;
                for (size_t q = first; q < n && !dup; q++) dup = t[q] == v;
                if (!dup) t[n++] = v;
            }
        }
        if ((st = gf_radix_sort_u64(ctx, t, NULL, n, 0))) { free(t); goto fail; }
        ix->tri_keys = malloc((n + 1) * sizeof *ix->tri_keys);
        ix->tri_vals = malloc((n + 1) * sizeof *ix->tri_vals);
        if (!ix->tri_keys || !ix->tri_vals) { free(t); st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto fail; }
        for (size_t i = 0; i < n; i++) { ix->tri_keys[i] = t[i] >> 24; ix->tri_vals[i] = (uint32_t)(t[i] & 0xFFFFFF); }
        ix->ntri = (uint32_t)n;
        free(t);
    }
    /* 7. reverse grid */
    if ((st = build_grid(ix, ctx))) goto fail;
    *out = ix;
    return GF_OK;
fail:
    gf_gc_index_destroy(ix);
    return st;
}

void gf_gc_index_destroy(gf_gc_index *ix)
{
    if (!ix) return;
    if (ix->owned) {
        free(ix->communes); free(ix->streets); free(ix->addrs); free(ix->pool);
        free(ix->h_insee); free(ix->h_street); free(ix->h_cname); free(ix->postcodes); free(ix->aliases);
        free(ix->tri_keys); free(ix->tri_vals); free(ix->grid_start); free(ix->grid_items); free(ix->ld_addrs);
    }
    if (ix->map) munmap(ix->map, ix->maplen);
    gc_prefix_free(atomic_load(&ix->prefix));
    free(ix);
}

void gf_gc_index_stats(const gf_gc_index *ix, gf_gc_stats *o)
{
    memset(o, 0, sizeof *o);
    o->communes = ix->ncommunes;
    o->streets = ix->nstreets;
    o->addresses = ix->naddrs;
    o->postcodes = ix->npostcodes;
    o->trigrams = ix->ntri;
    o->bytes = (size_t)ix->ncommunes * sizeof(gc_commune) + (size_t)ix->nstreets * sizeof(gc_street) +
               (size_t)ix->naddrs * sizeof(gc_addr) + ix->poollen +
               ((size_t)ix->h_insee_cap + ix->h_street_cap + ix->h_cname_cap) * 4 + (size_t)ix->npostcodes * 8 +
               (size_t)ix->naliases * sizeof(gc_alias) +
               (size_t)ix->ntri * 12 + ((size_t)ix->g_nx * ix->g_ny + 1 + ix->ngrid_items + ix->nld) * 4;
    o->rows_read = ix->rows_read;
    o->rows_rejected = ix->rows_rejected;
}
