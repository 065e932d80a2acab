/* Streaming ingest: bytes (file, gzip, stdin) -> CSV records -> batches.
 *
 * The reader only tokenizes and maps columns: it delivers every column of a
 * batch as text (GF_COL_TEXT: gf_sref, b->cols[i].v.s) with the raw record
 * kept for rejects. Checking (src/validate) and typing (gf_typing_stage_vt,
 * which makes the columns GF_COL_TYPED and sets the position flags) run
 * afterwards on worker threads. */
#ifndef GEOFLUX_INGEST_H
#define GEOFLUX_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include "geoflux/address.h"
#include "geoflux/ctx.h"
#include "geoflux/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- byte streams ------------------------------------------------------ */

typedef struct gf_stream gf_stream;

/* Opens path for reading ("-" is standard input). gzip input is recognised
 * by its magic bytes whatever the name. Caller frees with gf_stream_close(). */
gf_status gf_stream_open(gf_ctx *ctx, const char *path, gf_stream **out);
/* Reads up to n bytes; *got = 0 at end of stream. */
gf_status gf_stream_read(gf_stream *s, gf_ctx *ctx, void *buf, size_t n, size_t *got);
/* Bytes of the underlying file consumed so far (compressed bytes for gzip);
 * size is the file size, 0 when unknown (pipe, stdin). */
uint64_t gf_stream_offset(gf_stream *s);
uint64_t gf_stream_size(const gf_stream *s);
/* The path as the user gave it ("<stdin>" for "-"), for messages; borrowed
 * until gf_stream_close(). */
const char *gf_stream_path(const gf_stream *s);
void gf_stream_close(gf_stream *s);

/* ---- CSV tokenizer ------------------------------------------------------ */

typedef enum gf_encoding {
    GF_ENC_AUTO = 0, /* UTF-8, records that are not valid UTF-8 read as Windows-1252 */
    GF_ENC_UTF8,
    GF_ENC_LATIN1    /* Windows-1252 (a superset of ISO-8859-1's printable range) */
} gf_encoding;

typedef struct gf_csv_opts {
    char sep;             /* 0: detect among ';' ',' '\t' from the first record */
    gf_encoding encoding; /* GF_ENC_AUTO by default */
    size_t chunk;         /* read size; 0: 256 KiB */
    size_t max_record;    /* longest record accepted; 0: 1 MiB */
} gf_csv_opts;

#define GF_CSV_MAX_FIELDS 256

/* What is wrong with a malformed record (gf_csv_record.error_kind). */
typedef enum gf_csv_error {
    GF_CSV_ERR_NONE = 0,
    GF_CSV_ERR_QUOTE,       /* a quoted field is not terminated */
    GF_CSV_ERR_FIELDS,      /* more than GF_CSV_MAX_FIELDS fields */
    GF_CSV_ERR_NUL,         /* a NUL byte in a value */
    GF_CSV_ERR_TOO_LONG     /* longer than the maximum record size */
} gf_csv_error;

typedef struct gf_csv_record {
    uint64_t line;      /* physical line where the record starts (1-based) */
    int nfields;
    const char *field[GF_CSV_MAX_FIELDS];
    size_t len[GF_CSV_MAX_FIELDS];
    const char *raw;    /* the record as read (after transcoding), no terminator */
    size_t rawlen;
    int transcoded;     /* 1 when the record was read as Windows-1252 */
    const char *error;  /* non-NULL: the record is malformed (unterminated quote, too long, too many fields) */
    int error_col;      /* 1-based column of the error, 0 if not applicable */
    gf_csv_error error_kind; /* GF_CSV_ERR_NONE exactly when error is NULL */
} gf_csv_record;

typedef struct gf_csv gf_csv;

/* Takes ownership of stream s. Caller frees with gf_csv_close(). */
gf_status gf_csv_open(gf_ctx *ctx, gf_stream *s, const gf_csv_opts *opts, gf_csv **out);
/* Next record; GF_DONE at end. Blank lines are skipped. Pointers in *rec are
 * borrowed until the next call. Before the first record, the first bytes
 * are checked: a file that is not CSV (GeoJSON, GeoPackage, zip, shapefile,
 * other binary data) gives GF_ERR_SCHEMA with a message naming it. */
gf_status gf_csv_next(gf_csv *c, gf_ctx *ctx, gf_csv_record *rec);
/* Separator in use (known after the first record). */
char gf_csv_sep(const gf_csv *c);
/* 1 if the stream began with a UTF-8 BOM. */
int gf_csv_had_bom(const gf_csv *c);
/* 1 if CR-only line breaks were seen. */
int gf_csv_saw_cr_only(const gf_csv *c);
/* Records read as Windows-1252 so far. */
uint64_t gf_csv_transcoded(const gf_csv *c);
/* The stream being read (borrowed, owned by c). */
gf_stream *gf_csv_stream(gf_csv *c);
void gf_csv_close(gf_csv *c);

