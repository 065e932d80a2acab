/* Private pieces of `geoflux publish` (include/geoflux/publish.h,
 * docs/publish.md): the submissions and their commune parts (sources.c),
 * the revision store (store.c), the SITE (site.c) and the run (publish.c). */
#ifndef GF_PUBLISH_INT_H
#define GF_PUBLISH_INT_H

#include <stdint.h>

#include "geoflux/engine.h"
#include "geoflux/ingest.h"
#include "geoflux/join.h"
#include "geoflux/pipeline.h"
#include "geoflux/publish.h"

/* 64-bit hash of one row (line text), mixed: summing them over a file's rows
 * gives a hash that does not depend on their order. */
uint64_t pb_row_hash(const char *p, size_t n);

typedef struct pb_store pb_store; /* the revision store (store.c) */

/* ---- submissions ---------------------------------------------------------- */

enum { PB_KIND_NONE = 0, PB_KIND_BAL, PB_KIND_BAN, PB_KIND_EQUIP };
const char *pb_kind_name(int kind);

/* Statuses of submissions and communes, as report.json spells them. */
enum { PB_ST_PUBLISHED = 0, PB_ST_UNCHANGED, PB_ST_REJECTED, PB_ST_CONFLICT, PB_ST_MISSING, PB_ST_ACCEPTED };
const char *pb_status_name(int st);

/* One commune's rows in one submission. */
typedef struct pb_part {
    int sub;              /* index of its submission */
    char code[6];         /* commune INSEE code */
    char *input;          /* file read by the convert job: the submission itself, or its split part */
    char *lines;          /* a split part's line map (u64 pairs: a row's first line in input, in the
                           * submission), NULL when input is the submission */
    uint64_t rows;        /* data rows of this commune in the submission */
    uint64_t transcoded;  /* of them, read as Windows-1252 */
    /* filled by the run */
    char *out, *rejects;  /* harmonised BAL 1.4 and rejected rows (scratch) */
    uint64_t valid, certified;
    uint64_t addresses;   /* distinct addresses among the valid rows */
    uint64_t row_hash;    /* sum of pb_row_hash() of the harmonised rows, + count */
    gf_buf errors, warnings, repairs; /* "code\tcount\n" lines, sorted by code */
    gf_buf repair_list;   /* the repairs, one CSV row each (line;code;field;before;after) */
    int status;
    gf_buf reasons;       /* JSON array items, ", "-joined */
    uint64_t added, removed, modified, moved;
    uint64_t id_changed, id_reused; /* identifier stability (from the diff) */
    int has_diff;
    char *diff;           /* the diff CSV (scratch) */
    gf_buf zdata;         /* the rows (no header), one gzip member: the store's data blob */
    gf_buf zrejects, zrepairs; /* rejected rows and repair list, zlib: the store's blobs */
    uint64_t zlen[3];     /* between the job and the store step the three blobs wait in
                           * out + ".z" (scratch), not in memory: their sizes */
    int known;            /* the very file is the published revision's (found by its hash, not read) */
    int64_t revision;     /* stored revision number (0: none) */
    int failed;           /* the part could not be read (reason given) */
    int overruled;        /* in conflict, but another producer won by --prefer */
} pb_part;

typedef struct pb_sub {
    char *path;           /* as the user names it (source path joined with the walked name) */
    char *producer;
    char *received_at;
    uint64_t size;
    char hash[33];
    int kind;
    int status;           /* PB_ST_ACCEPTED, PB_ST_UNCHANGED, PB_ST_REJECTED, PB_ST_CONFLICT */
    char *reason;         /* why it was rejected, NULL otherwise */
    uint64_t rows;        /* data rows */
    uint64_t rows_unplaced; /* rows with no commune code (rejected) */
    int first_part, nparts;
} pb_sub;

typedef struct pb_set {
    pb_sub *subs; int nsubs, capsubs;
    pb_part *parts; int nparts, capparts;
} pb_set;

/* Walks the sources (directories recursively, in name order), reads the
 * manifest, hashes and classifies each file, and splits BAL/BAN files by
 * commune into scratch (files of one commune are read in place). A file
 * whose hash is that of published revisions is not read: its parts are
 * those communes, marked known.
 * Submissions that cannot be read or recognised are kept with their
 * reason. GF_ERR_INPUT when a source or the manifest does not exist. */
gf_status pb_collect(gf_ctx *ctx, const gf_publish_opts *o, const char *at, const char *scratch, pb_store *store,
                     pb_set *set);
void pb_set_free(pb_set *set);

/* ---- the store -------------------------------------------------------------- */

