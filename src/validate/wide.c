/* File-wide checks of the reference validator, streaming (see wide.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "validate/wide.h"

#define CONFLICT 0x80000000u

static size_t slot(uint64_t key, size_t cap) { return (size_t)(key * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1); }

/* Takes bytes more for w from its budget (the shared one when it has
 * one): 1, or 0 when that would pass the budget. */
static int take(gf_vwide *w, size_t bytes)
{
    if (w->pool) {
        size_t limit = w->pool->limit ? w->pool->limit : GF_VWIDE_BUDGET;
        size_t before = atomic_fetch_add(&w->pool->used, bytes);
        if (before + bytes > limit) {
            atomic_fetch_sub(&w->pool->used, bytes);
            return 0;
        }
    } else if (w->used + bytes > (w->budget ? w->budget : GF_VWIDE_BUDGET)) {
        return 0;
    }
    w->used += bytes;
    return 1;
}

/* Gives back what take() gave when the allocation it was for failed. */
static void give(gf_vwide *w, size_t bytes)
{
    if (w->pool) atomic_fetch_sub(&w->pool->used, bytes);
    w->used -= bytes;
}

/* A table of cap zeroed entries. One probe per row lands anywhere in it:
 * past a few MB the time goes to TLB misses, so big tables ask for huge
 * pages (mmap's pages are zero already). */
#define HUGE_TABLE ((size_t)4 << 20)
static gf_vent *table_alloc(size_t cap)
{
    size_t bytes = cap * sizeof(gf_vent);
    if (bytes < HUGE_TABLE) return calloc(cap, sizeof(gf_vent));
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

static void table_free(gf_vent *e, size_t cap)
{
    if (!e) return;
    if (cap * sizeof(gf_vent) < HUGE_TABLE) free(e);
    else munmap(e, cap * sizeof(gf_vent));
}

/* 1: grown; 0: out of memory; -1: over the budget */
static int grow(gf_vmap *m)
{
    size_t nc = m->cap ? m->cap * 2 : 1024;
    gf_vwide *w = m->owner;
    if (w && !take(w, (nc - m->cap) * sizeof(gf_vent))) return -1;
    gf_vent *ne = table_alloc(nc);
    if (!ne) {
        if (w) give(w, (nc - m->cap) * sizeof(gf_vent));
        return 0;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->e[i].key) continue;
        size_t j = slot(m->e[i].key, nc);
        while (ne[j].key) j = (j + 1) & (nc - 1);
        ne[j] = m->e[i];
    }
    table_free(m->e, m->cap);
    m->e = ne;
    m->cap = nc;
    return 1;
}

/* Adds count rows with (key, val) whose first line is first. */
static int put(gf_vmap *m, uint64_t key, uint64_t val, uint32_t first, uint32_t count)
{
    if ((m->n + 1) * 4 > m->cap * 3) {
        int g = grow(m);
        if (g == 0) return 0;
        if (g < 0) {
            /* over budget: update an existing group, drop a new one */
            m->owner->truncated = 1;
            if (!m->cap) return 1;
            size_t j = slot(key, m->cap);
            while (m->e[j].key && m->e[j].key != key) j = (j + 1) & (m->cap - 1);
            if (!m->e[j].key) return 1;
        }
    }
    size_t j = slot(key, m->cap);
    while (m->e[j].key && m->e[j].key != key) j = (j + 1) & (m->cap - 1);
    gf_vent *e = &m->e[j];
    if (!e->key) {
        *e = (gf_vent){key, val, count, first};
        m->n++;
        return 1;
    }
    uint32_t c = (e->count | count) & CONFLICT;
    if (e->val != val) c = CONFLICT;
    e->count = (((e->count & ~CONFLICT) + (count & ~CONFLICT)) & ~CONFLICT) | c;
    if (first < e->first) e->first = first;
    return 1;
}

