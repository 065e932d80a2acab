/* Private: the reference's file-wide checks (lib/schema/rows.ts and
 * rows/ban_ids.ts) over a stream. Instead of holding every row as the
 * reference does, each check keeps one hash-map entry per group (24 bytes:
 * key hash, value hash, count, first line): an id_ban_toponyme, a street,
 * an id_ban_adresse, an address. A group whose rows disagree is flagged and
 * every row of it carries the code, as in the reference. */
#ifndef GF_VALIDATE_WIDE_H
#define GF_VALIDATE_WIDE_H

#include <pthread.h>

#include "validate/rules.h"

/* 24 bytes: the count's top bit is the conflict flag; lines over 4G are
 * clamped (only used to point at an example row). */
typedef struct gf_vent { uint64_t key, val; uint32_t count, first; } gf_vent;
/* Consecutive rows usually share their street and ids: a run of equal
 * (key, val) is counted in `run` and stored once. */
typedef struct gf_vmap {
    gf_vent *e;
    size_t cap, n;
    gf_vent run;
    struct gf_vwide *owner; /* for the memory budget */
    int idx;                /* which of the owner's maps */
} gf_vmap;

/* A group (map < 6) or a lieu-dit (map 6: key its hash, val its line) a
 * worker saw, waiting to go into the shared table. */
typedef struct gf_vpend { gf_vent e; uint32_t map; } gf_vpend;

/* Memory budget of the group tables (bytes); past it, new groups are no
 * longer recorded (existing ones still are) and the file gets the info
 * code file.wide_checks_incomplete: memory stays bounded whatever the size. */
#define GF_VWIDE_BUDGET ((size_t)256 << 20)

/* A budget several tables draw from (the validation stage's: every worker's
 * tables of every input), updated atomically. */
typedef struct gf_vbudget {
    _Atomic size_t used;
    size_t limit;          /* 0: GF_VWIDE_BUDGET */
} gf_vbudget;

/* Several workers fill one table: each has a front (a gf_vwide whose
 * `shared` is that table) that collects its batch's groups, run-length
 * compressed, and adds them under the table's lock at gf_vwide_sync. One
 * table whatever the worker count: memory does not grow with -j, and no
 * merge at the end. */
typedef struct gf_vwide {
    struct gf_vwide *shared; /* a front: groups go to pend, then to *shared */
    gf_vpend *pend;
    size_t npend, cappend;
    gf_vbudget *pool;      /* shared budget; NULL: budget below */
    size_t budget, used;   /* budget 0: GF_VWIDE_BUDGET; used: this table's bytes */
    int truncated;
    int track_num;         /* the file can carry id_ban_adresse (column or uid_adresse) */
    uint64_t rows, useban;
    gf_vmap communes;      /* distinct id_ban_commune of rows using BAN ids */
    gf_vmap topo, voie, adr, num, toponyms;
    uint64_t *lieudit;     /* pairs (hash, line) of rows with lieudit_complement_nom */
    size_t nlieudit, caplieudit;
    int nomem;
} gf_vwide;

void gf_vwide_row(gf_vwide *w, const gf_vparsed *p, uint64_t line);
/* A front's groups and counts into its shared table, under mu (which
 * guards that table); the front is then empty. */
void gf_vwide_sync(gf_vwide *front, pthread_mutex_t *mu);
void gf_vwide_free(gf_vwide *w);

/* Result callbacks: a row code for n rows (first: the first line of one
 * group), or a file code ("rows.multi_id_ban_commune"). */
typedef void (*gf_vwide_row_fn)(void *u, const char *code, uint64_t nrows, uint64_t first);
typedef void (*gf_vwide_file_fn)(void *u, const char *code);
void gf_vwide_finish(gf_vwide *w, gf_vwide_row_fn rowfn, gf_vwide_file_fn filefn, void *u);

#endif