/* The published revision of a commune. */
typedef struct pb_published {
    int64_t revision;     /* 0: none */
    char file_hash[33];
    char row_hash[17];
    char producer[128];
} pb_published;

/* Opens (creates) the store and starts the run's transaction: GF_ERR_OUTPUT
 * with a clear message when another run holds it. */
gf_status pb_store_open(gf_ctx *ctx, const char *path, pb_store **out);
gf_status pb_store_published(gf_ctx *ctx, pb_store *s, const char *code, pb_published *out);
/* The data (harmonised BAL CSV) of a revision, written to path. */
gf_status pb_store_write_data(gf_ctx *ctx, pb_store *s, const char *code, int64_t rev, const char *path);
/* Stores a part as a new revision (its number in p->revision); publishes it
 * when publish is set. */
gf_status pb_store_add(gf_ctx *ctx, pb_store *s, const pb_set *set, pb_part *p, int publish);
/* The latest revision of a commune with this status and this file or row
 * hash (0: none): a submission refused before is not stored again. */
gf_status pb_store_find(gf_ctx *ctx, pb_store *s, const char *code, const char *file_hash, const char *row_hash,
                        const char *status, int64_t *rev);
/* Records the run and its report; the run's number in *run. */
gf_status pb_store_add_run(gf_ctx *ctx, pb_store *s, const char *at, const char *report, int64_t *run);
/* The last run that published (0: none) and its report (malloc'd). */
gf_status pb_store_last_run(gf_ctx *ctx, pb_store *s, int64_t *run, char **report);
/* Commits the transaction / rolls it back. pb_store_close() rolls back
 * what was not committed. */
gf_status pb_store_commit(gf_ctx *ctx, pb_store *s);
void pb_store_close(pb_store *s);

/* Appends the figures of a stored revision to a report entry:
 * ,"producer":...,"revision":N,"received_at","file","rows","valid_rows",
 * "certified_share","repairs","errors","warnings" (no closing brace). */
gf_status pb_store_entry_json(gf_ctx *ctx, pb_store *s, const char *code, int64_t rev, gf_buf *out);

/* Stores written before the file hash was XXH3-128 keyed files by a pair
 * of FNV-1a streams (format "fnv1a-pair"). pb_store_legacy_hash() says
 * whether this store holds such keys; pb_store_rehash() re-keys the rows
 * of one file from its old hash to its new one, so that a file published
 * before is still known. */
int pb_store_legacy_hash(const pb_store *s);
gf_status pb_store_rehash(gf_ctx *ctx, pb_store *s, const char *old_hash, const char *new_hash);
/* Iterates the published revisions in commune order. */
typedef struct pb_pubrow {
    char code[6];
    int64_t revision;
    const void *data; size_t ndata;   /* zlib-compressed harmonised CSV */
    const void *diff; size_t ndiff;   /* zlib-compressed diff CSV of the run that published it (may be 0) */
    const void *rejects; size_t nrejects; /* zlib-compressed rejected rows (source;line;reason;raw), may be 0 */
    const void *repairs; size_t nrepairs; /* zlib-compressed repairs (line;code;field;before;after), may be 0 */
    int64_t run;                       /* run that published it */
} pb_pubrow;
gf_status pb_store_each_published(gf_ctx *ctx, pb_store *s, gf_status (*fn)(void *u, gf_ctx *ctx, const pb_pubrow *r),
                                  void *u);
/* Inflates a stored blob (zlib or gzip). */
gf_status pb_inflate(gf_ctx *ctx, const void *p, size_t n, gf_buf *out);
/* Inflates a blob into f as it goes, in chunks (a commune's rows need not
 * fit in memory twice); *lines: newlines written, counted when non-NULL.
 * path names f in errors. */
gf_status pb_inflate_to(gf_ctx *ctx, const void *p, size_t n, FILE *f, const char *path, uint64_t *lines);
/* Compresses p[0..n) into out: a gzip member (gzip = 1, so that members
 * concatenate into a .gz file) or a zlib stream, at a fast level. */
gf_status pb_deflate(gf_ctx *ctx, const void *p, size_t n, int gzip, gf_buf *out);
/* The communes whose published revision came from the file of this hash,
 * their rows and the file's kind (PB_KIND_*): a submission met before is
 * not read again. Calls fn for each, in code order. */
gf_status pb_store_known_file(gf_ctx *ctx, pb_store *s, const char *file_hash,
                              gf_status (*fn)(void *u, const char *code, uint64_t rows, int kind), void *u);

/* The store's SQLite handle and path, for the equipment tables (equip.c),
 * which live in the same database and the same run transaction. */
