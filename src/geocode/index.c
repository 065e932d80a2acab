/* The geocoding index's builder: a pipeline sink, the La Poste postcodes,
 * the name lookups of the frozen index, and the build from files. Freezing
 * (sorting, hash tables, trigram postings, reverse grid) is in freeze.c,
 * the flat file format (saved with write(), loaded with mmap(), checked
 * whole before use) in gcfile.c.
 *
 * Build cost is kept off the serial commit: encode() runs on the workers and
 * does the expensive part (name normalisation), packing each row into a
 * small record; commit() only appends records, with a one-entry cache for
 * the commune and the street because rows of one street come together. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geoflux/address.h"
#include "geoflux/ingest.h"
#include "geoflux/reproject.h"
#include "geoflux/validate.h"
#include "geoflux/write.h"
#include "geocode/gc.h"
#include "geocode/gcbuild.h"

/* ---- growable arrays ---- */
int gc_grow(void **p, uint32_t *cap, uint32_t need, size_t elt)
{
    if (need <= *cap) return 0;
    uint32_t nc = *cap ? *cap : 1024;
    while (nc < need) {
        if (nc > UINT32_MAX / 2) return -1; /* doubling would wrap to 0 and never reach need */
        nc *= 2;
    }
    void *np = realloc(*p, (size_t)nc * elt);
    if (!np) return -1;
    *p = np;
    *cap = nc;
    return 0;
}

int gc_pool_add(gf_gc_builder *b, const char *s, size_t n, uint32_t *off)
{
    if (n == 0) { *off = 0; return 0; }
    if (b->plen + n + 1 > b->pcap) {
        uint64_t nc = b->pcap ? b->pcap : 1 << 20;
        while (nc < b->plen + n + 1) nc *= 2;
        if (nc > UINT32_MAX) return -1;
        char *np = realloc(b->pool, nc);
        if (!np) return -1;
        b->pool = np;
        b->pcap = nc;
    }
    memcpy(b->pool + b->plen, s, n);
    b->pool[b->plen + n] = 0;
    *off = (uint32_t)b->plen;
    b->plen += n + 1;
    return 0;
}

gf_status gf_gc_builder_create(gf_ctx *ctx, gf_gc_builder **out)
{
    gf_gc_builder *b = calloc(1, sizeof *b);
    if (!b) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (!(b->pool = malloc(1 << 20))) { free(b); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    b->pcap = 1 << 20;
    b->pool[0] = 0; /* offset 0 is the empty string */
    b->plen = 1;
    b->last_c = b->last_s = GC_NONE;
    *out = b;
    return GF_OK;
}

void gf_gc_builder_destroy(gf_gc_builder *b)
{
    if (!b) return;
    free(b->communes); free(b->c_poste_name); free(b->c_plon); free(b->c_plat);
    free(b->streets); free(b->addrs); free(b->pool);
    free(b->h_insee); free(b->h_street); free(b->pc); free(b->al); free(b->ldp);
    free(b);
}

/* ---- hashing ---- */
static uint32_t insee_hash(const char *s, size_t n) { return (uint32_t)gc_hash(s, n, 0); }
static uint32_t street_hash(uint32_t c, const char *s, size_t n)
{
    uint64_t h = gc_hash((const char *)&c, sizeof c, 0);
    return (uint32_t)gc_hash(s, n, h);
}

int gc_rehash_insee(uint32_t **tab, uint32_t *cap, const gc_commune *cs, uint32_t n)
{
    uint32_t nc = 64;
    while (nc < n * 2 + 2) nc *= 2;
    uint32_t *t = calloc(nc, sizeof *t);
    if (!t) return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t h = insee_hash(cs[i].insee, strlen(cs[i].insee)) & (nc - 1);
        while (t[h]) h = (h + 1) & (nc - 1);
        t[h] = i + 1;
    }
    free(*tab);
    *tab = t;
    *cap = nc;
    return 0;
}

