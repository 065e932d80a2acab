/* Harmonisation: the mechanical repairs of BAL (and BAN) values, made on
 * the reader's text batches before the validation stage, so that a value
 * written in a way the reference validator refuses but whose meaning is
 * certain (a French date, `oui`, an upper-case cle_interop, long/lat
 * missing beside x/y...) does not make its row a reject. A repair never
 * invents data: a value that cannot be repaired is left as it is and the
 * validation reports it.
 *
 * Every repair is recorded with a code (gf_repair_code, named
 * "repair.<what>"): counted per (commune_insee, code), exactly, and listed
 * per row up to a cap. Workers keep their own logs; the stage's end()
 * merges them and hands the result, sorted, to a callback once, so the
 * result does not depend on the thread count. */
#ifndef GEOFLUX_HARMONISE_H
#define GEOFLUX_HARMONISE_H

#include <stddef.h>
#include <stdint.h>

#include "geoflux/ingest.h"
#include "geoflux/join.h"
#include "geoflux/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The repairs, in the order they are tried on a row. */
typedef enum gf_repair_code {
    GF_REPAIR_HEADER_ALIAS = 0,   /* file: a column named by an alias or typo (nulmero, DBF names) */
    GF_REPAIR_ENCODING,           /* file: a record read as Windows-1252, converted to UTF-8 */
    GF_REPAIR_TRIM,               /* white space (NBSP included) around a value removed */
    GF_REPAIR_DATE_FR,            /* DD/MM/YYYY, D/M/YYYY, DD-MM-YYYY, DD.MM.YYYY -> YYYY-MM-DD */
    GF_REPAIR_DATE_EXCEL,         /* an Excel serial day number (2000-2099) -> YYYY-MM-DD */
    GF_REPAIR_DATE_TIME,          /* an ISO date-time -> its date */
    GF_REPAIR_DATE_YMD,           /* YYYY/MM/DD, YYYY.MM.DD -> YYYY-MM-DD */
    GF_REPAIR_CLE_INTEROP_CASE,   /* cle_interop lower-cased */
    GF_REPAIR_CLE_INTEROP_PADDING,/* cle_interop's number part padded to 5 digits */
    GF_REPAIR_NUMERO_PREFIX,      /* numero's leading zeros removed (0012 -> 12) */
    GF_REPAIR_NUMERO_DECIMAL,     /* numero written as a decimal with a zero fraction (163,000 -> 163) */
    GF_REPAIR_CERTIFICATION,      /* oui/non, true/false, vrai/faux, yes/no, o/n (any case) -> 1/0 */
    GF_REPAIR_DECIMAL_COMMA,      /* 1,4523 -> 1.4523 in x, y, long, lat */
    GF_REPAIR_LONLAT_SWAPPED,     /* long and lat exchanged (the swapped point is in the commune) */
    GF_REPAIR_LONLAT_FROM_XY,     /* long/lat computed from x/y in the given (s_srs) or detected CRS */
    GF_REPAIR_COUNT
} gf_repair_code;

/* "repair.trim", "repair.date_fr", ...; NULL for an unknown code. Static. */
const char *gf_repair_name(gf_repair_code c);

/* ---- The value repairs on their own (used by the stage, tests, fuzzers) --
 * Each takes the text (p, n), no terminator needed, already trimmed, and
 * writes the repaired text with a terminator into out (outsz bytes).
 * Returns 1 when it repaired the value (out holds the new text), 0 when
 * the value needs no repair of that kind or cannot be repaired (out is
 * then unspecified). */

/* A French date (DD/MM/YYYY, D/M/YYYY, DD-MM-YYYY, DD.MM.YYYY; one
 * separator throughout; a real calendar day of years 1000-9999; two-digit
 * years are never guessed) -> "YYYY-MM-DD". outsz >= 11. */
int gf_harmonise_date_fr(const char *p, size_t n, char *out, size_t outsz);
/* An Excel serial day number (1900 date system, an optional fraction of a
 * day dropped) of a day in 2000-2099 -> "YYYY-MM-DD". Excel counts a
 * 29 February 1900 that never was (serial 60): serials above 60 are one
 * day late, which is accounted for. outsz >= 11. */
int gf_harmonise_date_excel(const char *p, size_t n, char *out, size_t outsz);
/* The day of the serial number s (any s >= 1) -> "YYYY-MM-DD": 0 for
 * s = 60 (the day that never was) and s < 1. outsz >= 11. */
int gf_harmonise_excel_day(long s, char *out, size_t outsz);
/* An ISO date-time "YYYY-MM-DD[T ]HH:MM[:SS[.f]][Z|+HH:MM|-HH:MM]" of a
 * real day -> "YYYY-MM-DD". outsz >= 11. */
int gf_harmonise_date_time(const char *p, size_t n, char *out, size_t outsz);
/* A date year first with '/' or '.' ("2013.01.26", "2013/01/26") of a
 * real day -> "YYYY-MM-DD". outsz >= 11. */
int gf_harmonise_date_ymd(const char *p, size_t n, char *out, size_t outsz);
/* A boolean written in words (oui/non, true/false, vrai/faux, yes/no, o/n,
 * any case) -> "1" or "0"; "1" and "0" themselves need no repair. */