struct sqlite3;
struct sqlite3 *pb_store_db(pb_store *s);
const char *pb_store_path(const pb_store *s);

/* ---- SCDL équipements (equip.c) -------------------------------------------- */

struct gf_join_index;
/* What the run's equipment step did: submissions read (new) and left
 * unchanged (a file already stored). */
typedef struct pb_equip_result {
    int stored, unchanged, rejected;
} pb_equip_result;
/* The equipment submissions of set (kind PB_KIND_EQUIP, not rejected):
 * each one met before (same file hash, still current) is unchanged; each
 * other is read, validated against the SCDL schema, its rows placed in
 * their commune, their positions checked against the boundaries (communes,
 * may be NULL: no check), and those without one geocoded against the
 * store's published addresses; then stored, and the current equipment set
 * recomputed (newest submission wins per EQUIP_UID). inside(u, code) says
 * whether a commune is in the perimeter. Sets each submission's status,
 * reason and rows. In the run's transaction; scratch is the run's working
 * directory. */
gf_status pb_equip_run(gf_ctx *ctx, const gf_publish_opts *o, pb_store *s, pb_set *set,
                       const struct gf_join_index *communes, int (*inside)(const void *u, const char *code),
                       const void *u, const char *scratch, pb_equip_result *res);
/* Appends ,"equipments":{...} (the counts of the current set, from the
 * store) to a report. */
gf_status pb_equip_report_json(gf_ctx *ctx, pb_store *s, gf_buf *out);
/* Appends the fields of a submission's report entry that only equipment
 * submissions have: ,"equipments":{"rows":..,"accepted":..,"rejected":..}
 * (nothing when the store has no such submission). */
gf_status pb_equip_sub_json(gf_ctx *ctx, pb_store *s, const char *file_hash, gf_buf *out);
/* Writes equipements.csv, equipements.geojson and rejects/equipements.csv
 * into the SITE being built (dir) from the store's current set. */
gf_status pb_equip_site(gf_ctx *ctx, pb_store *s, const char *dir);

/* ---- the SITE ---------------------------------------------------------------- */

/* Seconds since t0 (CLOCK_MONOTONIC) and the process's peak resident
 * memory so far in MB (Linux /proc; 0 elsewhere): the step timings of -v. */
struct timespec;
double pb_since(const struct timespec *t0);
long pb_peak_mb(void);
/* Gives the memory the C library holds free (the arenas of the workers
 * of the step that ended) back to the system, before the next step. */
void pb_trim(void);
/* Rebuilds the SITE from the store's publication (run `run`, its report)
 * beside o->site and exchanges it with o->site; each commune's files are
 * written, and the map files built, on engine's workers (NULL: on the
 * calling thread, and threads of the map job's own). communes: o->communes
 * loaded (NULL: loaded by the map job when o->communes is set). at: the
 * run's date in seconds since 1970, the time the files that carry one
 * record. */
gf_status pb_site_build(gf_ctx *ctx, const gf_publish_opts *o, gf_engine *engine, const gf_join_index *communes,
                        pb_store *s, int64_t run, const char *report, long long at);
/* The publication number SITE holds (0: none or not a geoflux SITE, -1: a
 * directory holding other data). */
int64_t pb_site_run(const char *site);

/* Crash points for the tests: when the environment variable
 * GEOFLUX_TEST_KILL names this point ("stored", "committed", "built",
 * "exchanged"), the process kills itself with SIGKILL there, so that
 * tests/cli/publish_kill.sh can check that the next run completes the
 * work at every step that matters. No effect otherwise. */
void pb_test_kill(const char *point);

/* "code\tcount\n" lines (sorted) as a JSON object {"code":count,...}. */
gf_status pb_codes_json(const gf_buf *lines, gf_buf *out);
/* a / b rounded to 4 decimals, 0 when b is 0: report.json's shares. */
double pb_share(uint64_t a, uint64_t b);

/* 1 if path names a vector boundaries file by its extension (.geojson,
 * .json, .gpkg, .shp, .fgb), as --perimeter and the SITE's communes read it. */
int pb_is_boundaries(const char *path);
/* Opens a CSV geoflux wrote itself (';', UTF-8): a scratch file of the run. */
gf_status pb_open_own_csv(gf_ctx *ctx, const char *path, gf_csv **out);

/* Small helpers. */
gf_status pb_read_file(gf_ctx *ctx, const char *path, gf_buf *out);
gf_status pb_write_file(gf_ctx *ctx, const char *path, const void *p, size_t n);
gf_status pb_mkdirs(gf_ctx *ctx, const char *path);
void pb_rmtree(const char *path);

#endif