int gc_rehash_street(uint32_t **tab, uint32_t *cap, const gc_street *ss, uint32_t n, const char *pool)
{
    uint32_t nc = 64;
    while (nc < n * 2 + 2) nc *= 2;
    uint32_t *t = calloc(nc, sizeof *t);
    if (!t) return -1;
    for (uint32_t i = 0; i < n; i++) {
        const char *nm = pool + ss[i].nname;
        uint32_t h = street_hash(ss[i].commune, nm, strlen(nm)) & (nc - 1);
        while (t[h]) h = (h + 1) & (nc - 1);
        t[h] = i + 1;
    }
    free(*tab);
    *tab = t;
    *cap = nc;
    return 0;
}

static uint32_t find_insee_in(const uint32_t *t, uint32_t cap, const gc_commune *cs, const char *s, size_t n)
{
    if (!cap || n == 0 || n > 6) return GC_NONE;
    uint32_t h = insee_hash(s, n) & (cap - 1);
    for (uint32_t probe = 0; probe < cap && t[h]; probe++) { /* bounded: a loaded table may be full */
        const gc_commune *c = &cs[t[h] - 1];
        if (strncmp(c->insee, s, n) == 0 && c->insee[n] == 0) return t[h] - 1;
        h = (h + 1) & (cap - 1);
    }
    return GC_NONE;
}

static uint32_t find_street_in(const uint32_t *t, uint32_t cap, const gc_street *ss, const char *pool, uint32_t c,
                               const char *s, size_t n)
{
    if (!cap) return GC_NONE;
    uint32_t h = street_hash(c, s, n) & (cap - 1);
    for (uint32_t probe = 0; probe < cap && t[h]; probe++) {
        const gc_street *st = &ss[t[h] - 1];
        if (st->commune == c && st->nlen == n && memcmp(pool + st->nname, s, n) == 0) return t[h] - 1;
        h = (h + 1) & (cap - 1);
    }
    return GC_NONE;
}

/* While building: the street of commune c named s[0..n) that lies in the
 * commune déléguée whose INSEE code is oc ("": any), else one of that name
 * not yet placed in a former commune (the first address naming one places
 * it), else GC_NONE. Homonyms sit in one probe chain, lowest index first. */
static uint32_t find_street_old(const gf_gc_builder *b, uint32_t c, const char *s, size_t n, const char *oc)
{
    if (!b->hs_cap) return GC_NONE;
    uint32_t h = street_hash(c, s, n) & (b->hs_cap - 1), unplaced = GC_NONE;
    for (uint32_t probe = 0; probe < b->hs_cap && b->h_street[h]; probe++) {
        uint32_t i = b->h_street[h] - 1;
        const gc_street *st = &b->streets[i];
        if (st->commune == c && st->nlen == n && memcmp(b->pool + st->nname, s, n) == 0) {
            const char *so = b->pool + st->oldcitycode;
            if (!oc[0] || !strcmp(so, oc)) return i;
            if (!so[0] && unplaced == GC_NONE) unplaced = i;
        }
        h = (h + 1) & (b->hs_cap - 1);
    }
    return unplaced;
}

uint32_t gc_find_insee(const gf_gc_index *ix, const char *s, size_t n)
{
    char up[8];
    if (n == 0 || n > 6) return GC_NONE;
    for (size_t i = 0; i < n; i++) up[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i]; /* 2a -> 2A */
    return find_insee_in(ix->h_insee, ix->h_insee_cap, ix->communes, up, n);
}

uint32_t gc_find_street(const gf_gc_index *ix, uint32_t c, const char *s, size_t n)
{
    return find_street_in(ix->h_street, ix->h_street_cap, ix->streets, ix->pool, c, s, n);
}

int gc_find_streets(const gf_gc_index *ix, uint32_t c, const char *s, size_t n, uint32_t *out, int max)
{
    const uint32_t *t = ix->h_street, cap = ix->h_street_cap;
    if (!cap) return 0;
    uint32_t h = street_hash(c, s, n) & (cap - 1);
    int k = 0;
    for (uint32_t probe = 0; probe < cap && t[h] && k < max; probe++) {
        const gc_street *st = &ix->streets[t[h] - 1];
        if (st->commune == c && st->nlen == n && memcmp(ix->pool + st->nname, s, n) == 0) out[k++] = t[h] - 1;
        h = (h + 1) & (cap - 1);
    }
    return k;
}

