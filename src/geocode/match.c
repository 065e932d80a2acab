/* Query parsing and matching, and reverse geocoding.
 *
 * A query goes through the stages users expect from the national geocoder:
 * the commune is resolved first (INSEE code, postcode, name), then the street
 * within it (exact normalised name, else fuzzy), then the number on that
 * street (exact, else interpolated or nearest), falling back to the street,
 * then to the commune.
 *
 * Fuzzy street names: trigram candidates + bounded Damerau-Levenshtein.
 * Why: a typo destroys at most three trigrams of the blank-padded name, so
 * the right street keeps most of its trigrams and comes first among a
 * handful of candidates gathered from the commune's posting lists (one binary
 * search per trigram, no scan of the commune's streets); the optimal string
 * alignment distance, bounded so that it stops after a few rows, then
 * ranks those few exactly and counts a swapped pair of letters ("Jaurès" as
 * "Jarues") as one edit, which plain Levenshtein counts as two. Edit
 * distance alone would need a full scan of the commune (thousands of
 * streets in a city); trigrams alone rank transpositions and short names
 * badly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "geocode/gc.h"

#define MAXTOK 64
#define MAXCAND 32

const char *gf_gc_type_name(gf_gc_type t)
{
    switch (t) {
    case GF_GC_HOUSENUMBER: return "housenumber";
    case GF_GC_STREET: return "street";
    case GF_GC_LOCALITY: return "locality";
    case GF_GC_MUNICIPALITY: return "municipality";
    default: return "";
    }
}

double gf_gc_distance(double lon1, double lat1, double lon2, double lat2)
{
    const double R = 6371008.8, d2r = M_PI / 180.0;
    double dlat = (lat2 - lat1) * d2r, dlon = (lon2 - lon1) * d2r;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * d2r) * cos(lat2 * d2r) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * R * asin(sqrt(a < 1 ? a : 1));
}

gf_status gf_gc_scratch_create(const gf_gc_index *ix, gf_gc_scratch **out)
{
    gf_gc_scratch *s = calloc(1, sizeof *s);
    if (!s) return GF_ERR_NOMEM;
    s->ix = ix;
    s->tri_count = calloc((size_t)ix->nstreets + 1, sizeof *s->tri_count);
    s->touched_cap = 4096;
    s->touched = malloc(s->touched_cap * sizeof *s->touched);
    if (!s->tri_count || !s->touched) { gf_gc_scratch_destroy(s); return GF_ERR_NOMEM; }
    *out = s;
    return GF_OK;
}

void gf_gc_scratch_destroy(gf_gc_scratch *s)
{
    if (!s) return;
    free(s->tri_count);
    free(s->touched);
    free(s);
}

/* ---- tokens ---- */
enum { T_WORD = 0, T_DROP, T_NUM, T_SFX, T_PC, T_CITY };
typedef struct tok { const char *p; int len; int kind; } tok;

static int is_digits(const char *p, int n)
{
    if (n == 0) return 0;
    for (int i = 0; i < n; i++) if (p[i] < '0' || p[i] > '9') return 0;
    return 1;
}
static int weq(const tok *t, const char *w) { return (int)strlen(w) == t->len && memcmp(t->p, w, (size_t)t->len) == 0; }
static int is_ordinal(const tok *t)
{
    int d = 0;
    while (d < t->len && t->p[d] >= '0' && t->p[d] <= '9') d++;
    if (d == 0 || d == t->len) return 0;
    const char *r = t->p + d;
    int rl = t->len - d;
    return (rl == 1 && r[0] == 'e') || (rl == 2 && !memcmp(r, "er", 2)) || (rl == 3 && (!memcmp(r, "eme", 3) || !memcmp(r, "ere", 3)));
}

static int is_article(const tok *t)
{
    return weq(t, "le") || weq(t, "la") || weq(t, "les") || weq(t, "l") || weq(t, "du") || weq(t, "des");
}

/* Appends the normalised form of tokens [from, to) that are plain words. */
/* The normalised words of t[from..to) of one kind (T_WORD: the words not
 * yet read as something else). */
static size_t norm_kind(const tok *t, int from, int to, int kind, char *out, size_t outsz)
{
    size_t k = 0;
    out[0] = 0;
    for (int i = from; i < to; i++) {
        if (t[i].kind != kind) continue;
        size_t wl;
        const char *w = gc_word(t[i].p, (size_t)t[i].len, &wl);
        if (!w || k + wl + 2 >= outsz) continue;
        if (k) out[k++] = ' ';
        memcpy(out + k, w, wl);
        k += wl;
    }
    out[k] = 0;
    return k;
}

static size_t norm_toks(const tok *t, int from, int to, char *out, size_t outsz)
{
    return norm_kind(t, from, to, T_WORD, out, outsz);
}

/* Splits "12bis" into 12 + "bis"; 0 when the token is not a house number. */
static int parse_number(const tok *t, int64_t *num, char sfx[16])
{
    int d = 0;
    while (d < t->len && t->p[d] >= '0' && t->p[d] <= '9') d++;
    if (d == 0 || d > 5) return 0;
    int64_t v = 0;
    for (int i = 0; i < d; i++) v = v * 10 + (t->p[i] - '0');
    sfx[0] = 0;
    if (d < t->len && !gc_suffix_norm(t->p + d, (size_t)(t->len - d), sfx)) return 0;
    *num = v;
    return 1;
}

/* ---- communes ---- */
typedef struct ccand { uint32_t c; double conf; } ccand;

static int add_cand(ccand *cs, int n, uint32_t c, double conf)
{
    for (int i = 0; i < n; i++)
        if (cs[i].c == c) {
            if (conf > cs[i].conf) cs[i].conf = conf;
            return n;
        }
    if (n >= MAXCAND) return n;
    cs[n].c = c;
    cs[n].conf = conf;
    return n + 1;
}

static int postcode_communes(const gf_gc_index *ix, const char *pc, size_t n, uint32_t *out, int max)
{
    if (n != 5 || !is_digits(pc, 5)) return 0;
    uint64_t v = (uint64_t)strtoul((char[6]){pc[0], pc[1], pc[2], pc[3], pc[4], 0}, NULL, 10);
    uint32_t lo = 0, hi = ix->npostcodes;
    while (lo < hi) {
        uint32_t m = (lo + hi) / 2;
        if ((ix->postcodes[m] >> 32) < v) lo = m + 1;
        else hi = m;
    }
    int k = 0;
    for (uint32_t i = lo; i < ix->npostcodes && (ix->postcodes[i] >> 32) == v && k < max; i++)
        out[k++] = (uint32_t)(ix->postcodes[i] & 0xFFFFFFFF);
    return k;
}

/* The arrondissements in the index of the city (Paris, Lyon, Marseille)
 * that a normalised name or its INSEE code designates. */
static int plm_communes(const gf_gc_index *ix, const char *name, size_t n, uint32_t *out, int max)
{
    char codes[20][6];
    int nc = gc_arrondissements(name, n, codes, 20), k = 0;
    for (int i = 0; i < nc && k < max; i++) {
        uint32_t c = gc_find_insee(ix, codes[i], 5);
        if (c != GC_NONE) out[k++] = c;
    }
    return k;
}

/* 1 when commune c is called cn (normalised), or is an arrondissement of the city called cn. */
static int called(const gf_gc_index *ix, uint32_t c, const char *cn)
{
    const char *whole = gc_arrondissement_city(ix->communes[c].insee);
    return !strcmp(gc_str(ix, ix->communes[c].nname), cn) || (whole && !strcasecmp(whole, cn));
}

static int name_dist_ok(const char *a, size_t la, const char *b, size_t lb, int *dist)
{
    int k = (int)(la < lb ? la : lb) / 5;
    if (k < 1) k = 1;
    if (k > 3) k = 3;
    int d = gc_osa(a, (int)la, b, (int)lb, k);
    *dist = d;
    return d <= k;
}