/* ---- header mapping ----------------------------------------------------- */

typedef struct gf_header_map {
    gf_layout layout;
    int ncols;                      /* columns in the input header */
    int col_field[GF_CSV_MAX_FIELDS]; /* input column -> gf_addr_field, -1 ignored */
    int field_col[GF_A_COUNT];      /* gf_addr_field -> input column, -1 absent */
    char unknown[512];              /* names of ignored non-empty columns, ", "-separated */
    /* Multilingual names (BAL 1.2+: voie_nom_bre, toponyme_eus, ...): input
     * column and canonical property name (voie_nom_<lang>, ...). The reader
     * turns them into extra string fields of its schema. */
    int nlang;
    int lang_col[16];
    char lang_name[16][48];
} gf_header_map;

/* Maps a header record to the canonical address fields. Returns
 * GF_ERR_SCHEMA (message in ctx) when it is not an address file. */
gf_status gf_header_map_address(gf_ctx *ctx, const gf_csv_record *hdr, gf_header_map *out);

/* Lower-cases and trims a header name into out (ASCII folding of accents is
 * not done: BAL names are ASCII). */
void gf_header_norm(const char *p, size_t n, char *out, size_t outsz);

/* The reference validator's exact column names for a BAL header whose
 * columns the reader maps by an alias, a DBF-truncated name, another case
 * or surrounding blanks ("nulmero" -> "numero", "COMMUNE_IN" ->
 * "commune_insee", " voie_nom" -> "voie_nom"); the BAN-only columns, the
 * multilingual ones, unknown names and duplicates keep their names.
 * out[i] and outlens[i] receive the name of column i: a static canonical
 * name, or names[i] itself (borrowed). Returns the number of columns
 * renamed; 0 (every name kept) for a BAN extract's header. */
int gf_header_harmonise(const char *const *names, const size_t *lens, int n, const char **out, size_t *outlens);

/* ---- reader: the pipeline source ------------------------------------------ */

typedef struct gf_reader gf_reader;

typedef struct gf_reader_opts {
    gf_csv_opts csv;
} gf_reader_opts;

/* Opens every input (paths borrowed for the reader's lifetime) and reads
 * the first header. Caller frees with gf_reader_destroy(). */
gf_status gf_reader_open(gf_ctx *ctx, const char *const *paths, int npaths,
                         const gf_reader_opts *opts, gf_reader **out);
void gf_reader_destroy(gf_reader *r);
/* Fills b with up to b->cap rows (text columns); GF_DONE at end of input.
 * b must be empty and built for a schema that starts with
 * gf_reader_schema()'s fields (GF_ERR_INTERNAL otherwise). */
gf_status gf_reader_next(gf_reader *r, gf_ctx *ctx, gf_batch *b);
uint64_t gf_reader_rows(const gf_reader *r);
/* Progress for a progress bar, safe to call from any thread while another
 * reads: bytes consumed of all inputs so far, and their total size (0 when
 * unknown, e.g. standard input). */
void gf_reader_progress(const gf_reader *r, uint64_t *done, uint64_t *total);
/* Layout of input i (known once its header was read). */
gf_layout gf_reader_layout(const gf_reader *r, int i);
const char *gf_reader_path(const gf_reader *r, int i);
/* The header record of input i as read (exact text after transcoding, not
 * trimmed): *n names, and the separator in *sep when sep is not NULL;
 * borrowed until gf_reader_destroy(). gf_reader_open() reads every input's
 * header, standard input's included (kept open past it until reached).
 * Returns 1, or 0 when the header could not be read (the error is reported
 * when the input is reached). */
int gf_reader_header(const gf_reader *r, int i, const char *const **names, const size_t **lens, int *n, char *sep);
int gf_reader_count(const gf_reader *r);

/* The reader's schema: the canonical address fields followed by the
 * multilingual name columns found in the inputs' headers (read at open for
 * every input but standard input). Valid until gf_reader_destroy(). */
const gf_schema *gf_reader_schema(const gf_reader *r);

/* Adapter so a reader is a pipeline source (state = gf_reader *). */
extern const gf_source_vt gf_reader_source_vt;

/* ---- typing stage --------------------------------------------------------- */

/* Converts every GF_COL_TEXT column of a batch to its schema type and marks
 * it GF_COL_TYPED (numero -> integer, certification_commune -> boolean,
 * x/y/long/lat -> real, dates -> ISO "YYYY-MM-DD" appended to the arena,
 * strings trimmed); typed columns are left as they are. For the address
 * schema it then sets GF_ROW_HAS_XY / GF_ROW_HAS_LONLAT. A value that does
 * not convert becomes null (the validation stage has already reported it).
 * Fails with GF_ERR_INTERNAL on a batch that breaks the batch contract,
 * GF_ERR_NOMEM when the arena cannot grow. State: none (pass NULL). */
extern const gf_stage_vt gf_typing_stage_vt;

#ifdef __cplusplus
}
#endif
#endif