uint32_t gc_find_cname(const gf_gc_index *ix, const char *s, size_t n)
{
    if (!ix->h_cname_cap || n == 0) return GC_NONE;
    uint32_t h = (uint32_t)gc_hash(s, n, 0) & (ix->h_cname_cap - 1);
    for (uint32_t probe = 0; probe < ix->h_cname_cap && ix->h_cname[h]; probe++) {
        const char *nm = ix->pool + ix->communes[ix->h_cname[h] - 1].nname;
        if (strncmp(nm, s, n) == 0 && nm[n] == 0) return ix->h_cname[h] - 1;
        h = (h + 1) & (ix->h_cname_cap - 1);
    }
    return GC_NONE;
}

int gc_find_alias(const gf_gc_index *ix, const char *s, size_t n, uint32_t *out, int max)
{
    uint32_t lo = 0, hi = ix->naliases;
    while (lo < hi) {
        uint32_t m = (lo + hi) / 2;
        const char *nm = ix->pool + ix->aliases[m].nname;
        int c = strncmp(nm, s, n);
        if (c == 0 && nm[n] != 0) c = 1;
        if (c < 0) lo = m + 1;
        else hi = m;
    }
    int k = 0;
    for (uint32_t i = lo; i < ix->naliases && k < max; i++) {
        const char *nm = ix->pool + ix->aliases[i].nname;
        if (strncmp(nm, s, n) != 0 || nm[n] != 0) break;
        out[k++] = ix->aliases[i].commune;
    }
    return k;
}