/* Candidate communes from the filters and the city name (normalised). */
static int resolve_communes(const gf_gc_index *ix, const gf_gc_query *q, const char *pc, size_t pcl, const char *cn,
                            size_t cnl, ccand *cs)
{
    int n = 0;
    if (q->citycode && q->citycodelen) {
        uint32_t c = gc_find_insee(ix, q->citycode, q->citycodelen);
        if (c != GC_NONE) return add_cand(cs, 0, c, 1.0);
        /* 75056, 69123, 13055: the city, addressed by arrondissement */
        uint32_t ar[MAXCAND];
        int nar = plm_communes(ix, q->citycode, q->citycodelen, ar, MAXCAND);
        for (int i = 0; i < nar; i++) n = add_cand(cs, n, ar[i], 1.0);
        if (n) return n;
    }
    uint32_t pcs[MAXCAND];
    int npc = pcl ? postcode_communes(ix, pc, pcl, pcs, MAXCAND) : 0;
    if (cnl) {
        for (int i = 0; i < npc; i++)
            if (called(ix, pcs[i], cn)) n = add_cand(cs, n, pcs[i], 1.0);
        if (n) return n;
        /* another name of one of the postcode's communes (former commune, hamlet) */
        uint32_t al[MAXCAND];
        int nal = gc_find_alias(ix, cn, cnl, al, MAXCAND);
        for (int a = 0; a < nal; a++)
            for (int i = 0; i < npc; i++)
                if (al[a] == pcs[i]) n = add_cand(cs, n, pcs[i], 0.98);
        if (n) return n;
        int bestd = 99;
        for (int i = 0; i < npc; i++) {
            const char *nm = gc_str(ix, ix->communes[pcs[i]].nname);
            int d;
            if (name_dist_ok(cn, cnl, nm, strlen(nm), &d) && d < bestd) bestd = d;
        }
        if (bestd < 99)
            for (int i = 0; i < npc; i++) {
                const char *nm = gc_str(ix, ix->communes[pcs[i]].nname);
                int d;
                if (name_dist_ok(cn, cnl, nm, strlen(nm), &d) && d == bestd) n = add_cand(cs, n, pcs[i], 0.9);
            }
        if (n) return n;
        /* the name, anywhere (wrong postcode, or a postcode we do not know) */
        uint32_t c = gc_find_cname(ix, cn, cnl);
        int homonyms = 0;
        for (uint32_t k = c; k != GC_NONE; k = ix->communes[k].next_name) homonyms++;
        for (uint32_t k = c; k != GC_NONE; k = ix->communes[k].next_name) {
            double conf = npc ? 0.85 : (homonyms > 1 ? 0.9 : 1.0);
            /* a homonym in the postcode's department is the likely one */
            if (pcl >= 2 && !strncmp(ix->communes[k].insee, pc, 2)) conf += 0.05;
            n = add_cand(cs, n, k, conf);
        }
        /* no postcode chose: a lieu-dit or former commune of that name is
         * a candidate too, behind (a commune "La Croix-Blanche" far away,
         * without the street, and the lieu-dit La Croix Blanche of Bruz) */
        for (int a = 0; n && !npc && a < nal; a++) n = add_cand(cs, n, al[a], 0.85);
        if (n) return n;
        uint32_t ar[MAXCAND];
        int nar = plm_communes(ix, cn, cnl, ar, MAXCAND);
        for (int i = 0; i < nar; i++) n = add_cand(cs, n, ar[i], npc ? 0.85 : 1.0);
        if (n) return n;
        for (int a = 0; a < nal; a++) {
            double conf = npc ? 0.85 : (nal > 1 ? 0.9 : 0.95);
            if (pcl >= 2 && !strncmp(ix->communes[al[a]].insee, pc, 2)) conf += 0.05;
            n = add_cand(cs, n, al[a], conf);
        }
        if (n) return n;
        if (npc) {
            for (int i = 0; i < npc; i++) n = add_cand(cs, n, pcs[i], 0.75);
            return n;
        }
        /* fuzzy name over every commune: only when nothing else points anywhere */
        int best = 99;
        for (uint32_t k = 0; k < ix->ncommunes; k++) {
            const char *nm = gc_str(ix, ix->communes[k].nname);
            size_t l = strlen(nm);
            if (l + 3 < cnl || cnl + 3 < l || nm[0] != cn[0]) continue;
            int d;
            if (name_dist_ok(cn, cnl, nm, l, &d) && d < best) best = d;
        }
        if (best < 99)
            for (uint32_t k = 0; k < ix->ncommunes; k++) {
                const char *nm = gc_str(ix, ix->communes[k].nname);
                size_t l = strlen(nm);
                if (l + 3 < cnl || cnl + 3 < l || nm[0] != cn[0]) continue;
                int d;
                if (name_dist_ok(cn, cnl, nm, l, &d) && d == best) n = add_cand(cs, n, k, 0.85);
            }
        return n;
    }
    for (int i = 0; i < npc; i++) n = add_cand(cs, n, pcs[i], npc == 1 ? 1.0 : 0.95);
    return n;
}

/* The communes whose position lies within GC_NEAR_M of the query's bias
 * point, nearest first (at most MAXCAND), with confidence 0.9: the commune
 * is a guess from the position, not something the text says. A scan of the
 * communes (tens of thousands at most), cheap in degrees before the exact
 * distance; only rows naming no commune at all pay for it. */
#define GC_NEAR_M 10000.0
static int near_communes(const gf_gc_index *ix, const gf_gc_query *q, ccand *cs)
{
    if (!isfinite(q->lon) || !isfinite(q->lat) || fabs(q->lat) > 90 || fabs(q->lon) > 180) return 0;
    double dlat = GC_NEAR_M / 110574.0, kx = cos(q->lat * M_PI / 180.0);
    double dlon = kx > 0.01 ? GC_NEAR_M / (111320.0 * kx) : 360;
    double dist[MAXCAND];
    int n = 0;
    for (uint32_t c = 0; c < ix->ncommunes; c++) {
        const gc_commune *cm = &ix->communes[c];
        if (cm->lon == INT32_MIN) continue;
        double lo = cm->lon / GC_E7, la = cm->lat / GC_E7;
        if (fabs(la - q->lat) > dlat || fabs(lo - q->lon) > dlon) continue;
        double d = gf_gc_distance(q->lon, q->lat, lo, la);
        if (d > GC_NEAR_M || (n == MAXCAND && d >= dist[n - 1])) continue;
        int pos = n < MAXCAND ? n++ : n - 1;
        while (pos > 0 && dist[pos - 1] > d) { dist[pos] = dist[pos - 1]; cs[pos] = cs[pos - 1]; pos--; }
        dist[pos] = d;
        cs[pos] = (ccand){c, 0.9};
    }
    return n;
}

/* ---- streets ---- */
typedef struct scand { uint32_t s; double sim, v; } scand;

static double sim_of(int d, size_t la, size_t lb)
{
    size_t m = la > lb ? la : lb;
    if (m == 0) return 0;
    double s = 1.0 - 1.5 * d / (double)m;
    return s < 0 ? 0 : s;
}

/* Similarity of query name S to street sp: full names, or with the street
 * type left out on either side (a query that lacks it, has another one, or
 * whose first word is a type word that belongs to the name: "Clos Berhault"
 * for "Rue du Clos Berhault"); those cost 15 %. */
static double street_sim(const gf_gc_index *ix, const gc_street *sp, const char *S, size_t sl, const char *St, size_t stl)
{
    const char *nm = gc_str(ix, sp->nname);
    const char *q[2] = {S, St}, *c[2] = {nm, nm + sp->tstart};
    size_t ql[2] = {sl, stl}, cl[2] = {sp->nlen, (size_t)(sp->nlen - sp->tstart)};
    double best = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            if ((i && St == S) || (j && !sp->tstart) || !ql[i] || !cl[j]) continue;
            double pen = (i || j) ? 0.85 : 1.0;
            if (best >= pen) continue;
            int k = (int)(ql[i] < cl[j] ? ql[i] : cl[j]) / 4;
            if (k < 1) k = 1;
            if (k > 4) k = 4;
            int d = gc_osa(q[i], (int)ql[i], c[j], (int)cl[j], k);
            if (d <= k) {
                double v = sim_of(d, ql[i], cl[j]) * pen;
                if (v > best) best = v;
            }
        }
    return best;
}

/* Similarity of two skeletons (names without blanks): what a blank moved,
 * lost or added, or a short word mangled ("desl'Orguenais", "Rueades",
 * "eds", "dos", "dr" for "de") leaves of a name that words cannot see. */
static double skel_sim(const char *a, size_t la, const char *b, size_t lb)
{
    if (!la || !lb) return 0;
    int k = (int)(la < lb ? la : lb) / 6;
    if (k < 1) k = 1;
    if (k > 3) k = 3;
    int d = gc_osa(a, (int)la, b, (int)lb, k);
    return d <= k ? sim_of(d, la, lb) : 0;
}

/* The query's skeletons: with street types spelt out, and as typed (a
 * split word can leave a piece that reads as an abbreviation: "Ch arles",
 * "Ave nue", "Corbie res"). */
typedef struct qskel { char s[256], raw[256]; size_t n, type_end, rawn; } qskel;

/* Best skeleton similarity of street sp to the query, times 0.95 (the
 * words did not agree; 0.85 when the query has no street type): the whole
 * names, or the names after their street types when the query's is glued
 * to the name ("ImpGwilen") or missing. */
static double skeleton_sim(const gf_gc_index *ix, const gc_street *sp, const qskel *q)
{
    if (!q->n) return 0;
    const char *nm = gc_str(ix, sp->name);
    char f[256], c[256];
    size_t cte, fl = gc_fold(nm, strlen(nm), f, sizeof f);
    size_t cl = gc_skeleton(f, fl, c, sizeof c, &cte, 1);
    double best = skel_sim(q->s, q->n, c, cl) * 0.95;
    if (q->rawn != q->n || memcmp(q->raw, q->s, q->n) != 0) {
        double v = skel_sim(q->raw, q->rawn, c, cl) * 0.95;
        if (v > best) best = v;
    }
    if (cte && cte < cl) {
        size_t p = q->type_end ? 0 : gc_type_prefix(q->s, q->n, c, cte);
        if (p && p < q->n) {
            double v = skel_sim(q->s + p, q->n - p, c + cte, cl - cte) * 0.95;
            if (v > best) best = v;
        } else if (!q->type_end) {
            double v = skel_sim(q->s, q->n, c + cte, cl - cte) * 0.85;
            if (v > best) best = v;
        } else if (q->type_end < q->n) {
            /* another street type ("Allee dos Acacias" for the Rue des Acacias) */
            double v = skel_sim(q->s + q->type_end, q->n - q->type_end, c + cte, cl - cte) * 0.85;
            if (v > best) best = v;
        }
    }
    return best;
}

#define NSC 8
/* Keeps the NSC best candidates by v = sim * commune confidence, one entry per street. */
/* 1 when candidate (v, s) ranks before L[i]: a higher value, then, with
 * ix (no commune named: homonyms of any commune), the commune with more
 * addresses (its importance), then the lower street number. */
static int ranks_before(const gf_gc_index *ix, const scand *L, int i, uint32_t s, double v)
{
    if (L[i].v != v) return L[i].v < v;
    if (ix) {
        uint32_t a = ix->communes[ix->streets[s].commune].naddr, b = ix->communes[ix->streets[L[i].s].commune].naddr;
        if (a != b) return a > b;
    }
    return L[i].s > s;
}

static void push_cand_by(const gf_gc_index *ix, scand *L, int *n, uint32_t s, double sim, double v)
{
    for (int i = 0; i < *n; i++)
        if (L[i].s == s) {
            if (v <= L[i].v) return;
            for (int k = i; k + 1 < *n; k++) L[k] = L[k + 1];
            (*n)--;
            break;
        }
    int pos = *n;
    while (pos > 0 && ranks_before(ix, L, pos - 1, s, v)) pos--;
    if (pos >= NSC) return;
    int last = *n < NSC ? *n : NSC - 1;
    for (int k = last; k > pos; k--) L[k] = L[k - 1];
    L[pos] = (scand){s, sim, v};
    if (*n < NSC) (*n)++;
}

static void push_cand(scand *L, int *n, uint32_t s, double sim, double v) { push_cand_by(NULL, L, n, s, sim, v); }