/* A front's group or lieu-dit for its shared table: 0 when out of memory. */
static int pend(gf_vwide *w, uint32_t map, gf_vent e)
{
    if (w->npend == w->cappend) {
        size_t nc = w->cappend ? w->cappend * 2 : 1024;
        gf_vpend *np = realloc(w->pend, nc * sizeof *np);
        if (!np) return 0;
        w->pend = np;
        w->cappend = nc;
    }
    w->pend[w->npend++] = (gf_vpend){e, map};
    return 1;
}

static int flush(gf_vmap *m)
{
    if (!m->run.key) return 1;
    int ok = m->owner && m->owner->shared ? pend(m->owner, (uint32_t)m->idx, m->run)
                                          : put(m, m->run.key, m->run.val, m->run.first, m->run.count);
    m->run.key = 0;
    return ok;
}

/* 1: added; 0: out of memory (or over the budget: truncated is set) */
static int lieudit_add(gf_vwide *w, uint64_t hash, uint64_t line)
{
    if (w->nlieudit + 2 > w->caplieudit) {
        size_t nc = w->caplieudit ? w->caplieudit * 2 : 1024;
        if (!take(w, (nc - w->caplieudit) * sizeof(uint64_t))) {
            w->truncated = 1;
            return 1;
        }
        uint64_t *nl = realloc(w->lieudit, nc * sizeof *nl);
        if (!nl) {
            give(w, (nc - w->caplieudit) * sizeof(uint64_t));
            return 0;
        }
        w->lieudit = nl;
        w->caplieudit = nc;
    }
    w->lieudit[w->nlieudit++] = hash;
    w->lieudit[w->nlieudit++] = line;
    return 1;
}

static int observe(gf_vmap *m, uint64_t key, uint64_t val, uint64_t line)
{
    if (!key) key = 1;
    uint32_t l = line > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)line;
    if (m->run.key == key && m->run.val == val && m->run.count < 0x7FFFFFF0u) {
        m->run.count++;
        return 1;
    }
    int ok = flush(m);
    m->run = (gf_vent){key, val, 1, l};
    return ok;
}

