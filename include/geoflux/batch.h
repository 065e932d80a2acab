/* gf_batch: a columnar block of a few thousand records, the unit that flows
 * through the pipeline. Coordinates are plain double arrays so they go
 * straight to proj_trans_generic(); properties are typed columns; strings
 * live in one arena per batch and are referenced by offset, so growing the
 * arena never invalidates them. Rows that a stage rejects leave the batch
 * and become gf_reject entries that keep their line, raw text and reason.
 *
 * The contract (what every stage and sink may rely on):
 * - A batch carries the schema it was built for (its own copy, so a schema
 *   changed afterwards cannot disagree with the columns allocated). A stage
 *   or sink given a batch of another schema fails with GF_ERR_INTERNAL
 *   (gf_batch_expect()), it never reads a column that was not allocated.
 * - Each column is in one state, recorded in gf_col.state: GF_COL_TEXT (the
 *   reader's text, v.s, whatever the schema type) or GF_COL_TYPED (v holds
 *   the schema type). The typing stage is the transition; setters keep a
 *   column in one state (gf_batch_set_int() on a column holding text is an
 *   error, not a silent reinterpretation of its bytes).
 * - Values never change shape in place: a typed value is stored in its own
 *   8-byte slot (integer, boolean, real) or appended to the arena (string,
 *   date), never written over the text it came from. */
#ifndef GEOFLUX_BATCH_H
#define GEOFLUX_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include "geoflux/ctx.h"
#include "geoflux/schema.h"
#include "geoflux/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rows in flight in a pipeline, all workers together: each worker's batch
 * holds GF_BATCH_ROWS / threads rows (at least GF_BATCH_MIN_ROWS), so the
 * stream's memory does not grow with -j. */
#define GF_BATCH_ROWS 4096
#define GF_BATCH_MIN_ROWS 512

/* Row flags. */
enum {
    GF_ROW_HAS_XY = 1u << 0,      /* x/y columns parsed */
    GF_ROW_HAS_LONLAT = 1u << 1,  /* long/lat columns parsed */
    GF_ROW_HAS_POS = 1u << 2,     /* gx/gy/lon/lat hold a position */
    GF_ROW_POS_MISMATCH = 1u << 3,/* x/y and lon/lat disagree by > 10 m */
    GF_ROW_INVALID = 1u << 4,     /* breaks a BAL rule, kept by --keep-invalid */
    GF_ROW_WARN = 1u << 5,        /* has warnings */
    GF_ROW_TRANSCODED = 1u << 6,  /* the record was read as Windows-1252 and converted to UTF-8 */
    GF_ROW_DROP = 1u << 31        /* rejected, removed by gf_batch_compact() */
};

typedef struct gf_sref {
    uint32_t off, len; /* bytes in the batch arena */
} gf_sref;

/* State of a column (see the contract above). */
typedef enum gf_col_state {
    GF_COL_TEXT = 0, /* v.s: the text as read (untrimmed), whatever the schema type */
    GF_COL_TYPED = 1 /* v.i / v.d / v.s as the schema type says */
} gf_col_state;

typedef struct gf_col {
    uint8_t *valid; /* 1 when the value is set, 0 for null */
    gf_col_state state;
    union {
        int64_t *i;  /* GF_T_INT, GF_T_BOOL */
        double *d;   /* GF_T_REAL */
        gf_sref *s;  /* GF_T_STRING, GF_T_DATE */
    } v;
} gf_col;

typedef struct gf_reject {
    uint64_t line;   /* 1-based physical line of the record start */
    uint32_t src;    /* input index */
    gf_sref raw;     /* raw record text (without line terminator) */
    gf_sref reason;  /* "code: message" */
} gf_reject;