/* Streets of commune c close to S, by trigram candidates, into L. */
static void fuzzy_streets(const gf_gc_index *ix, gf_gc_scratch *scr, uint32_t c, double conf, const char *S, size_t sl,
                          const char *St, size_t stl, const qskel *qk, scand *L, int *nl)
{
    uint32_t tris[128];
    size_t nt = gc_trigrams(S, sl, tris, 128);
    /* unique trigrams */
    size_t u = 0;
    for (size_t i = 0; i < nt; i++) {
        int dup = 0;
        for (size_t j = 0; j < u && !dup; j++) dup = tris[j] == tris[i];
        if (!dup) tris[u++] = tris[i];
    }
    nt = u;
    scr->ntouched = 0;
    for (size_t i = 0; i < nt; i++) {
        uint64_t key = ((uint64_t)c << 24) | tris[i];
        uint32_t lo = 0, hi = ix->ntri;
        while (lo < hi) {
            uint32_t m = (lo + hi) / 2;
            if (ix->tri_keys[m] < key) lo = m + 1;
            else hi = m;
        }
        uint32_t end = lo;
        while (end < ix->ntri && ix->tri_keys[end] == key) end++;
        /* very common trigrams ("rue", " ch") carry no information and cost time */
        if (end - lo > 512 && nt > 4) continue;
        for (uint32_t k = lo; k < end; k++) {
            uint32_t s = ix->tri_vals[k];
            if (scr->tri_count[s]++ == 0) {
                if (scr->ntouched == scr->touched_cap) {
                    size_t ncap = scr->touched_cap * 2;
                    uint32_t *nt2 = realloc(scr->touched, ncap * sizeof *nt2);
                    if (!nt2) { scr->tri_count[s]--; continue; }
                    scr->touched = nt2;
                    scr->touched_cap = ncap;
                }
                scr->touched[scr->ntouched++] = s;
            }
        }
    }
    /* the 24 streets sharing most trigrams, then exact ranking */
    enum { TOP = 24 };
    uint32_t top[TOP];
    int ntop = 0;
    unsigned minshare = nt >= 6 ? (unsigned)(nt / 3) : 1;
    for (size_t i = 0; i < scr->ntouched; i++) {
        uint32_t s = scr->touched[i];
        unsigned cnt = scr->tri_count[s];
        if (cnt < minshare) continue;
        if (ntop < TOP) { top[ntop++] = s; continue; }
        int w = 0;
        for (int j = 1; j < TOP; j++)
            if (scr->tri_count[top[j]] < scr->tri_count[top[w]] ||
                (scr->tri_count[top[j]] == scr->tri_count[top[w]] && top[j] > top[w])) w = j;
        if (cnt > scr->tri_count[top[w]] || (cnt == scr->tri_count[top[w]] && s < top[w])) top[w] = s;
    }
    for (int i = 0; i < ntop; i++) {
        const gc_street *sp = &ix->streets[top[i]];
        double sim = street_sim(ix, sp, S, sl, St, stl);
        if (sim < 0.95) {
            double k = skeleton_sim(ix, sp, qk);
            if (k > sim) sim = k;
        }
        if (sim > 0) push_cand(L, nl, top[i], sim, sim * conf);
    }
    for (size_t i = 0; i < scr->ntouched; i++) scr->tri_count[scr->touched[i]] = 0;
    scr->ntouched = 0;
}

/* Position of the first address numbered num or more among sp's (naddr: none). */
static uint32_t first_number(const gf_gc_index *ix, const gc_street *sp, int64_t num)
{
    uint32_t lo = 0, hi = sp->naddr;
    while (lo < hi) {
        uint32_t m = (lo + hi) / 2;
        if (gc_street_addr(ix, sp, m)->num < num) lo = m + 1;
        else hi = m;
    }
    return lo;
}

/* 1 when street s has number num (any suffix). */
static int has_number(const gf_gc_index *ix, uint32_t s, int64_t num)
{
    const gc_street *sp = &ix->streets[s];
    uint32_t lo = first_number(ix, sp, num);
    return lo < sp->naddr && gc_street_addr(ix, sp, lo)->num == num;
}

/* 1 when street s has number num with suffix sfx (canonical, "" none). */
static int has_address(const gf_gc_index *ix, uint32_t s, int64_t num, const char *sfx)
{
    const gc_street *sp = &ix->streets[s];
    uint32_t lo = first_number(ix, sp, num);
    for (uint32_t i = lo; i < sp->naddr && gc_street_addr(ix, sp, i)->num == num && i < lo + 16; i++) {
        const char *sv = gc_str(ix, gc_street_addr(ix, sp, i)->suffix);
        char c[16];
        if (!gc_suffix_norm(sv, strlen(sv), c)) snprintf(c, sizeof c, "%s", sv);
        if (!strcmp(c, sfx)) return 1;
    }
    return 0;
}

/* 1 when the addresses numbered num with suffix sfx of lieu-dit ld all lie
 * on street s ("7 Le Paradis" is the 7 of the Chemin du Paradis: one
 * address, not two answers). */
static int ld_on_street(const gf_gc_index *ix, uint32_t ld, int64_t num, const char *sfx, uint32_t s)
{
    const gc_street *sp = &ix->streets[ld];
    uint32_t lo = first_number(ix, sp, num);
    for (uint32_t i = lo; i < sp->naddr && gc_street_addr(ix, sp, i)->num == num && i < lo + 16; i++) {
        const gc_addr *a = gc_street_addr(ix, sp, i);
        const char *sv = gc_str(ix, a->suffix);
        char c[16];
        if (!gc_suffix_norm(sv, strlen(sv), c)) snprintf(c, sizeof c, "%s", sv);
        if (!strcmp(c, sfx) && a->street != s) return 0;
    }
    return 1;
}

/* ---- results ---- */
/* When the candidates are several arrondissements of one city (Paris,
 * Lyon, Marseille named as a whole), the city itself as a municipality:
 * its code, the mean of their positions. 0 when they are not. */
static int whole_city(const gf_gc_index *ix, const ccand *cs, int ncs, gf_gc_result *r)
{
    const char *code = ncs > 1 ? gc_arrondissement_citycode(ix->communes[cs[0].c].insee) : NULL;
    double lon = 0, lat = 0, naddr = 0;
    int npos = 0;
    for (int i = 0; code && i < ncs; i++) {
        const gc_commune *cm = &ix->communes[cs[i].c];
        const char *ci = gc_arrondissement_citycode(cm->insee);
        if (!ci || strcmp(ci, code)) return 0;
        naddr += cm->naddr;
        if (cm->lon == INT32_MIN) continue;
        lon += cm->lon / GC_E7;
        lat += cm->lat / GC_E7;
        npos++;
    }
    if (!code || !npos) return 0;
    r->type = GF_GC_MUNICIPALITY;
    r->city = r->name = gc_arrondissement_city(ix->communes[cs[0].c].insee);
    r->citycode = code;
    r->context = gc_context(code);
    r->lon = lon / npos;
    r->lat = lat / npos;
    double imp = log10(1.0 + naddr) / 5.2;
    r->importance = imp < 1 ? imp : 1;
    return 1;
}

static void fill_commune(const gf_gc_index *ix, uint32_t c, gf_gc_result *r)
{
    const gc_commune *cm = &ix->communes[c];
    r->city = gc_str(ix, cm->name);
    r->citycode = cm->insee;
    r->postcode = gc_str(ix, cm->postcode);
    r->context = gc_context(cm->insee);
    const char *whole = gc_arrondissement_city(cm->insee);
    if (whole) { /* Paris, Lyon, Marseille: the city, and the arrondissement as district */
        r->district = gc_arrondissement_district(cm->insee);
        r->city = whole;
    }
    double imp = log10(1.0 + cm->naddr) / 5.2;
    r->importance = imp < 1 ? imp : 1;
}

static void fill_street(const gf_gc_index *ix, uint32_t s, gf_gc_result *r)
{
    const gc_street *sp = &ix->streets[s];
    fill_commune(ix, sp->commune, r);
    r->street = gc_str(ix, sp->name);
    if (sp->postcode) r->postcode = gc_str(ix, sp->postcode);
    r->oldcity = gc_str(ix, sp->oldcity);
    r->oldcitycode = gc_str(ix, sp->oldcitycode);
}

/* A street or place result's id, as the national service gives one: its
 * addresses' cle_interop up to the number ("35047_0380" of
 * "35047_0380_00062"), from its first address, in the scratch's buffer of
 * the result being filled. "" for a lieu-dit (its addresses are other
 * streets'), a street without addresses, or ids of another form (the
 * legacy BAN's "ADRNIVX_..."). */
static void street_id(const gf_gc_index *ix, gf_gc_scratch *scr, uint32_t s, gf_gc_result *r)
{
    const gc_street *sp = &ix->streets[s];
    r->id = "";
    if (sp->kind == GC_K_LIEUDIT || sp->naddr == 0) return;
    const char *c = gc_str(ix, gc_street_addr(ix, sp, 0)->cle);
    const char *u1 = strchr(c, '_'), *u2 = u1 ? strchr(u1 + 1, '_') : NULL;
    if (!u2 || u1 == c || u2 == u1 + 1 || (size_t)(u2 - c) >= sizeof scr->sid[0]) return;
    char *o = scr->sid[scr->slot];
    memcpy(o, c, (size_t)(u2 - c));
    o[u2 - c] = 0;
    r->id = o;
}

static void set_pos(gf_gc_result *r, int32_t lon, int32_t lat)
{
    r->lon = lon / GC_E7;
    r->lat = lat / GC_E7;
}

/* "12 bis Rue X" into the scratch's buffer of the result being filled
 * (no formatted I/O: this runs for every query). */
static void name_number(gf_gc_scratch *scr, gf_gc_result *r)
{
    char *o = scr->name[scr->slot];
    size_t k = 0, cap = sizeof scr->name[0];
    char d[24];
    int nd = 0;
    unsigned long long v = r->housenumber >= 0 ? (unsigned long long)r->housenumber : 0;
    do { d[nd++] = (char)('0' + v % 10); v /= 10; } while (v && nd < (int)sizeof d);
    while (nd && k + 1 < cap) o[k++] = d[--nd];
    const char *parts[2] = {r->suffix, r->street};
    for (int i = 0; i < 2; i++) {
        if (!parts[i][0]) continue;
        size_t l = strlen(parts[i]);
        if (k + 1 + l + 1 > cap) l = cap > k + 2 ? cap - k - 2 : 0;
        if (k + 1 < cap) o[k++] = ' ';
        memcpy(o + k, parts[i], l);
        k += l;
    }
    o[k] = 0;
    r->name = o;
}