int gf_harmonise_certification(const char *p, size_t n, char *out, size_t outsz);
/* A number with a decimal comma ("-1,4523") -> with a point. */
int gf_harmonise_decimal_comma(const char *p, size_t n, char *out, size_t outsz);
/* A number with leading zeros ("0012") -> without them ("12"); "0" and
 * "00000" (zero) are left to the validation. */
int gf_harmonise_numero(const char *p, size_t n, char *out, size_t outsz);
/* An integer written as a decimal whose fraction is zero ("163,0000",
 * "12.0") -> the integer ("163", "12"); "0.0" and a non-zero fraction are
 * left to the validation. */
int gf_harmonise_numero_decimal(const char *p, size_t n, char *out, size_t outsz);
/* cle_interop with ASCII upper-case letters -> lower case. */
int gf_harmonise_cle_interop_case(const char *p, size_t n, char *out, size_t outsz);
/* cle_interop whose number part (the third '_'-separated part, 1 to 4
 * digits) is shorter than 5 digits -> padded with zeros ("31555_0040_12"
 * -> "31555_0040_00012"; a suffix part after it is kept). */
int gf_harmonise_cle_interop_padding(const char *p, size_t n, char *out, size_t outsz);

/* ---- The result ---------------------------------------------------------- */

/* Repairs of one code in one commune of one input. */
typedef struct gf_harmonise_count {
    uint32_t input;       /* index of the input (gf_convert_opts.inputs order) */
    const char *commune;  /* commune_insee of the rows ("" when unknown) */
    gf_repair_code code;
    uint64_t rows;        /* repairs made (a row repaired twice for one code counts 2) */
} gf_harmonise_count;

/* One repair. File-level repairs of the header (header_alias) have line 0
 * and commune ""; the per-row ones the row's physical line. */
typedef struct gf_harmonise_entry {
    uint32_t input;       /* index of the input (gf_convert_opts.inputs order) */
    uint64_t line;        /* physical line of the record; 0: the header */
    const char *commune;  /* commune_insee of the row after its repairs ("" when none) */
    gf_repair_code code;
    const char *field;    /* the column (canonical name: "date_der_maj", "long", ...; "" for encoding) */
    const char *before;   /* the text before the repair (at most 200 bytes kept) */
    const char *after;    /* the text after it */
} gf_harmonise_entry;

typedef struct gf_harmonise_result {
    /* Exact counts, sorted by (input, commune, code). */
    const gf_harmonise_count *counts;
    size_t ncounts;
    /* Totals per code over every commune. */
    uint64_t total[GF_REPAIR_COUNT];
    /* The listed repairs, sorted by (input, line, field in schema order,
     * order of the repairs on the field): the first max_listed of each
     * input in that order. */
    const gf_harmonise_entry *entries;
    size_t nentries;
    uint64_t unlisted;    /* repairs counted but beyond the cap */
} gf_harmonise_result;

/* ---- The stage ------------------------------------------------------------ */

typedef struct gf_harmonise_opts {
    /* Commune boundaries (borrowed, must outlive the run): needed for the
     * lonlat_swapped repair, which is only made when the swapped point
     * falls inside the row's commune and the given one does not. NULL: no
     * swap is ever repaired. */
    const gf_join_index *communes;
    /* The CRS of x/y as the user gave it (--s-srs: EPSG:27572, WKT, a PROJ
     * string...; resolved at create, refused there when PROJ does not know
     * it): long/lat missing beside x/y are computed from x/y in it. NULL:
     * in the CRS detected per row (Lambert-93, CC42-CC50, the overseas
     * legal CRS), and not at all when none fits: never guessed. */
    const char *s_srs;
    /* Entries listed per input; 0: 10000. Counts are exact whatever the cap. */
    size_t max_listed;
    /* Called once, at the stage's end(), on the run's thread, when the run
     * succeeded; r and everything it points to are borrowed for the call.
     * NULL: the result is only logged (one info line per code). */
    void (*on_done)(void *user, const gf_harmonise_result *r);
    void *user;
} gf_harmonise_opts;

/* Creates the harmonise stage for the inputs of reader (borrowed, must
 * outlive the stage; the header repairs come from its headers). Must be
 * added first, before the validation stage (which is then created with
 * gf_validate_opts.harmonised = 1): it works on text columns
 * (GF_COL_TEXT) of the address schema and fails with GF_ERR_INTERNAL on a
 * typed batch. A repaired value is stored with gf_batch_set_str() (in the
 * batch arena, never over the text it replaces); a trimmed value is the
 * same text, narrowed. Rows are never dropped or reordered. opts is
 * copied. Returns GF_OK, GF_ERR_NOMEM. Caller frees with
 * gf_harmonise_stage_vt.destroy (the pipeline does it once the stage is
 * added). */
gf_status gf_harmonise_create(gf_ctx *ctx, const gf_harmonise_opts *opts, const gf_reader *reader, void **st);
extern const gf_stage_vt gf_harmonise_stage_vt;

#ifdef __cplusplus
}
#endif
#endif
