/* The geocoding index: builder (a pipeline sink), freezing (sorting, hash
 * tables, trigram postings, reverse grid), La Poste postcodes, and the flat
 * file format (gcfile.h: saved with write(), loaded with mmap(), checked
 * whole before use).
 *
 * Build cost is kept off the serial commit: encode() runs on the workers and
 * does the expensive part (name normalisation), packing each row into a
 * small record; commit() only appends records, with a one-entry cache for
 * the commune and the street because rows of one street come together. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/sort.h"
#include "geoflux/address.h"
#include "geoflux/ingest.h"
#include "geoflux/reproject.h"
#include "geoflux/validate.h"
#include "geoflux/write.h"
#include "geocode/gc.h"
#include "geocode/gcfile.h"

/* A numbered address that names a lieu-dit complement: its place, and
 * the address as (street, number, suffix), found again once the addresses
 * are sorted (finish). */
typedef struct gc_ldpair {
    uint32_t place, street;
    int32_t num;
    uint32_t suffix;
} gc_ldpair;

struct gf_gc_builder {
    const char *const *inputs; int ninputs; /* gf_gc_index_build()'s, to name the rejected rows' files */
    gc_commune *communes; uint32_t nc, cc;
    uint8_t *c_poste_name;  /* per commune: name came from La Poste (replaced by an address file's) */
    int32_t *c_plon, *c_plat; /* La Poste position, INT32_MIN none */
    gc_street *streets; uint32_t ns, cs;
    gc_addr *addrs; uint32_t na, ca;
    char *pool; uint64_t plen, pcap;
    uint32_t *h_insee; uint32_t hi_cap;
    uint32_t *h_street; uint32_t hs_cap;
    uint64_t *pc; uint32_t npc, cpc;
    gc_alias *al; uint32_t nal, cal;
    gc_ldpair *ldp; uint32_t nldp, cldp;
    uint32_t last_c, last_s;
    uint32_t sfx_off[64]; char sfx[64][16]; int nsfx;
};

/* ---- growable arrays ---- */
static int grow(void **p, uint32_t *cap, uint32_t need, size_t elt)
{
    if (need <= *cap) return 0;
    uint32_t nc = *cap ? *cap : 1024;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, (size_t)nc * elt);
    if (!np) return -1;
    *p = np;
    *cap = nc;
    return 0;
}

static int pool_add(gf_gc_builder *b, const char *s, size_t n, uint32_t *off)
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

static int rehash_insee(uint32_t **tab, uint32_t *cap, const gc_commune *cs, uint32_t n)
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

static int rehash_street(uint32_t **tab, uint32_t *cap, const gc_street *ss, uint32_t n, const char *pool)
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
        if (grow((void **)&b->communes, &b->cc, b->nc + 1, sizeof *b->communes)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
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
            if (rehash_insee(&b->h_insee, &b->hi_cap, b->communes, b->nc)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
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
    if (grow((void **)&b->pc, &b->cpc, b->npc + 1, sizeof *b->pc)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    b->pc[b->npc++] = ((uint64_t)v << 32) | c;
    if (!b->communes[c].postcode && pool_add(b, pc, n, &b->communes[c].postcode))
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
    if (grow((void **)&b->al, &b->cal, b->nal + 1, sizeof *b->al)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (pool_add(b, nn, l, &b->al[b->nal].nname)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    b->al[b->nal++].commune = c;
    return GF_OK;
}

static uint32_t suffix_off(gf_gc_builder *b, const char *s, size_t n)
{
    if (n == 0 || n > 15) return 0;
    for (int i = 0; i < b->nsfx; i++)
        if (strlen(b->sfx[i]) == n && memcmp(b->sfx[i], s, n) == 0) return b->sfx_off[i];
    uint32_t off;
    if (pool_add(b, s, n, &off)) return 0;
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
            if (pool_add(b, s[1], l[1], &cm->name)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
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
                if (grow((void **)&b->streets, &b->cs, b->ns + 1, sizeof *b->streets)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                sidx = b->ns++;
                gc_street *sp = &b->streets[sidx];
                memset(sp, 0, sizeof *sp);
                sp->commune = c;
                sp->lon = sp->lat = INT32_MIN;
                sp->nlen = (uint16_t)l[3];
                if (pool_add(b, s[2], l[2], &sp->name) || pool_add(b, s[3], l[3], &sp->nname) ||
                    (l[6] && pool_add(b, s[6], l[6], &sp->postcode)))
                    return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                if (b->ns * 2 + 2 > b->hs_cap) {
                    if (rehash_street(&b->h_street, &b->hs_cap, b->streets, b->ns, b->pool)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
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
                if (grow((void **)&b->streets, &b->cs, b->ns + 1, sizeof *b->streets)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                li = b->ns++;
                gc_street *lp = &b->streets[li];
                memset(lp, 0, sizeof *lp);
                lp->commune = c;
                lp->nlen = (uint16_t)l[9];
                lp->lon = rec[1]; /* the first address that names it */
                lp->lat = rec[2];
                if (pool_add(b, s[8], l[8], &lp->name) || pool_add(b, s[9], l[9], &lp->nname) ||
                    (l[6] && pool_add(b, s[6], l[6], &lp->postcode)))
                    return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                if (b->ns * 2 + 2 > b->hs_cap) {
                    if (rehash_street(&b->h_street, &b->hs_cap, b->streets, b->ns, b->pool)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
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
            (pool_add(b, s[7], l[7], &sp->oldcity) || pool_add(b, s[10], l[10], &sp->oldcitycode)))
            return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        if (rec[0] < 0) {
            if (sp->lon == INT32_MIN) { sp->lon = rec[1]; sp->lat = rec[2]; }
            continue;
        }
        if (grow((void **)&b->addrs, &b->ca, b->na + 1, sizeof *b->addrs)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        gc_addr *a = &b->addrs[b->na++];
        a->street = sidx;
        a->num = rec[0];
        a->suffix = suffix_off(b, s[4], l[4]);
        if (pool_add(b, s[5], l[5], &a->cle)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        a->lon = rec[1];
        a->lat = rec[2];
        sp->naddr++;
        if (li != GC_NONE && li != sidx) {
            if (grow((void **)&b->ldp, &b->cldp, b->nldp + 1, sizeof *b->ldp)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
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
            if (pool_add(b, rec.field[cn], rec.len[cn], &co->name)) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
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

/* ---- freezing ---- */
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
                if (grow((void **)&b->streets, &b->cs, b->ns + 1, sizeof *b->streets)) {
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
        if (grow((void **)&b->al, &b->cal, b->nal + 1, sizeof *b->al)) {
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
            if (pool_add(b, nn, l, &cm->nname)) { free(sx); free(sy); free(cnt); free(sorted); free(ix); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
        }
        free(sx); free(sy); free(cnt);
    }
    ix->communes = b->communes; ix->ncommunes = b->nc; b->communes = NULL; b->nc = b->cc = 0;
    ix->streets = b->streets; ix->nstreets = ns; b->streets = NULL; b->ns = b->cs = 0;
    ix->pool = b->pool; ix->poollen = b->plen; b->pool = NULL; b->plen = b->pcap = 0;
    gf_status st = GF_OK;
    /* 4. hash tables */
    if (rehash_insee(&ix->h_insee, &ix->h_insee_cap, ix->communes, ix->ncommunes) ||
        rehash_street(&ix->h_street, &ix->h_street_cap, ix->streets, ix->nstreets, ix->pool)) {
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

/* ---- file format (gcfile.h) ---- */
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