/* The result is the index's address a (its street already filled). */
static void fill_address(const gf_gc_index *ix, gf_gc_scratch *scr, const gc_addr *a, gf_gc_result *r)
{
    r->type = GF_GC_HOUSENUMBER;
    set_pos(r, a->lon, a->lat);
    r->housenumber = a->num;
    snprintf(r->suffix, sizeof r->suffix, "%s", gc_str(ix, a->suffix));
    r->id = gc_str(ix, a->cle);
    name_number(scr, r);
}

void gf_gc_result_clear(gf_gc_result *r)
{
    if (!r) return;
    memset(r, 0, sizeof *r);
    r->type = GF_GC_NONE;
    r->lon = r->lat = NAN;
    r->distance = NAN;
    r->housenumber = -1;
    r->id = r->name = r->street = r->postcode = r->city = r->citycode = "";
    r->context = r->district = r->oldcity = r->oldcitycode = "";
}

/* Number stage on street s. Returns the factor applied to the score, 0 when
 * the street has no numbers. */
static double match_number(const gf_gc_index *ix, gf_gc_scratch *scr, uint32_t s, int64_t num, const char *sfx,
                           gf_gc_result *r)
{
    const gc_street *sp = &ix->streets[s];
    if (sp->naddr == 0) return 0;
#define A(i) gc_street_addr(ix, sp, (uint32_t)(i)) /* a street's own addresses, or a lieu-dit's */
    uint32_t n = sp->naddr, lo = first_number(ix, sp, num);
    fill_street(ix, s, r);
    if (lo < n && A(lo)->num == num) {
        uint32_t e = lo;
        while (e < n && A(e)->num == num) e++;
        int pick = -1;
        double f = 1.0;
        char canon[16][16];
        uint32_t ne = e - lo < 16 ? e - lo : 16;
        for (uint32_t i = 0; i < ne; i++) {
            const char *sv = gc_str(ix, A(lo + i)->suffix);
            if (!gc_suffix_norm(sv, strlen(sv), canon[i])) snprintf(canon[i], sizeof canon[i], "%s", sv);
        }
        for (uint32_t i = 0; i < ne && pick < 0; i++)
            if (!strcmp(canon[i], sfx)) pick = (int)(lo + i);
        if (pick < 0 && sfx[0] && sfx[1] == 0) {
            /* "12 b" for "12 bis", "12 t" for "12 ter" */
            const char *full = sfx[0] == 'b' ? "bis" : sfx[0] == 't' ? "ter" : sfx[0] == 'q' ? "qua" : NULL;
            for (uint32_t i = 0; full && i < ne && pick < 0; i++)
                if (!strcmp(canon[i], full)) { pick = (int)(lo + i); f = 0.95; }
        }
        if (pick < 0) {
            /* another suffix of the same number: often the same building, but
             * entrances of one number can lie tens of metres apart */
            pick = (int)lo;
            f = 0.8;
        }
        const gc_addr *h = A(pick);
        if (sp->kind == GC_K_LIEUDIT) {
            /* the address is on its own street, which the result names; the
             * same number and suffix on two streets of the lieu-dit is a guess */
            for (uint32_t i = 0; i < ne; i++)
                if (A(lo + i)->street != h->street && !strcmp(canon[i], canon[pick - (int)lo])) { f *= 0.5; break; }
            fill_street(ix, h->street, r);
        }
        fill_address(ix, scr, h, r);
        return f;
    }
    /* not on the street: interpolate between the nearest numbers on the same
     * side (same parity) when there are some on both sides, else take the
     * nearest number */
    int below = -1, above = -1;
    for (int i = (int)lo - 1; i >= 0; i--) if ((A(i)->num & 1) == (num & 1)) { below = i; break; }
    for (uint32_t i = lo; i < n; i++) if ((A(i)->num & 1) == (num & 1)) { above = (int)i; break; }
    r->type = GF_GC_HOUSENUMBER;
    r->housenumber = num;
    snprintf(r->suffix, sizeof r->suffix, "%s", sfx);
    r->id = "";
    if (below >= 0 && above >= 0) {
        const gc_addr *a0 = A(below), *a1 = A(above);
        double t = (double)(num - a0->num) / (double)(a1->num - a0->num);
        /* in double: two int32 positions can be more than INT32_MAX apart */
        r->lon = (a0->lon + t * ((double)a1->lon - a0->lon)) / GC_E7;
        r->lat = (a0->lat + t * ((double)a1->lat - a0->lat)) / GC_E7;
        name_number(scr, r);
        return 0.75;
    }
    int nearest = lo < n ? (int)lo : (int)n - 1;
    if (lo > 0 && lo < n && num - A(lo - 1)->num < A(lo)->num - num) nearest = (int)lo - 1;
    set_pos(r, A(nearest)->lon, A(nearest)->lat);
    name_number(scr, r);
    return 0.6;
#undef A
}

/* Proximity to the query's bias point in [0,1] (1 on it, 0.5 at 5 km). */
static double proximity(const gf_gc_query *q, int32_t lon, int32_t lat)
{
    if (!q->has_bias || lon == INT32_MIN) return 0;
    double d = gf_gc_distance(q->lon, q->lat, lon / GC_E7, lat / GC_E7);
    return 5000.0 / (5000.0 + d);
}

/* The street or number result on street s for the ranked list. Returns
 * the number stage's factor (see gf_gc_result). */
static double street_result(const gf_gc_index *ix, gf_gc_scratch *scr, uint32_t s, int64_t num, const char *sfx,
                            gf_gc_result *r)
{
    double f = 0;
    if (num >= 0) f = match_number(ix, scr, s, num, sfx, r);
    if (f == 0) {
        const gc_street *sp = &ix->streets[s];
        fill_street(ix, s, r);
        r->type = sp->kind ? GF_GC_LOCALITY : GF_GC_STREET;
        set_pos(r, sp->lon, sp->lat);
        r->name = r->street;
        street_id(ix, scr, s, r);
        f = num >= 0 && sp->naddr ? 0.8 : num >= 0 ? 0.9 : 1.0;
    }
    return f;
}

static int type_ok(const gf_gc_query *q, gf_gc_type t) { return q->type == GF_GC_NONE || q->type == t; }

/* The street part of a query: its normalised words (S), the same without
 * a leading street type (St), and its skeletons. */
typedef struct sq_t {
    char S[512];
    size_t sl, stl;
    const char *St;
    qskel qk;
} sq_t;

static void street_query(const tok *t, int end, sq_t *q)
{
    q->sl = norm_toks(t, 0, end, q->S, sizeof q->S);
    q->St = q->S;
    q->stl = q->sl;
    const char *sp1 = strchr(q->S, ' ');
    size_t w1 = sp1 ? (size_t)(sp1 - q->S) : q->sl;
    if (sp1 && gc_is_street_type(q->S, w1)) { q->St = sp1 + 1; q->stl = q->sl - w1 - 1; }
    /* the street words as typed (articles kept, types spelt out), without blanks */
    char raw[256];
    size_t rl = 0;
    for (int i = 0; i < end; i++) {
        if (t[i].kind != T_WORD || rl + (size_t)t[i].len + 2 >= sizeof raw) continue;
        if (rl) raw[rl++] = ' ';
        memcpy(raw + rl, t[i].p, (size_t)t[i].len);
        rl += (size_t)t[i].len;
    }
    q->qk.n = gc_skeleton(raw, rl, q->qk.s, sizeof q->qk.s, &q->qk.type_end, 1);
    size_t rte;
    q->qk.rawn = gc_skeleton(raw, rl, q->qk.raw, sizeof q->qk.raw, &rte, 0);
}

/* Candidate streets of the candidate communes for q, into L. Returns 1 when
 * one of them has exactly q's normalised name. */
static int gather(const gf_gc_index *ix, gf_gc_scratch *scr, const ccand *cs, int ncs, const sq_t *q, int64_t num,
                  int max, scand *L, int *nl)
{
    int any = 0;
    for (int i = 0; i < ncs; i++) {
        uint32_t c = cs[i].c;
        /* the name may be borne by several entries of the commune: the
         * streets of two communes déléguées, a street and a lieu-dit */
        uint32_t hs[NSC];
        int nh = gc_find_streets(ix, c, q->S, q->sl, hs, NSC), exact = 0, numbered = 0, ld = 0;
        for (int h = 0; h < nh; h++) {
            if (ix->streets[hs[h]].lon == INT32_MIN) continue;
            push_cand(L, nl, hs[h], 1.0, cs[i].conf);
            exact = 1;
            numbered |= num < 0 || has_number(ix, hs[h], num);
            ld |= ix->streets[hs[h]].kind == GC_K_LIEUDIT;
        }
        any |= exact;
        /* an exact name without the number asked for: look for another street
         * that has it ("2 Bas Launay": the lieu-dit or the Rue du Bas Launay) */
        if (!exact || !numbered || ld || max > 1 /* a list: the close names too */)
            fuzzy_streets(ix, scr, c, cs[i].conf, q->S, q->sl, q->St, q->stl, &q->qk, L, nl);
    }
    return any;
}

/* 1 when normalised words w name, in one of the candidate communes, a
 * street, place or lieu-dit, a former commune (alias), or the commune
 * itself. */
static int names_around(const gf_gc_index *ix, const ccand *cs, int ncs, const char *w, size_t wl)
{
    uint32_t al[MAXCAND];
    int nal = gc_find_alias(ix, w, wl, al, MAXCAND);
    for (int i = 0; i < ncs; i++) {
        uint32_t s = gc_find_street(ix, cs[i].c, w, wl);
        if (s != GC_NONE) return 1;
        if (!strcmp(gc_str(ix, ix->communes[cs[i].c].nname), w)) return 1;
        for (int a = 0; a < nal; a++) if (al[a] == cs[i].c) return 1;
    }
    return 0;
}

