/* Prefix search of street names, for autocompletion (/completion, and
 * /search?autocomplete=1): "8 bd louis pa" finds the Boulevard Louis Pasteur
 * while the last word is still being typed; and for a whole name looked for
 * in the whole index when a query names no commune.
 *
 * Three arrays of street numbers sorted by name, so that a prefix is one
 * binary search and a scan of a contiguous range: by the whole normalised
 * name ("boulevard louis pasteur": a query that starts with a street type),
 * by the name after its street type ("louis pasteur": a query without one),
 * and by commune then the name after its type (a query whose commune is
 * known). They are not in the index file (its format stays as it is, and
 * a run whose queries all name their commune never pays for them): they are
 * built from the index on the first such query, 12 bytes a street, and
 * shared by every thread from
 * then on (published with a compare-and-swap: a thread that loses the race
 * frees its copy).
 *
 * The scan of a range stops after the caller's bound (GC_PREFIX_SCAN
 * streets for autocompletion): a prefix of one or two letters ("rue a")
 * matches thousands of streets in a large index, and only the first
 * GC_PREFIX_SCAN in alphabetical order are candidates. A request's cost is
 * thus bounded whatever the prefix (a binary search and at most that many
 * comparisons per candidate commune); the answer to a very short prefix
 * improves as letters are typed, as a search box's do. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "geocode/gc.h"

struct gc_prefix {
    uint32_t n;
    uint32_t *full;    /* by whole normalised name, then street number */
    uint32_t *untyped; /* by the name after its street type, then street number */
    uint32_t *bycomm;  /* by commune, name after its street type, street number */
};

void gc_prefix_free(gc_prefix *p)
{
    if (!p) return;
    free(p->full);
    free(p->untyped);
    free(p->bycomm);
    free(p);
}

typedef struct pkey {
    const char *k;
    uint32_t c, s;
} pkey;

static int cmp_name(const void *a, const void *b)
{
    const pkey *x = a, *y = b;
    int r = strcmp(x->k, y->k);
    return r ? r : (x->s > y->s) - (x->s < y->s);
}

static int cmp_comm(const void *a, const void *b)
{
    const pkey *x = a, *y = b;
    if (x->c != y->c) return x->c < y->c ? -1 : 1;
    return cmp_name(a, b);
}

static const char *untyped(const gf_gc_index *ix, const gc_street *sp)
{
    const char *n = gc_str(ix, sp->nname);
    return sp->tstart <= sp->nlen ? n + sp->tstart : n;
}

static gc_prefix *build(const gf_gc_index *ix)
{
    gc_prefix *p = calloc(1, sizeof *p);
    uint32_t n = 0;
    for (uint32_t s = 0; s < ix->nstreets; s++) n += ix->streets[s].lon != INT32_MIN;
    pkey *k = malloc(((size_t)n + 1) * sizeof *k);
    if (p) {
        p->full = malloc(((size_t)n + 1) * sizeof *p->full);
        p->untyped = malloc(((size_t)n + 1) * sizeof *p->untyped);
        p->bycomm = malloc(((size_t)n + 1) * sizeof *p->bycomm);
    }
    if (!p || !k || !p->full || !p->untyped || !p->bycomm) {
        free(k);
        gc_prefix_free(p);
        return NULL;
    }
    p->n = n;
    /* streets without a position are never answers (gather() skips them too) */
    uint32_t m = 0;
    for (uint32_t s = 0; s < ix->nstreets; s++)
        if (ix->streets[s].lon != INT32_MIN) k[m++] = (pkey){gc_str(ix, ix->streets[s].nname), ix->streets[s].commune, s};
    qsort(k, n, sizeof *k, cmp_name);
    for (uint32_t i = 0; i < n; i++) p->full[i] = k[i].s;
    for (uint32_t i = 0; i < n; i++) k[i].k = untyped(ix, &ix->streets[k[i].s]);
    qsort(k, n, sizeof *k, cmp_name);
    for (uint32_t i = 0; i < n; i++) p->untyped[i] = k[i].s;
    qsort(k, n, sizeof *k, cmp_comm);
    for (uint32_t i = 0; i < n; i++) p->bycomm[i] = k[i].s;
    free(k);
    return p;
}

static const gc_prefix *get(gf_gc_index *ix)
{
    gc_prefix *p = atomic_load_explicit(&ix->prefix, memory_order_acquire);
    if (p) return p;
    gc_prefix *mine = build(ix), *none = NULL;
    if (!mine) return NULL;
    if (atomic_compare_exchange_strong_explicit(&ix->prefix, &none, mine, memory_order_acq_rel, memory_order_acquire))
        return mine;
    gc_prefix_free(mine);
    return none; /* another thread's, published first */
}

/* <0, 0, >0 as street s's sort key is before, starts with, or is after the
 * prefix (c, p[0..pl)); c GC_NONE: no commune in the key. */
static int key_cmp(const gf_gc_index *ix, uint32_t s, int typed, uint32_t c, const char *p, size_t pl)
{
    const gc_street *sp = &ix->streets[s];
    if (c != GC_NONE && sp->commune != c) return sp->commune < c ? -1 : 1;
    return strncmp(typed ? gc_str(ix, sp->nname) : untyped(ix, sp), p, pl);
}

int gc_prefix_streets(const gf_gc_index *cix, uint32_t commune, const char *type, size_t typel, const char *p,
                      size_t pl, uint32_t *out, int max)
{
    if (pl == 0 || max <= 0) return 0;
    /* the lazily built tables are the one thing written in an index after
     * it is frozen: through an atomic pointer, once */
    gf_gc_index *ix = (gf_gc_index *)cix;
    const gc_prefix *t = get(ix);
    if (!t) return -1;
    /* the key looked for: "type p" in the whole names, else p in the names
     * after their type (and the type checked on each) */
    char buf[512];
    int global_typed = commune == GC_NONE && typel > 0;
    const char *key = p;
    size_t kl = pl;
    if (global_typed) {
        if (typel + 1 + pl >= sizeof buf) return 0;
        memcpy(buf, type, typel);
        buf[typel] = ' ';
        memcpy(buf + typel + 1, p, pl);
        kl = typel + 1 + pl;
        key = buf;
    }
    const uint32_t *a = commune != GC_NONE ? t->bycomm : global_typed ? t->full : t->untyped;
    uint32_t lo = 0, hi = t->n;
    while (lo < hi) {
        uint32_t m = lo + (hi - lo) / 2;
        if (key_cmp(ix, a[m], global_typed, commune, key, kl) < 0) lo = m + 1;
        else hi = m;
    }
    int n = 0;
    for (uint32_t i = lo, scanned = 0; i < t->n && scanned < (uint32_t)max; i++, scanned++) {
        uint32_t s = a[i];
        if (key_cmp(ix, s, global_typed, commune, key, kl) != 0) break;
        const gc_street *sp = &ix->streets[s];
        if (!global_typed && typel) {
            /* within a commune: the street type asked for, or none at all */
            if (sp->tstart != typel + 1 || memcmp(gc_str(ix, sp->nname), type, typel) != 0) continue;
        } /* a query without a street type: any type */
        out[n++] = s;
    }
    return n;
}