typedef struct gf_batch {
    uint64_t seq;             /* 0, 1, 2, ... in input order */
    const gf_schema *schema;  /* the schema the batch was built for: points to own_schema */
    gf_schema own_schema;     /* copy taken by gf_batch_create() */
    size_t n, cap;
    gf_col cols[GF_MAX_FIELDS];
    double *gx, *gy;   /* position in the output CRS (NaN when none) */
    double *lon, *lat; /* position in WGS84 lon/lat (NaN when none) */
    uint32_t *flags;   /* GF_ROW_* */
    uint64_t *line;    /* input line */
    uint32_t *src;     /* input index */
    gf_sref *raw;      /* raw record text, for rejects */
    gf_sref *errors;   /* "code|code" BAL errors (len 0: none) */
    gf_sref *warnings; /* "code|code" BAL warnings (len 0: none) */
    char *arena;
    size_t alen, acap;
    gf_reject *rej;
    size_t nrej, rejcap;
} gf_batch;

/* Allocates a batch for schema s (copied: field names, which have static
 * storage, are borrowed) with room for cap rows; every column starts as
 * GF_COL_TEXT. Caller frees with gf_batch_destroy(). */
gf_status gf_batch_create(const gf_schema *s, size_t cap, gf_batch **out);
void gf_batch_destroy(gf_batch *b);

/* Empties the batch (n = 0, no rejects, empty arena, every column back to
 * GF_COL_TEXT); keeps allocations. */
void gf_batch_reset(gf_batch *b);

/* Appends a row with every column null and no position; returns its index,
 * or -1 when the batch is full. */
long gf_batch_add_row(gf_batch *b, uint64_t line, uint32_t src);

/* Copies len bytes into the arena; *ref receives where. GF_ERR_NOMEM. */
gf_status gf_batch_intern(gf_batch *b, const char *p, size_t len, gf_sref *ref);

/* Borrowed pointer to arena bytes: valid until the next intern/reset. */
static inline const char *gf_batch_str(const gf_batch *b, gf_sref r) { return b->arena + r.off; }

/* Setters. gf_batch_set_str() stores text in a GF_COL_TEXT column, or a
 * value in a typed string or date column; gf_batch_set_int() (integer,
 * boolean) and gf_batch_set_real() make the column GF_COL_TYPED. Each
 * returns GF_ERR_INTERNAL, and stores nothing, when the value would mix
 * states or types in one column (text and integers, a number in a string
 * column...); GF_ERR_NOMEM when the arena cannot grow. */
gf_status gf_batch_set_str(gf_batch *b, int col, size_t row, const char *p, size_t len);
gf_status gf_batch_set_int(gf_batch *b, int col, size_t row, int64_t v);
gf_status gf_batch_set_real(gf_batch *b, int col, size_t row, double v);

/* Checks the contract before a stage or sink reads b: b's schema has the
 * fields of s first, in order, with their types (every field when exact is
 * 1; s may be a prefix when exact is 0, as for a source whose schema later
 * stages extend), and, when state >= 0, every column of b is in that state
 * (for GF_COL_TYPED: every integer, boolean and real column; string and date
 * columns hold arena text in both states, which a writer can always read).
 * Returns GF_OK, or GF_ERR_INTERNAL with a message naming who (a stage or
 * sink name) in ctx: the batch belongs to another pipeline. */
gf_status gf_batch_expect(const gf_batch *b, gf_ctx *ctx, const gf_schema *s, int exact, int state,
                          const char *who);

/* Appends "code" to the row's error or warning list ('|'-separated). */
gf_status gf_batch_add_issue(gf_batch *b, size_t row, int is_error, const char *code);

/* Moves row to the reject list with reason (copied) and marks it for removal;
 * gf_batch_compact() then drops marked rows keeping the order of the rest. */
gf_status gf_batch_reject(gf_batch *b, size_t row, const char *reason);

/* Records a reject for a record that never became a row (unparseable). */
gf_status gf_batch_reject_raw(gf_batch *b, uint64_t line, uint32_t src,
                              const char *raw, size_t rawlen, const char *reason);

/* Removes rows rejected since the last compact. */
void gf_batch_compact(gf_batch *b);

#ifdef __cplusplus
}
#endif
#endif