/* Autocompletion: the streets whose name starts with the street words t[0..nt)
 * (normalised, the last one as typed: "pa" is not to be expanded as an
 * abbreviation), in the candidate communes, or anywhere when there are none
 * (confidence 0.9), into L (see gf_gc_query.prefix). whole: every word is
 * complete (no autocompletion, no commune named): all are normalised, and a
 * name must go on after them with a new word or end ("rue des acacias":
 * the Rue des Acacias and the Rue des Acacias Prolongée, not the Rue des
 * Acaciasses). */
static void prefix_cands(const gf_gc_index *ix, const tok *t, int nt, const ccand *cs, int ncs, int whole, scand *L,
                         int *nl)
{
    char P[512];
    size_t pl;
    if (whole) {
        pl = norm_toks(t, 0, nt, P, sizeof P);
    } else {
        const tok *lw = &t[nt - 1];
        size_t wl;
        if (!gc_word(lw->p, (size_t)lw->len, &wl)) return; /* an article: a whole word */
        pl = norm_toks(t, 0, nt - 1, P, sizeof P);
        if (pl + 1 + (size_t)lw->len + 1 >= sizeof P) return;
        if (pl) P[pl++] = ' ';
        memcpy(P + pl, lw->p, (size_t)lw->len);
        pl += (size_t)lw->len;
    }
    if (!pl || pl >= sizeof P) return;
    P[pl] = 0;
    const char *ty = NULL, *rest = P;
    size_t tyl = 0, rl = pl;
    const char *sp1 = memchr(P, ' ', pl);
    if (sp1 && gc_is_street_type(P, (size_t)(sp1 - P))) {
        ty = P;
        tyl = (size_t)(sp1 - P);
        rest = sp1 + 1;
        rl = pl - tyl - 1;
    }
    if (!rl) return;
    /* a whole name in the whole index: all its homonyms (up to
     * GC_WHOLE_SCAN), ranked by their communes' importance */
    uint32_t found[GC_WHOLE_SCAN];
    int scan = whole && !ncs ? GC_WHOLE_SCAN : GC_PREFIX_SCAN;
    for (int i = 0; i < (ncs ? ncs : 1); i++) {
        double conf = ncs ? cs[i].conf : 0.9;
        int n = gc_prefix_streets(ix, ncs ? cs[i].c : GC_NONE, ty, tyl, rest, rl, found, scan);
        for (int k = 0; k < n; k++) {
            const gc_street *sp = &ix->streets[found[k]];
            if (whole) { /* the name after the words: a new word or its end */
                const char *nm = gc_str(ix, sp->nname);
                char after = ty && !ncs ? nm[pl] : (sp->tstart <= sp->nlen ? nm + sp->tstart : nm)[rl];
                if (after && after != ' ') continue;
            }
            size_t ul = sp->nlen > sp->tstart ? (size_t)(sp->nlen - sp->tstart) : 1;
            double sim = 0.7 + 0.3 * (double)rl / (double)ul;
            if (sim > 1) sim = 1;
            push_cand_by(ncs ? NULL : ix, L, nl, found[k], sim, sim * conf);
        }
    }
}

/* The communes of named[0..n) where nname is not a place or lieu-dit
 * (kept in front, in order); returns how many. */
static int drop_places(const gf_gc_index *ix, const char *nname, size_t nl, uint32_t *named, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        uint32_t hs[NSC];
        int nh = gc_find_streets(ix, named[i], nname, nl, hs, NSC), place = 0;
        for (int h = 0; h < nh; h++) place |= ix->streets[hs[h]].kind != GC_K_STREET;
        if (!place) named[k++] = named[i];
    }
    return k;
}

/* Homonym streets of one commune nouvelle lie in different communes
 * déléguées: when the query names the former commune of some candidates
 * (oldn, normalised), the candidates of another former commune rank
 * lower (0.8: the text names another place). Only when one matches: the
 * name may be the commune's own, or a lieu-dit's. Normalising a candidate's
 * former commune costs a few hundred instructions, paid only by queries
 * that name a commune and candidates that have one. */
static void prefer_oldcity(const gf_gc_index *ix, const char *oldn, scand *L, int nl)
{
    int match[NSC], any = 0;
    for (int i = 0; i < nl; i++) {
        const char *oc = gc_str(ix, ix->streets[L[i].s].oldcity);
        match[i] = -1; /* no former commune */
        if (!oc[0]) continue;
        char n[256];
        gf_gc_normalize(oc, strlen(oc), n, sizeof n);
        match[i] = !strcmp(n, oldn);
        any |= match[i] == 1;
    }
    if (!any) return;
    for (int i = 0; i < nl; i++)
        if (match[i] == 0) L[i].v *= 0.8;
    for (int i = 1; i < nl; i++) /* stable: equal values keep their order */
        for (int j = i; j > 0 && L[j].v > L[j - 1].v; j--) {
            scand sw = L[j]; L[j] = L[j - 1]; L[j - 1] = sw;
        }
}

/* The matcher. Fills res[0] (type GF_GC_NONE when nothing is found) and,
 * when max > 1, the other candidate streets as res[1..*nalt]. */