/* ---- builder inserts ---- */
static gf_status get_commune(gf_gc_builder *b, gf_ctx *ctx, const char *insee, size_t n, uint32_t *out)
{
    uint32_t c = find_insee_in(b->h_insee, b->hi_cap, b->communes, insee, n);
    if (c == GC_NONE) {
        if (gc_grow((void **)&b->communes, &b->cc, b->nc + 1, sizeof *b->communes)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        uint32_t cc2 = b->cc;
        /* side arrays follow the same capacity */
        uint8_t *pn = realloc(b->c_poste_name, cc2);
        int32_t *pl = realloc(b->c_plon, cc2 * sizeof *pl);
        if (pn) b->c_poste_name = pn;
        if (pl) b->c_plon = pl;
        int32_t *pa = realloc(b->c_plat, cc2 * sizeof *pa);
        if (pa) b->c_plat = pa;
        if (!pn || !pl || !pa) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        c = b->nc++;
        gc_commune *cm = &b->communes[c];
        memset(cm, 0, sizeof *cm);
        memcpy(cm->insee, insee, n);
        cm->next_name = GC_NONE;
        cm->lon = cm->lat = INT32_MIN;
        b->c_poste_name[c] = 0;
        b->c_plon[c] = b->c_plat[c] = INT32_MIN;
        if (b->nc * 2 + 2 > b->hi_cap) { /* grow: the rehash inserts the new commune too */
            if (gc_rehash_insee(&b->h_insee, &b->hi_cap, b->communes, b->nc)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        } else {
            uint32_t h = insee_hash(insee, n) & (b->hi_cap - 1);
            while (b->h_insee[h]) h = (h + 1) & (b->hi_cap - 1);
            b->h_insee[h] = c + 1;
        }
    }
    *out = c;
    return GF_OK;
}

static gf_status add_postcode(gf_gc_builder *b, gf_ctx *ctx, const char *pc, size_t n, uint32_t c)
{
    if (n != 5) return GF_OK;
    uint32_t v = 0;
    for (size_t i = 0; i < 5; i++) {
        if (pc[i] < '0' || pc[i] > '9') return GF_OK;
        v = v * 10 + (uint32_t)(pc[i] - '0');
    }
    if (b->npc && b->pc[b->npc - 1] == (((uint64_t)v << 32) | c)) return GF_OK;
    if (gc_grow((void **)&b->pc, &b->cpc, b->npc + 1, sizeof *b->pc)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    b->pc[b->npc++] = ((uint64_t)v << 32) | c;
    if (!b->communes[c].postcode && gc_pool_add(b, pc, n, &b->communes[c].postcode))
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    return GF_OK;
}

static gf_status add_alias(gf_gc_builder *b, gf_ctx *ctx, const char *name, size_t n, uint32_t c)
{
    char nn[256];
    size_t l = gf_gc_normalize(name, n, nn, sizeof nn);
    if (!l) return GF_OK;
    /* rows of one commune come together: skip the alias just added */
    if (b->nal && b->al[b->nal - 1].commune == c && !strcmp(b->pool + b->al[b->nal - 1].nname, nn)) return GF_OK;
    if (gc_grow((void **)&b->al, &b->cal, b->nal + 1, sizeof *b->al)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (gc_pool_add(b, nn, l, &b->al[b->nal].nname)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    b->al[b->nal++].commune = c;
    return GF_OK;
}

static uint32_t suffix_off(gf_gc_builder *b, const char *s, size_t n)
{
    if (n == 0 || n > 15) return 0;
    for (int i = 0; i < b->nsfx; i++)
        if (strlen(b->sfx[i]) == n && memcmp(b->sfx[i], s, n) == 0) return b->sfx_off[i];
    uint32_t off;
    if (gc_pool_add(b, s, n, &off)) return 0;
    if (b->nsfx < 64) {
        memcpy(b->sfx[b->nsfx], s, n);
        b->sfx[b->nsfx][n] = 0;
        b->sfx_off[b->nsfx++] = off;
    }
    return off;
}

/* ---- the sink ---- */
static gf_status sk_begin(void *st, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    (void)st; (void)nworkers;
    if (!schema->kind || strcmp(schema->kind, "address") != 0)
        return gf_ctx_err(ctx, GF_ERR_SCHEMA, "index: the inputs must be address files (BAL/BAN)");
    return GF_OK;
}

static const char *col_str(const gf_batch *b, int f, size_t r, size_t *n)
{
    if (!b->cols[f].valid[r]) { *n = 0; return ""; }
    *n = b->cols[f].v.s[r].len;
    return b->arena + b->cols[f].v.s[r].off;
}

static gf_status put_str(gf_buf *o, const char *p, size_t n)
{
    gf_status st = gf_buf_reserve(o, n + 1);
    if (st) return st;
    for (size_t i = 0; i < n; i++) o->p[o->len++] = p[i] ? p[i] : ' ';
    o->p[o->len++] = 0;
    return GF_OK;
}

/* Record: int32 num (-1: toponym), int32 lon, lat; then NUL-terminated
 * insee, commune name, street name, normalised street name, suffix,
 * cle_interop, postcode, former commune name, lieu-dit complement and its
 * normalised form. */
static gf_status sk_encode(void *stv, gf_ctx *ctx, int worker, const gf_batch *b, gf_buf *out)
{
    (void)stv; (void)ctx; (void)worker;
    gf_status st;
    char norm[512], sfx[16], lsfx[64];
    const char *pv = NULL;
    size_t pvl = (size_t)-1, nl = 0;
    for (size_t r = 0; r < b->n; r++) {
        /* a position outside WGS84's range has no int32 1e-7 degree form
         * (and a loaded index refuses one) */
        if (!(b->flags[r] & GF_ROW_HAS_POS) || !(fabs(b->lon[r]) <= 180) || !(fabs(b->lat[r]) <= 90)) continue;
        size_t il, cl, vl, sl, kl, pl;
        const char *insee = col_str(b, GF_A_COMMUNE_INSEE, r, &il);
        const char *cle = col_str(b, GF_A_CLE_INTEROP, r, &kl);
        if (il == 0 && kl >= 5) { insee = cle; il = 5; } /* BAL 1.1: INSEE opens cle_interop */
        if (il < 5 || il > 5) continue;
        const char *voie = col_str(b, GF_A_VOIE_NOM, r, &vl);
        if (vl == 0) continue;
        const char *cn = col_str(b, GF_A_COMMUNE_NOM, r, &cl);
        const char *su = col_str(b, GF_A_SUFFIXE, r, &sl);
        const char *pc = col_str(b, GF_A_CODE_POSTAL, r, &pl);
        int32_t num = -1;
        if (b->cols[GF_A_NUMERO].valid[r]) {
            int64_t v = b->cols[GF_A_NUMERO].v.i[r];
            if (v >= 0 && v < 99999) num = (int32_t)v;
            else if (v != 99999) continue;
        } else {
            continue;
        }
        /* rows of one street come together: normalise each name once */
        if (!(pvl == vl && memcmp(pv, voie, vl) == 0)) {
            nl = gf_gc_normalize(voie, vl, norm, sizeof norm);
            pv = voie;
            pvl = vl;
        }
        if (nl == 0) continue;
        size_t sfl = 0;
        if (sl) {
            size_t fl = gc_fold(su, sl, lsfx, sizeof lsfx);
            size_t k = 0;
            for (size_t i = 0; i < fl; i++) if (lsfx[i] != ' ') lsfx[k++] = lsfx[i];
            /* kept as written (folded, without blanks): "quater", "bisa";
             * the matcher compares canonical forms */
            if (k > 0 && k < 16) { memcpy(sfx, lsfx, k); sfx[k] = 0; sfl = k; }
        }
        int32_t rec[3] = {num, (int32_t)lround(b->lon[r] * GC_E7), (int32_t)lround(b->lat[r] * GC_E7)};
        if ((st = gf_buf_append(out, rec, sizeof rec))) return st;
        char up[8];
        for (size_t i = 0; i < 5; i++) up[i] = (insee[i] >= 'a' && insee[i] <= 'z') ? (char)(insee[i] - 32) : insee[i];
        if ((st = put_str(out, up, 5)) || (st = put_str(out, cn, cl)) || (st = put_str(out, voie, vl)) ||
            (st = put_str(out, norm, nl)) || (st = put_str(out, sfx, sfl)) || (st = put_str(out, cle, kl)) ||
            (st = put_str(out, pc, pl)))
            return st;
        size_t dl, ll;
        const char *dn = col_str(b, GF_A_COMMUNE_DELEGUEE_NOM, r, &dl);
        if ((st = put_str(out, dn, dl))) return st;
        /* lieu-dit complement: a place of its own, found by name */
        const char *ld = col_str(b, GF_A_LIEUDIT_COMPLEMENT_NOM, r, &ll);
        char nld[256];
        size_t nll = 0;
        if (ll) {
            nll = gf_gc_normalize(ld, ll, nld, sizeof nld);
            while (ll && (*ld == ' ' || *ld == '"')) { ld++; ll--; } /* `" Le Grand Champ "` of some files */
            while (ll && (ld[ll - 1] == ' ' || ld[ll - 1] == '"')) ll--;
        }
        if ((st = put_str(out, ld, nll ? ll : 0)) || (st = put_str(out, nld, nll))) return st;
        /* the commune déléguée of the address (string 10): result_oldcitycode */
        size_t dil;
        const char *di = col_str(b, GF_A_COMMUNE_DELEGUEE_INSEE, r, &dil);
        if ((st = put_str(out, di, dil == 5 ? 5 : 0))) return st;
    }
    return GF_OK;
}

static gf_status sk_commit(void *stv, gf_ctx *ctx, const gf_batch *bt, const gf_buf *enc)
{
    gf_gc_builder *b = stv;
    /* the rows validation refused, logged as convert's rejects sink logs them */
    gf_status st = gf_rejects_log(ctx, bt, b->inputs, b->ninputs, "not indexed");
    if (st) return st;
    const char *p = enc->p, *e = enc->p + enc->len;
    while (p < e) {
        int32_t rec[3];
        memcpy(rec, p, sizeof rec);
        p += sizeof rec;
        const char *s[11];
        size_t l[11];
        for (int i = 0; i < 11; i++) { s[i] = p; l[i] = strlen(p); p += l[i] + 1; }
        /* commune */
        uint32_t c = b->last_c;
        if (c == GC_NONE || memcmp(b->communes[c].insee, s[0], 5) != 0) {
            if ((st = get_commune(b, ctx, s[0], 5, &c))) return st;
            b->last_c = c;
            b->last_s = GC_NONE;
        }
        gc_commune *cm = &b->communes[c];
        if ((!cm->name || b->c_poste_name[c]) && l[1]) {
            if (gc_pool_add(b, s[1], l[1], &cm->name)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            b->c_poste_name[c] = 0;
        }
        if (l[6] && (st = add_postcode(b, ctx, s[6], l[6], c))) return st;
        if (l[7] && (st = add_alias(b, ctx, s[7], l[7], c))) return st;
        /* street; with a commune déléguée (BAL 1.4), one per former
         * commune: a commune nouvelle keeps each former commune's Rue de
         * l'Église */
        const char *oc = l[7] && l[10] ? s[10] : "";
        uint32_t sidx = b->last_s;
        if (sidx == GC_NONE || b->streets[sidx].nlen != l[3] || memcmp(b->pool + b->streets[sidx].nname, s[3], l[3]) != 0 ||
            (oc[0] && strcmp(b->pool + b->streets[sidx].oldcitycode, oc) != 0)) {
            sidx = find_street_old(b, c, s[3], l[3], oc);
            if (sidx == GC_NONE) {
                if (l[3] > 65535) continue;
                if (gc_grow((void **)&b->streets, &b->cs, b->ns + 1, sizeof *b->streets)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                sidx = b->ns++;
                gc_street *sp = &b->streets[sidx];
                memset(sp, 0, sizeof *sp);
                sp->commune = c;
                sp->lon = sp->lat = INT32_MIN;
                sp->nlen = (uint16_t)l[3];
                if (gc_pool_add(b, s[2], l[2], &sp->name) || gc_pool_add(b, s[3], l[3], &sp->nname) ||
                    (l[6] && gc_pool_add(b, s[6], l[6], &sp->postcode)))
                    return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                if (b->ns * 2 + 2 > b->hs_cap) {
                    if (gc_rehash_street(&b->h_street, &b->hs_cap, b->streets, b->ns, b->pool)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                } else {
                    uint32_t h = street_hash(c, s[3], l[3]) & (b->hs_cap - 1);
                    while (b->h_street[h]) h = (h + 1) & (b->hs_cap - 1);
                    b->h_street[h] = sidx + 1;
                }
            }
            b->last_s = sidx;
        }
        uint32_t li = GC_NONE;
        if (l[9] && l[9] <= 65535) {
            li = find_street_in(b->h_street, b->hs_cap, b->streets, b->pool, c, s[9], l[9]);
            if (li == GC_NONE) {
                if (gc_grow((void **)&b->streets, &b->cs, b->ns + 1, sizeof *b->streets)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                li = b->ns++;
                gc_street *lp = &b->streets[li];
                memset(lp, 0, sizeof *lp);
                lp->commune = c;
                lp->nlen = (uint16_t)l[9];
                lp->lon = rec[1]; /* the first address that names it */
                lp->lat = rec[2];
                if (gc_pool_add(b, s[8], l[8], &lp->name) || gc_pool_add(b, s[9], l[9], &lp->nname) ||
                    (l[6] && gc_pool_add(b, s[6], l[6], &lp->postcode)))
                    return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                if (b->ns * 2 + 2 > b->hs_cap) {
                    if (gc_rehash_street(&b->h_street, &b->hs_cap, b->streets, b->ns, b->pool)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                } else {
                    uint32_t h = street_hash(c, s[9], l[9]) & (b->hs_cap - 1);
                    while (b->h_street[h]) h = (h + 1) & (b->hs_cap - 1);
                    b->h_street[h] = li + 1;
                }
            }
        }
        gc_street *sp = &b->streets[sidx];
        /* a street lies in one commune déléguée: the first address that names one sets it */
        if (!sp->oldcity && l[7] && l[10] &&
            (gc_pool_add(b, s[7], l[7], &sp->oldcity) || gc_pool_add(b, s[10], l[10], &sp->oldcitycode)))
            return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        if (rec[0] < 0) {
            if (sp->lon == INT32_MIN) { sp->lon = rec[1]; sp->lat = rec[2]; }
            continue;
        }
        if (gc_grow((void **)&b->addrs, &b->ca, b->na + 1, sizeof *b->addrs)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        gc_addr *a = &b->addrs[b->na++];
        a->street = sidx;
        a->num = rec[0];
        a->suffix = suffix_off(b, s[4], l[4]);
        if (gc_pool_add(b, s[5], l[5], &a->cle)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        a->lon = rec[1];
        a->lat = rec[2];
        sp->naddr++;
        if (li != GC_NONE && li != sidx) {
            if (gc_grow((void **)&b->ldp, &b->cldp, b->nldp + 1, sizeof *b->ldp)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            b->ldp[b->nldp++] = (gc_ldpair){li, sidx, a->num, a->suffix};
        }
    }
    return GF_OK;
}

const gf_sink_vt gf_gc_builder_sink_vt = {
    .name = "geocode-index",
    .begin = sk_begin,
    .encode = sk_encode,
    .commit = sk_commit,
    .destroy = (void (*)(void *))gf_gc_builder_destroy,
};

/* ---- La Poste base ---- */
gf_status gf_gc_builder_add_postcodes(gf_gc_builder *b, gf_ctx *ctx, const char *path)
{
    gf_stream *s;
    gf_csv *c;
    gf_csv_record rec;
    gf_status st = gf_stream_open(ctx, path, &s);
    if (st) return st;
    gf_csv_opts o = {0};
    if ((st = gf_csv_open(ctx, s, &o, &c))) return st;
    st = gf_csv_next(c, ctx, &rec);
    if (st) { gf_csv_close(c); return st == GF_DONE ? gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s: empty file", path) : st; }
    int ci = -1, cn = -1, cp = -1, cla = -1, clo = -1, l5 = -1;
    for (int i = 0; i < rec.nfields; i++) {
        char h[64];
        gf_header_norm(rec.field[i], rec.len[i], h, sizeof h);
        if (!strcmp(h, "code_commune_insee")) ci = i;
        else if (!strcmp(h, "nom_de_la_commune") || !strcmp(h, "nom_commune")) cn = i;
        else if (!strcmp(h, "code_postal")) cp = i;
        else if (!strcmp(h, "ligne_5")) l5 = i;
        else if (!strcmp(h, "latitude")) cla = i;
        else if (!strcmp(h, "longitude")) clo = i;
    }
    if (ci < 0 || cp < 0) {
        gf_csv_close(c);
        return gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s:1: not the La Poste postcode base (code_commune_insee and code_postal expected)", path);
    }
    while ((st = gf_csv_next(c, ctx, &rec)) == GF_OK) {
        if (rec.error || rec.nfields <= ci || rec.nfields <= cp || rec.len[ci] != 5) continue;
        uint32_t cm;
        char up[6];
        for (int i = 0; i < 5; i++) up[i] = (rec.field[ci][i] >= 'a' && rec.field[ci][i] <= 'z') ? (char)(rec.field[ci][i] - 32) : rec.field[ci][i];
        if ((st = get_commune(b, ctx, up, 5, &cm))) break;
        gc_commune *co = &b->communes[cm];
        if (!co->name && cn >= 0 && cn < rec.nfields && rec.len[cn]) {
            if (gc_pool_add(b, rec.field[cn], rec.len[cn], &co->name)) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
            b->c_poste_name[cm] = 1;
        }
        if (b->c_plon[cm] == INT32_MIN && cla >= 0 && clo >= 0 && cla < rec.nfields && clo < rec.nfields) {
            char t1[32], t2[32];
            if (rec.len[cla] && rec.len[cla] < 31 && rec.len[clo] && rec.len[clo] < 31) {
                memcpy(t1, rec.field[cla], rec.len[cla]); t1[rec.len[cla]] = 0;
                memcpy(t2, rec.field[clo], rec.len[clo]); t2[rec.len[clo]] = 0;
                char *e1, *e2;
                double la = strtod(t1, &e1), lo = strtod(t2, &e2);
                if (*e1 == 0 && *e2 == 0 && fabs(la) <= 90 && fabs(lo) <= 180) {
                    b->c_plat[cm] = (int32_t)lround(la * GC_E7);
                    b->c_plon[cm] = (int32_t)lround(lo * GC_E7);
                }
            }
        }
        if ((st = add_postcode(b, ctx, rec.field[cp], rec.len[cp], cm))) break;
        if (l5 >= 0 && l5 < rec.nfields && rec.len[l5] && (st = add_alias(b, ctx, rec.field[l5], rec.len[l5], cm))) break;
        b->last_c = GC_NONE;
    }
    gf_csv_close(c);
    return st == GF_DONE ? GF_OK : st;
}

/* ---- build from files ---- */
gf_status gf_gc_index_build(gf_ctx *ctx, const gf_gc_build_opts *o, gf_gc_index **out)
{
    gf_gc_builder *b = NULL;
    gf_reader *rd = NULL;
    gf_pipeline *p = NULL;
    void *rp = NULL, *vs = NULL;
    gf_status st;
    gf_run_stats rs = {0};
    if ((st = gf_gc_builder_create(ctx, &b))) return st;
    b->inputs = o->paths;
    b->ninputs = o->npaths;
    if (o->postcodes && (st = gf_gc_builder_add_postcodes(b, ctx, o->postcodes))) { gf_gc_builder_destroy(b); return st; }
    if (o->npaths > 0) {
        gf_reader_opts ro = {{0}};
        gf_pipeline_opts po = {.threads = o->threads};
        gf_reproject_opts rpo = {0};
        gf_validate_opts vo = {0};
        if ((st = gf_reader_open(ctx, o->paths, o->npaths, &ro, &rd))) goto fail;
        if ((st = gf_pipeline_create(ctx, &po, &p))) goto fail;
        /* the stages in convert's order: validation reads the text columns
         * typing then converts; it borrows the reader, which the pipeline
         * frees after the run, validation's end() included */
        if (!o->prevalidated && (st = gf_validate_create(ctx, &vo, rd, &vs))) goto fail;
        gf_pipeline_set_source(p, &gf_reader_source_vt, rd, gf_reader_schema(rd), (void (*)(void *))gf_reader_destroy);
        rd = NULL;
        if (vs) {
            st = gf_pipeline_add_stage(p, &gf_validate_stage_vt, vs);
            if (st) { gf_validate_stage_vt.destroy(vs); goto fail; }
        }
        if ((st = gf_pipeline_add_stage(p, &gf_typing_stage_vt, NULL))) goto fail;
        if ((st = gf_reproject_create(ctx, &rpo, &rp))) goto fail;
        if ((st = gf_pipeline_add_stage(p, &gf_reproject_stage_vt, rp))) { gf_reproject_stage_vt.destroy(rp); goto fail; }
        /* the pipeline owns the builder as a sink; keep it alive past the run */
        static const gf_sink_vt borrowed = {
            .name = "geocode-index", .begin = sk_begin, .encode = sk_encode, .commit = sk_commit, .destroy = NULL};
        if ((st = gf_pipeline_add_sink(p, &borrowed, b))) goto fail;
        if ((st = gf_pipeline_run(p, &rs))) goto fail;
        gf_pipeline_destroy(p);
        p = NULL;
    }
    st = gf_gc_builder_finish(b, ctx, out);
    gf_gc_builder_destroy(b);
    if (!st) {
        (*out)->rows_read = rs.read;
        (*out)->rows_rejected = rs.rejected;
    }
    return st;
fail:
    gf_pipeline_destroy(p);
    gf_reader_destroy(rd);
    gf_gc_builder_destroy(b);
    return st;
}