static int has(const gf_vmap *m, uint64_t key)
{
    if (!key) key = 1;
    if (m->run.key == key) return 1;
    if (!m->cap) return 0;
    size_t j = slot(key, m->cap);
    while (m->e[j].key) {
        if (m->e[j].key == key) return 1;
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

static uint64_t hs(const char *p, size_t n) { return p ? gf_vhash(p, n, GF_VHASH0) : 0; }

static gf_vmap *maps(gf_vwide *w, int i);
static void own(gf_vwide *w);

void gf_vwide_row(gf_vwide *w, const gf_vparsed *p, uint64_t line)
{
    int ok = 1;
    if (!w->communes.owner) own(w);
    int topo = p->has_numero && p->numero == 99999;
    w->rows++;
    /* validateUseBanIds */
    if (p->id_commune && p->id_toponyme && (p->id_adresse || topo)) {
        w->useban++;
        ok &= observe(&w->communes, hs(p->id_commune, p->n_commune), 0, line);
    }
    /* validateVoieBanIds */
    if (p->id_toponyme) {
        uint64_t t = hs(p->id_toponyme, p->n_toponyme);
        ok &= observe(&w->topo, t, p->voie_ident_hash, line);
        uint64_t vk = gf_vhash(topo ? "#toponyme" : "#voie", topo ? 9 : 5, p->voie_ident_hash);
        ok &= observe(&w->voie, vk, t, line);
    }
    /* validateAdresseBanIds */
    if (!topo) {
        if (p->id_adresse) ok &= observe(&w->adr, hs(p->id_adresse, p->n_adresse), p->numero_ident_hash, line);
        if (w->track_num) ok &= observe(&w->num, p->numero_ident_hash, hs(p->id_adresse, p->n_adresse), line);
    }
    /* validateComplementIsDeclared */
    if (topo) ok &= observe(&w->toponyms, p->has_voie ? p->voie_exact_hash : 2, 0, line);
    if (p->has_lieudit)
        ok &= w->shared ? pend(w, 6, (gf_vent){p->lieudit_hash, line, 0, 0}) : lieudit_add(w, p->lieudit_hash, line);
    if (!ok) w->nomem = 1;
}

static gf_vmap *maps(gf_vwide *w, int i)
{
    gf_vmap *m[] = {&w->communes, &w->topo, &w->voie, &w->adr, &w->num, &w->toponyms};
    return i < 6 ? m[i] : NULL;
}

static void own(gf_vwide *w)
{
    for (int i = 0; i < 6; i++) {
        maps(w, i)->owner = w;
        maps(w, i)->idx = i;
    }
}

static void flush_all(gf_vwide *w)
{
    for (int i = 0; i < 6; i++)
        if (!flush(maps(w, i))) w->nomem = 1;
}

void gf_vwide_sync(gf_vwide *f, pthread_mutex_t *mu)
{
    gf_vwide *d = f->shared;
    flush_all(f); /* the runs in progress: a batch's end closes them */
    pthread_mutex_lock(mu);
    if (!d->communes.owner) own(d);
    int ok = 1;
    d->rows += f->rows;
    d->useban += f->useban;
    d->track_num |= f->track_num;
    d->truncated |= f->truncated;
    for (size_t i = 0; i < f->npend; i++) {
        const gf_vent *e = &f->pend[i].e;
        if (f->pend[i].map < 6) ok &= put(maps(d, (int)f->pend[i].map), e->key, e->val, e->first, e->count);
        else ok &= lieudit_add(d, e->key, e->val);
    }
    if (!ok || f->nomem) d->nomem = 1;
    pthread_mutex_unlock(mu);
    f->npend = 0;
    f->rows = f->useban = 0;
    f->truncated = f->nomem = 0;
}

void gf_vwide_free(gf_vwide *w)
{
    for (int i = 0; i < 6; i++) table_free(maps(w, i)->e, maps(w, i)->cap);
    free(w->lieudit);
    free(w->pend);
    gf_vbudget *pool = w->pool;
    gf_vwide *shared = w->shared;
    if (pool) atomic_fetch_sub(&pool->used, w->used);
    memset(w, 0, sizeof *w);
    w->pool = pool; /* the table may be filled again (a stage run twice) */
    w->shared = shared;
}

static void report_conflicts(const gf_vmap *m, const char *code, gf_vwide_row_fn fn, void *u)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].key && (m->e[i].count & CONFLICT)) fn(u, code, m->e[i].count & ~CONFLICT, m->e[i].first);
}

void gf_vwide_finish(gf_vwide *w, gf_vwide_row_fn rowfn, gf_vwide_file_fn filefn, void *u)
{
    flush_all(w);
    if (w->truncated) filefn(u, "file.wide_checks_incomplete");
    if (w->rows == 0) filefn(u, "rows.empty");
    if (w->useban == w->rows) {
        if (w->communes.n > 1) filefn(u, "rows.multi_id_ban_commune");
    } else if (w->useban > 0) {
        filefn(u, "rows.every_line_required_id_ban");
    }
    report_conflicts(&w->topo, "row.different_voie_nom_with_same_id_ban_toponyme", rowfn, u);
    report_conflicts(&w->voie, "row.different_id_ban_toponyme_with_same_voie_nom", rowfn, u);
    report_conflicts(&w->adr, "row.different_adresse_with_same_id_ban_adresse", rowfn, u);
    report_conflicts(&w->num, "row.different_id_ban_adresses_with_same_adresse", rowfn, u);
    for (size_t i = 0; i < w->nlieudit; i += 2)
        if (!has(&w->toponyms, w->lieudit[i])) rowfn(u, "row.lieudit_complement_nom_not_declared", 1, w->lieudit[i + 1]);
}