static gf_status search(const gf_gc_index *ix, gf_gc_scratch *scr, const gf_gc_query *q, gf_gc_result *res, int max,
                        int *nalt)
{
    gf_gc_result *r = res;
    *nalt = 0;
    scr->slot = 0;
    gf_gc_result_clear(r);
    char fold[1024];
    size_t fl = q->q ? gc_fold(q->q, q->qlen, fold, sizeof fold) : 0;
    tok t[MAXTOK];
    int nt = 0;
    for (size_t i = 0; i < fl && nt < MAXTOK;) {
        size_t j = i;
        while (j < fl && fold[j] != ' ') j++;
        t[nt++] = (tok){fold + i, (int)(j - i), T_WORD};
        i = j + 1;
    }
    /* 1. noise: CEDEX, BP/CS/TSA boxes, building / floor / flat mentions */
    for (int i = 0; i < nt; i++) {
        tok *w = &t[i], *nx = i + 1 < nt ? &t[i + 1] : NULL;
        if (weq(w, "cedex")) {
            w->kind = T_DROP;
            if (nx && is_digits(nx->p, nx->len) && nx->len <= 3) nx->kind = T_DROP;
        } else if ((weq(w, "bp") || weq(w, "cs") || weq(w, "tsa") || weq(w, "cp")) && nx && is_digits(nx->p, nx->len)) {
            w->kind = nx->kind = T_DROP;
        } else if (weq(w, "batiment") || weq(w, "bat") || weq(w, "bt") || weq(w, "bloc") || weq(w, "escalier") ||
                   weq(w, "esc") || weq(w, "appartement") || weq(w, "appt") || weq(w, "apt") || weq(w, "app") ||
                   weq(w, "porte") || weq(w, "hall") || weq(w, "immeuble") || weq(w, "imm") || weq(w, "logement") ||
                   weq(w, "log") || weq(w, "boite") || weq(w, "bal")) {
            w->kind = T_DROP;
            if (nx && nx->len <= 3) nx->kind = T_DROP;
        } else if (weq(w, "etage") || weq(w, "etg") || weq(w, "niveau")) {
            w->kind = T_DROP;
            /* "2ème étage" or "étage 2", not both: in "2ème étage 62 rue X" the 62 is the number */
            if (i > 0 && (is_ordinal(&t[i - 1]) || weq(&t[i - 1], "premier") || weq(&t[i - 1], "dernier"))) t[i - 1].kind = T_DROP;
            else if (nx && is_digits(nx->p, nx->len) && nx->len <= 2) nx->kind = T_DROP;
        } else if (weq(w, "rdc") || (weq(w, "rez") && nx && weq(nx, "chaussee"))) {
            w->kind = T_DROP;
            if (!weq(w, "rdc") && nx) nx->kind = T_DROP;
        }
    }
    /* 1b. "35170 Bruz 12 rue X": postcode and city first. Rotated to the
     * usual order (street, then postcode and city) when a house number
     * followed by words comes after the city's words. */
    if (nt >= 4 && t[0].kind == T_WORD && t[0].len == 5 && is_digits(t[0].p, 5)) {
        int j = 1;
        while (j < nt && (t[j].kind != T_WORD || !(t[j].p[0] >= '0' && t[j].p[0] <= '9'))) j++;
        int64_t v;
        char s2[16];
        if (j >= 2 && j + 1 < nt && t[1].kind == T_WORD && parse_number(&t[j], &v, s2)) {
            tok rot[MAXTOK];
            int k = 0;
            for (int i = j; i < nt; i++) rot[k++] = t[i];
            for (int i = 0; i < j; i++) rot[k++] = t[i];
            memcpy(t, rot, sizeof(tok) * (size_t)nt);
        }
    }
    /* 1c. "Bruz rue des Acacias 2": the city's name first, then a street
     * type: rotated to the usual order (the street, then the city) */
    if (nt >= 3 && t[0].kind == T_WORD && !(t[0].p[0] >= '0' && t[0].p[0] <= '9')) {
        for (int k = nt - 2 < 4 ? nt - 2 : 4; k >= 1; k--) {
            if (t[k].kind != T_WORD || !gc_is_street_type(t[k].p, (size_t)t[k].len)) continue;
            int words = 1;
            for (int i = 0; i < k; i++) words &= t[i].kind == T_WORD && !(t[i].p[0] >= '0' && t[i].p[0] <= '9');
            char cand[256];
            size_t cl = words ? norm_toks(t, 0, k, cand, sizeof cand) : 0;
            if (!cl || gc_find_cname(ix, cand, cl) == GC_NONE) continue;
            tok rot[MAXTOK];
            int m = 0;
            for (int i = k; i < nt; i++) rot[m++] = t[i];
            for (int i = 0; i < k; i++) rot[m++] = t[i];
            memcpy(t, rot, sizeof(tok) * (size_t)nt);
            break;
        }
    }
    /* 2. postcode in the text: the last 5-digit word that is not the first
     * (a leading one is a house number), or the only word ("35170": its
     * communes, as the national service answers); the words after it name
     * the city */
    int pci = -1;
    for (int i = nt - 1; i >= 1; i--)
        if (t[i].kind == T_WORD && t[i].len == 5 && is_digits(t[i].p, 5)) { pci = i; break; }
    if (nt == 1 && t[0].kind == T_WORD && t[0].len == 5 && is_digits(t[0].p, 5)) pci = 0;
    int city_from = -1;
    if (pci >= 0) {
        t[pci].kind = T_PC;
        for (int i = pci + 1; i < nt; i++) if (t[i].kind == T_WORD) { t[i].kind = T_CITY; if (city_from < 0) city_from = i; }
    }
    int end = pci >= 0 ? pci : nt; /* street words lie before end */
    /* 3. house number: the first word, or a number just before a street type */
    int64_t num = -1;
    char sfx[16] = "";
    int first = 0;
    while (first < end && t[first].kind != T_WORD) first++;
    int numi = -1;
    if (first < end && t[first].p[0] >= '0' && t[first].p[0] <= '9' && parse_number(&t[first], &num, sfx)) {
        numi = first;
    } else {
        for (int i = first + 1; i < end; i++) {
            if (t[i].kind != T_WORD || t[i].p[0] < '0' || t[i].p[0] > '9') continue;
            int64_t v;
            char s2[16];
            if (!parse_number(&t[i], &v, s2)) continue;
            int j = i + 1;
            char s3[16];
            if (!s2[0] && j < end && t[j].len <= 9 && !gc_is_street_type(t[j].p, (size_t)t[j].len) &&
                gc_suffix_norm(t[j].p, (size_t)t[j].len, s3)) j++;
            /* after a building mention ("Bât 2"), a number followed by a name */
            int after_building = 0;
            for (int k = 0; k < i; k++) after_building |= t[k].kind == T_DROP;
            if (j < end && (gc_is_street_type(t[j].p, (size_t)t[j].len) || (after_building && j < end))) {
                numi = i;
                num = v;
                memcpy(sfx, s2, sizeof sfx);
                for (int k = first; k < i; k++) t[k].kind = T_DROP; /* complement before the address */
                break;
            }
        }
    }
    if (numi >= 0) {
        t[numi].kind = T_NUM;
        int j = numi + 1;
        if (!sfx[0] && j < end && t[j].kind == T_WORD && j + 1 < end) {
            /* "12 bis", "12 B"; a lone r/l/d is rue or an article, not a suffix */
            char s3[16];
            /* a lone l or d is an article unless a street type follows ("12 d rue ...") */
            int article = t[j].len == 1 && (t[j].p[0] == 'l' || t[j].p[0] == 'd') &&
                          !gc_is_street_type(t[j + 1].p, (size_t)t[j + 1].len) && !is_article(&t[j + 1]);
            if (!article && !gc_is_street_type(t[j].p, (size_t)t[j].len) && gc_suffix_norm(t[j].p, (size_t)t[j].len, s3)) {
                memcpy(sfx, s3, sizeof sfx);
                t[j].kind = T_SFX;
                j++;
            }
        }
        /* "12 bis A": a repetition word then an entrance letter */
        if (sfx[0] && sfx[1] && sfx[2] && !sfx[3] && j + 1 < end && t[j].kind == T_WORD && t[j].len == 1 &&
            t[j].p[0] >= 'a' && t[j].p[0] <= 'z' && !gc_is_street_type(t[j].p, 1) &&
            !((t[j].p[0] == 'l' || t[j].p[0] == 'd') && !gc_is_street_type(t[j + 1].p, (size_t)t[j + 1].len))) {
            sfx[3] = t[j].p[0];
            sfx[4] = 0;
            t[j].kind = T_SFX;
            j++;
        }
        /* "36/38", "12-14": the second number of a range */
        if (j + 1 < end && t[j].kind == T_WORD && is_digits(t[j].p, t[j].len) && t[j].len <= 5) {
            char b2[8];
            memcpy(b2, t[j].p, (size_t)t[j].len);
            b2[t[j].len] = 0;
            int64_t v2 = strtoll(b2, NULL, 10);
            if (v2 > num && v2 - num <= 30) t[j].kind = T_DROP;
        }
    }
    /* 4. postcode and city */
    const char *pc = q->postcode;
    size_t pcl = q->postcodelen;
    while (pcl && (*pc == ' ')) { pc++; pcl--; }
    while (pcl && pc[pcl - 1] == ' ') pcl--;
    char pcbuf[6];
    /* a leading zero lost by a spreadsheet */
    if (pcl == 4 && is_digits(pc, 4)) { pcbuf[0] = '0'; memcpy(pcbuf + 1, pc, 4); pcbuf[5] = 0; pc = pcbuf; pcl = 5; }
    if (!pcl && pci >= 0) { pc = t[pci].p; pcl = 5; }
    char cn[256];
    size_t cnl = 0;
    /* a name read as the commune's that may be a former commune's
     * (commune déléguée): it chooses among homonym streets */
    char oldn[256] = "";
    if (q->city && q->citylen) cnl = gf_gc_normalize(q->city, q->citylen, cn, sizeof cn);
    else if (city_from >= 0) cnl = norm_toks(t, city_from, nt, cn, sizeof cn);
    ccand cs[MAXCAND];
    int ncs = 0;
    if (cnl || pcl || (q->citycode && q->citycodelen)) ncs = resolve_communes(ix, q, pc, pcl, cn, cnl, cs);
    /* a postcode the index does not know (a CEDEX code, a typo): the city
     * written after it names the commune ("35043 Rennes Cedex") */
    if (!ncs && pci >= 0 && city_from >= 0 && !cnl && !(q->postcode && q->postcodelen)) {
        cnl = norm_kind(t, city_from, nt, T_CITY, cn, sizeof cn);
        if (cnl) ncs = resolve_communes(ix, q, pc, pcl, cn, cnl, cs);
    }
    /* no city given apart from the text: its last words may name it */
    int street_end = end;
    if (!cnl && !(q->citycode && q->citycodelen && ncs)) {
        int words[MAXTOK], nw = 0;
        for (int i = 0; i < end; i++) if (t[i].kind == T_WORD) words[nw++] = i;
        /* k = nw: the whole text is a commune's name ("Bruz"): the commune */
        for (int k = nw < 6 ? nw : 6; k >= 1; k--) {
            char cand[256];
            size_t cl = norm_toks(t, words[nw - k], end, cand, sizeof cand);
            if (!cl) continue;
            uint32_t c = gc_find_cname(ix, cand, cl);
            /* the commune's name, or another name of it */
            uint32_t named[MAXCAND];
            int nnamed = 0;
            for (uint32_t x = c; x != GC_NONE && nnamed < MAXCAND; x = ix->communes[x].next_name) named[nnamed++] = x;
            double aconf = 1.0, hconf = 0.9; /* hconf: one of several homonyms */
            if (!nnamed && (nnamed = plm_communes(ix, cand, cl, named, MAXCAND))) hconf = 1.0; /* arrondissements */
            if (!nnamed) {
                nnamed = gc_find_alias(ix, cand, cl, named, MAXCAND);
                aconf = 0.98;
                /* a lieu-dit's name (the index lists them as other names of
                 * their commune) reads as the commune only when nothing else
                 * names one: after a postcode's commune, the street may end
                 * with it ("Chemin de la Bobinais"), which the tail step
                 * below sorts out */
                if (ncs) nnamed = drop_places(ix, cand, cl, named, nnamed);
            }
            if (!nnamed) continue;
            /* nothing else names a commune: a lieu-dit or former commune of
             * that name too, behind (see resolve_communes) */
            uint32_t also[MAXCAND];
            int nalso = !ncs && aconf == 1.0 ? gc_find_alias(ix, cand, cl, also, MAXCAND) : 0;
            ccand tmp[MAXCAND];
            int nn = 0;
            if (ncs) {
                for (int i = 0; i < ncs; i++)
                    for (int x = 0; x < nnamed; x++)
                        if (cs[i].c == named[x]) nn = add_cand(tmp, nn, named[x], aconf);
                if (!nn) continue;
            } else {
                for (int x = 0; x < nnamed; x++) nn = add_cand(tmp, nn, named[x], nnamed > 1 ? hconf : aconf);
                for (int x = 0; x < nalso; x++) nn = add_cand(tmp, nn, also[x], 0.85);
            }
            memcpy(cs, tmp, sizeof(ccand) * (size_t)nn);
            ncs = nn;
            memcpy(oldn, cand, cl + 1);
            /* the whole text is a lieu-dit's name ("La Bobinais"): the place
             * itself, looked for in its communes */
            uint32_t pl[MAXCAND];
            memcpy(pl, named, sizeof(uint32_t) * (size_t)nnamed);
            if (k == nw && aconf < 1.0 && drop_places(ix, cand, cl, pl, nnamed) < nnamed) break;
            for (int i = words[nw - k]; i < end; i++) if (t[i].kind == T_WORD) t[i].kind = T_CITY;
            street_end = words[nw - k];
            break;
        }
    }
    /* "rue du Port 8", "rue du Port 8 bis": the number after the street's
     * words, when the street has no name ending with them ("Rue du 8 Mai
     * 1945", "Route Nationale 7" keep theirs) */
    if (num < 0 && ncs) {
        int last = street_end - 1;
        while (last >= 0 && t[last].kind != T_WORD) last--;
        int ni = last, si = -1;
        char s3[16] = "";
        if (last >= 1 && !(t[last].p[0] >= '0' && t[last].p[0] <= '9') && t[last].len <= 9 &&
            !gc_is_street_type(t[last].p, (size_t)t[last].len) && gc_suffix_norm(t[last].p, (size_t)t[last].len, s3) &&
            t[last - 1].kind == T_WORD && t[last - 1].p[0] >= '0' && t[last - 1].p[0] <= '9') {
            si = last;
            ni = last - 1;
        }
        int before = 0;
        for (int i = 0; i < ni; i++) before += t[i].kind == T_WORD;
        int64_t v;
        char s2[16];
        if (ni >= 0 && before >= 2 && t[ni].p[0] >= '0' && t[ni].p[0] <= '9' && t[ni].len <= 12 &&
            parse_number(&t[ni], &v, s2)) {
            char whole[512];
            size_t wl = norm_toks(t, 0, street_end, whole, sizeof whole);
            int named = 0;
            for (int i = 0; i < ncs && !named; i++) named = gc_find_street(ix, cs[i].c, whole, wl) != GC_NONE;
            if (!named) {
                num = v;
                snprintf(sfx, sizeof sfx, "%s", s2[0] ? s2 : si >= 0 ? s3 : "");
                t[ni].kind = T_NUM;
                if (si >= 0) t[si].kind = T_SFX;
            }
        }
    }
    /* nothing names a commune, but the row has a position: the communes
     * around it (the street is then looked for in each, nearest first) */
    if (ncs == 0 && q->has_bias && !cnl && !pcl && !(q->citycode && q->citycodelen)) ncs = near_communes(ix, q, cs);
    /* autocomplete: the last word, when it is the street's, may be unfinished */
    int pfx = q->prefix && nt > 0 && street_end == nt && t[nt - 1].kind == T_WORD && q->qlen > 0 &&
              q->q[q->qlen - 1] != ' ' && !(t[nt - 1].p[0] >= '0' && t[nt - 1].p[0] <= '9');
    /* no commune named nor asked for (no city, postcode or citycode, in the
     * text or apart: one that is given but unknown is not looked past):
     * the streets of that whole name anywhere, as the national service
     * answers "rue des acacias" */
    int glob = !pfx && ncs == 0 && !cnl && !pcl && !(q->citycode && q->citycodelen) && street_end > 0;
    if (ncs == 0 && !pfx && !glob) return GF_OK; /* not found */
    /* 5. street */
    if (q->type == GF_GC_STREET || q->type == GF_GC_LOCALITY) num = -1;
    sq_t sq;
    street_query(t, street_end, &sq);
    if (ncs == 0 && (sq.sl == 0 || q->type == GF_GC_MUNICIPALITY)) return GF_OK;
    if (sq.sl == 0 || q->type == GF_GC_MUNICIPALITY) {
        /* the commune itself */
        uint32_t c = cs[0].c;
        for (int i = 1; i < ncs; i++) if (cs[i].conf > cs[0].conf) c = cs[i].c;
        if (whole_city(ix, cs, ncs, r)) {
            r->score = 0.9 * cs[0].conf;
            return GF_OK;
        }
        if (ix->communes[c].lon == INT32_MIN) return GF_OK;
        r->type = GF_GC_MUNICIPALITY;
        fill_commune(ix, c, r);
        set_pos(r, ix->communes[c].lon, ix->communes[c].lat);
        r->name = r->city;
        r->score = 0.9 * cs[0].conf;
        r->score_next = ncs > 1 ? 0.9 * cs[1].conf : 0;
        return GF_OK;
    }
    scand L[NSC];
    int nl = 0;
    if (!gather(ix, scr, cs, ncs, &sq, num, max, L, &nl)) {
        /* no exact name: the last words may name a lieu-dit, a former
         * commune or the commune itself after the street ("12 Chemin du
         * Paradis le Paradis", "3 Rue X Pont-Rean"): the street without them,
         * when it reads better than the whole */
        int words[MAXTOK], nw = 0;
        for (int i = 0; i < street_end; i++) if (t[i].kind == T_WORD) words[nw++] = i;
        for (int k = nw - 1 < 5 ? nw - 1 : 5; k >= 1; k--) {
            char tail[256];
            size_t tl = norm_toks(t, words[nw - k], street_end, tail, sizeof tail);
            if (!tl || !names_around(ix, cs, ncs, tail, tl)) continue;
            sq_t hq;
            street_query(t, words[nw - k], &hq);
            if (hq.stl == 0 || hq.St == hq.S + hq.sl) break; /* nothing but a street type before it */
            scand L2[NSC];
            int nl2 = 0;
            gather(ix, scr, cs, ncs, &hq, num, max, L2, &nl2);
            if (nl2 && (!nl || L2[0].v > L[0].v)) {
                memcpy(L, L2, sizeof(scand) * (size_t)nl2);
                nl = nl2;
                memcpy(oldn, tail, tl + 1);
            }
            break;
        }
    }
    /* with no commune named, the same name in several communes ranks the
     * larger commune's first, as the national service ranks them by
     * importance (the score stays the text's; score_next, equal, says
     * another is as good) */
    if (pfx || glob) prefix_cands(ix, t, pfx ? nt : street_end, cs, ncs, glob, L, &nl);
    /* a street or locality filter keeps those kinds only */
    if (q->type == GF_GC_STREET || q->type == GF_GC_LOCALITY) {
        int k = 0;
        for (int i = 0; i < nl; i++)
            if ((ix->streets[L[i].s].kind ? GF_GC_LOCALITY : GF_GC_STREET) == q->type) L[k++] = L[i];
        nl = k;
    }
    if (!oldn[0] && cnl) memcpy(oldn, cn, cnl + 1);
    if (oldn[0]) prefer_oldcity(ix, oldn, L, nl);
    /* a position given with the query ranks equally close names by
     * distance (the score stays the text's) */
    if (q->has_bias && nl > 1) {
        double key[NSC];
        for (int i = 0; i < nl; i++) key[i] = L[i].v * (0.9 + 0.1 * proximity(q, ix->streets[L[i].s].lon, ix->streets[L[i].s].lat));
        for (int i = 1; i < nl; i++)
            for (int j = i; j > 0 && key[j] > key[j - 1]; j--) {
                scand sw = L[j]; L[j] = L[j - 1]; L[j - 1] = sw;
                double tk = key[j]; key[j] = key[j - 1]; key[j - 1] = tk;
            }
    }
    scand best = nl ? L[0] : (scand){GC_NONE, 0, 0};
    scand next = nl > 1 ? L[1] : (scand){GC_NONE, 0, 0};
    if (num >= 0 && best.s != GC_NONE && !has_number(ix, best.s, num)) {
        for (int k = 1; k < nl; k++)
            if (L[k].sim >= 0.6 && L[k].v >= best.v - 0.2 && has_number(ix, L[k].s, num)) {
                next = best;
                best = L[k];
                break;
            }
    } else if (num >= 0 && best.s != GC_NONE && ix->streets[best.s].kind == GC_K_LIEUDIT &&
               !has_address(ix, best.s, num, sfx)) {
        /* a lieu-dit is a second name: a close street that has the very
         * address asked for ("2 Haye de Pan": the Rue de la Haye de Pan's 2,
         * not the 2 bis of another street in the lieu-dit) */
        for (int k = 1; k < nl; k++)
            if (L[k].sim >= 0.6 && L[k].v >= best.v - 0.2 && has_address(ix, L[k].s, num, sfx)) {
                next = best;
                best = L[k];
                break;
            }
    }
    /* Ambiguous answers (issue 15, item 3): a lieu-dit named like a street
     * of its commune ("12 La Fontaine": the lieu-dit's 12, and the 12 of
     * the Rue de la Fontaine) answers the street's; two entries of the very
     * same name in one commune that both have what was asked (the Rue de
     * l'Église of two communes déléguées, a street and a lieu-dit "Le
     * Bourg") answer the first. Either is a guess: the score drops below the
     * confident range and score_next says another answer is as good. A
     * position given with the query chose already. (Two homonym communes
     * keep their score: score_next, equal, says it; cli.geocode's twins.) */
    int ambiguous = 0;
    if (num >= 0 && best.s != GC_NONE && ix->streets[best.s].kind == GC_K_LIEUDIT && has_address(ix, best.s, num, sfx)) {
        for (int k = 0; k < nl; k++)
            if (L[k].s != best.s && ix->streets[L[k].s].kind == GC_K_STREET && L[k].sim >= 0.8 && L[k].v >= best.v - 0.2 &&
                ix->streets[L[k].s].commune == ix->streets[best.s].commune && has_address(ix, L[k].s, num, sfx) &&
                !ld_on_street(ix, best.s, num, sfx, L[k].s)) {
                next = best;
                best = L[k];
                ambiguous = 1;
                break;
            }
    }
    if (!ambiguous && !q->has_bias && !pfx && best.s != GC_NONE && next.s != GC_NONE && best.sim >= 1.0 &&
        next.sim >= 1.0 && next.v >= best.v - 1e-9 && ix->streets[next.s].commune == ix->streets[best.s].commune &&
        (num < 0 || has_address(ix, next.s, num, sfx) ||
                                                       (!has_address(ix, best.s, num, sfx) && has_number(ix, next.s, num))))
        ambiguous = 1;
    double bestconf = best.s != GC_NONE && best.sim > 0 ? best.v / best.sim : 0;
    if ((best.s == GC_NONE || best.sim < 0.5) && ncs == 0) return GF_OK;
    if (best.s == GC_NONE || best.sim < 0.5) {
        /* no street: fall back to the commune, with a low score */
        uint32_t c = cs[0].c;
        if (whole_city(ix, cs, ncs, r)) {
            r->score = 0.3 * cs[0].conf;
            return GF_OK;
        }
        if (ix->communes[c].lon == INT32_MIN) return GF_OK;
        r->type = GF_GC_MUNICIPALITY;
        fill_commune(ix, c, r);
        set_pos(r, ix->communes[c].lon, ix->communes[c].lat);
        r->name = r->city;
        r->score = 0.3 * cs[0].conf;
        return GF_OK;
    }
    double score = best.sim * bestconf;
    /* a fuzzy match with a close runner-up is a guess */
    if (best.sim < 1.0 && next.s != GC_NONE && next.v >= score - 0.05) score *= 0.9;
    double f = street_result(ix, scr, best.s, num, sfx, r);
    r->score = score * f;
    r->score_next = next.s != GC_NONE ? next.v : 0;
    if (ambiguous) {
        r->score *= 0.75;
        r->score_next = r->score;
    }
    if (r->score > 1) r->score = 1;
    if (r->score_next > 1) r->score_next = 1;
    if (!type_ok(q, r->type)) gf_gc_result_clear(r);
    /* the runners-up, for a list of answers */
    for (int k = 0; k < nl && *nalt + 1 < max; k++) {
        if (L[k].s == best.s || L[k].sim < 0.5) continue;
        gf_gc_result *a = &res[*nalt + 1];
        scr->slot = *nalt + 1;
        gf_gc_result_clear(a);
        double fa = street_result(ix, scr, L[k].s, num, sfx, a);
        a->score = L[k].v * fa;
        if (a->score > 1) a->score = 1;
        if (!type_ok(q, a->type)) continue;
        (*nalt)++;
    }
    return GF_OK;
}

gf_status gf_gc_search(const gf_gc_index *ix, gf_gc_scratch *scr, const gf_gc_query *q, gf_gc_result *res, int max,
                       int *n)
{
    if (!ix || !scr || !q || !res || !n || max < 1) return GF_ERR_ARG;
    if (max > GF_GC_MAX_RESULTS) max = GF_GC_MAX_RESULTS;
    int nalt = 0;
    gf_status st = search(ix, scr, q, res, max, &nalt);
    *n = 0;
    if (st) return st;
    if (res[0].type != GF_GC_NONE && !type_ok(q, res[0].type)) gf_gc_result_clear(&res[0]);
    if (res[0].type == GF_GC_NONE) {
        /* filtered out: the runners-up move up */
        for (int i = 0; i < nalt; i++) res[i] = res[i + 1];
        *n = nalt;
    } else {
        *n = 1 + nalt;
    }
    return GF_OK;
}

gf_status gf_gc_geocode(const gf_gc_index *ix, gf_gc_scratch *scr, const gf_gc_query *q, gf_gc_result *r)
{
    if (!ix || !scr || !q || !r) return GF_ERR_ARG;
    int n = 0;
    gf_status st = gf_gc_search(ix, scr, q, r, 1, &n);
    if (st == GF_OK && n == 0) gf_gc_result_clear(r);
    return st;
}

/* ---- reverse ---- */
/* What a grid item stands for under a type filter: the item itself (no
 * filter, housenumber), its street or place (street, locality) or its
 * commune (municipality); GC_NONE when the filter rules it out. */
static uint32_t rev_key(const gf_gc_index *ix, uint32_t it, gf_gc_type type)
{
    uint32_t s = it < ix->naddrs ? ix->addrs[it].street : it - ix->naddrs;
    int place = ix->streets[s].kind != GC_K_STREET;
    switch (type) {
    case GF_GC_HOUSENUMBER: return it < ix->naddrs ? it : GC_NONE;
    case GF_GC_STREET: return place ? GC_NONE : s;
    case GF_GC_LOCALITY: return place ? s : GC_NONE;
    case GF_GC_MUNICIPALITY: return ix->streets[s].commune;
    default: return it;
    }
}

typedef struct rev_hit {
    uint32_t key, item;
    double d;
} rev_hit;

static int rev_before(double d1, uint32_t k1, double d2, uint32_t k2) { return d1 < d2 || (d1 == d2 && k1 < k2); }

/* Keeps the max nearest entities in top[0..*n), by distance then key (so
 * that ties come out the same on every run): an entity already there keeps
 * its nearest item. */
static void rev_add(rev_hit *top, int *n, int max, uint32_t key, uint32_t item, double d)
{
    int i = 0;
    while (i < *n && top[i].key != key) i++;
    if (i < *n) {
        if (!rev_before(d, item, top[i].d, top[i].item)) return;
        memmove(&top[i], &top[i + 1], sizeof *top * (size_t)(*n - i - 1));
        (*n)--;
    } else if (*n == max && !rev_before(d, key, top[max - 1].d, top[max - 1].key)) return;
    else if (*n == max) (*n)--;
    int j = *n;
    while (j > 0 && rev_before(d, key, top[j - 1].d, top[j - 1].key)) { top[j] = top[j - 1]; j--; }
    top[j] = (rev_hit){key, item, d};
    (*n)++;
}

static void rev_fill(const gf_gc_index *ix, gf_gc_scratch *scr, const rev_hit *h, gf_gc_type type, gf_gc_result *r)
{
    uint32_t it = h->item;
    int32_t ilo, ila;
    if (it < ix->naddrs) { ilo = ix->addrs[it].lon; ila = ix->addrs[it].lat; }
    else { ilo = ix->streets[it - ix->naddrs].lon; ila = ix->streets[it - ix->naddrs].lat; }
    r->distance = h->d;
    r->score = 1.0;
    if (type == GF_GC_MUNICIPALITY) {
        const gc_commune *cm = &ix->communes[h->key];
        fill_commune(ix, h->key, r);
        r->type = GF_GC_MUNICIPALITY;
        if (cm->lon != INT32_MIN) set_pos(r, cm->lon, cm->lat);
        else set_pos(r, ilo, ila);
        r->name = r->city;
    } else if (it < ix->naddrs && type != GF_GC_STREET && type != GF_GC_LOCALITY) {
        const gc_addr *a = &ix->addrs[it];
        fill_street(ix, a->street, r);
        fill_address(ix, scr, a, r);
    } else {
        uint32_t s = it < ix->naddrs ? ix->addrs[it].street : it - ix->naddrs;
        fill_street(ix, s, r);
        r->type = ix->streets[s].kind ? GF_GC_LOCALITY : GF_GC_STREET;
        if (ix->streets[s].lon != INT32_MIN) set_pos(r, ix->streets[s].lon, ix->streets[s].lat);
        else set_pos(r, ilo, ila);
        r->name = r->street;
        street_id(ix, scr, s, r);
    }
}

gf_status gf_gc_reverse_n(const gf_gc_index *ix, gf_gc_scratch *scr, double lon, double lat, double max_m,
                          gf_gc_type type, gf_gc_result *res, int max, int *n)
{
    if (!ix || !scr || !res || !n || max < 1) return GF_ERR_ARG;
    if (max > GF_GC_MAX_RESULTS) max = GF_GC_MAX_RESULTS;
    *n = 0;
    scr->slot = 0;
    if (!isfinite(lon) || !isfinite(lat) || ix->ngrid_items == 0) return GF_OK;
    long nx = (long)ix->g_nx, ny = (long)ix->g_ny;
    /* The query's cell, clamped to one cell outside the grid: a point far
     * away (or a cell size near 0) would give a cell number beyond `long`
     * (undefined conversion) and ring bounds that overflow. Clamping keeps
     * the ring a lower bound of the distance: every item is in the grid,
     * so moving the point towards it along an axis never makes the
     * per-axis gap larger. */
    double fx = floor((lon - ix->g_lon0) / ix->g_cell), fy = floor((lat - ix->g_lat0) / ix->g_cell);
    if (isnan(fx) || isnan(fy) || nx <= 0 || ny <= 0) return GF_OK;
    if (fx < -1) fx = -1;
    if (fx > (double)nx) fx = (double)nx;
    if (fy < -1) fy = -1;
    if (fy > (double)ny) fy = (double)ny;
    long cx = (long)fx, cy = (long)fy;
    /* a lower bound of a cell's size in metres, over the grid's latitudes */
    double maxlat = fabs(ix->g_lat0) > fabs(ix->g_lat0 + ny * ix->g_cell) ? fabs(ix->g_lat0) : fabs(ix->g_lat0 + ny * ix->g_cell);
    if (fabs(lat) > maxlat) maxlat = fabs(lat);
    if (maxlat > 89) maxlat = 89;
    double cell_m = ix->g_cell * 111000.0 * cos(maxlat * M_PI / 180.0);
    long r0 = 0;
    if (cx < 0) r0 = -cx; else if (cx >= nx) r0 = cx - nx + 1;
    long ry = cy < 0 ? -cy : cy >= ny ? cy - ny + 1 : 0;
    if (ry > r0) r0 = ry;
    rev_hit top[GF_GC_MAX_RESULTS];
    int nt = 0;
    const double kx = 111320.0 * cos(lat * M_PI / 180.0);
    for (long ring = r0;; ring++) {
        /* the max-th nearest so far: nothing farther can enter the list */
        double worst = nt == max ? top[max - 1].d : HUGE_VAL;
        /* an item in a cell `ring` cells away is at least (ring - 1) cells away */
        if (ring >= 1 && (double)(ring - 1) * cell_m > worst) break;
        if (max_m > 0 && ring >= 1 && (double)(ring - 1) * cell_m > max_m) break;
        long y0 = cy - ring, y1 = cy + ring, x0 = cx - ring, x1 = cx + ring;
        for (long y = y0 < 0 ? 0 : y0; y <= y1 && y < ny; y++) {
            int full = (y == y0 || y == y1);
            /* inside the ring, a row has two cells: jump from one to the other
             * (a ring costs its perimeter, not its area) */
            for (long x = x0 < 0 ? 0 : x0; x <= x1 && x < nx; x = full || x >= x1 ? x + 1 : x1) {
                if (!full && x != x0 && x != x1) continue;
                size_t cell = (size_t)y * (size_t)nx + (size_t)x;
                for (uint32_t k = ix->grid_start[cell]; k < ix->grid_start[cell + 1]; k++) {
                    uint32_t it = ix->grid_items[k];
                    uint32_t key = rev_key(ix, it, type);
                    if (key == GC_NONE) continue;
                    int32_t ilo, ila;
                    if (it < ix->naddrs) { ilo = ix->addrs[it].lon; ila = ix->addrs[it].lat; }
                    else { ilo = ix->streets[it - ix->naddrs].lon; ila = ix->streets[it - ix->naddrs].lat; }
                    /* cheap planar distance first: only items that may enter
                     * the list (5 % margin, far above the planar error over
                     * France) pay for the great-circle formula */
                    worst = nt == max ? top[max - 1].d : HUGE_VAL;
                    double dx = (ilo / GC_E7 - lon) * kx, dy = (ila / GC_E7 - lat) * 110574.0;
                    double dap = sqrt(dx * dx + dy * dy);
                    if (dap > worst * 1.05 + 1.0) continue;
                    double d = gf_gc_distance(lon, lat, ilo / GC_E7, ila / GC_E7);
                    if (max_m > 0 && d > max_m) continue;
                    rev_add(top, &nt, max, key, it, d);
                }
            }
        }
        if (x0 <= 0 && y0 <= 0 && x1 >= nx - 1 && y1 >= ny - 1) break; /* the whole grid is seen */
    }
    for (int i = 0; i < nt; i++) {
        gf_gc_result_clear(&res[i]);
        scr->slot = i;
        rev_fill(ix, scr, &top[i], type, &res[i]);
    }
    *n = nt;
    return GF_OK;
}

gf_status gf_gc_reverse(const gf_gc_index *ix, gf_gc_scratch *scr, double lon, double lat, double max_m, gf_gc_result *r)
{
    if (!ix || !scr || !r) return GF_ERR_ARG;
    int n = 0;
    gf_status st = gf_gc_reverse_n(ix, scr, lon, lat, max_m, GF_GC_NONE, r, 1, &n);
    if (st || n == 0) gf_gc_result_clear(r);
    return st;
}
