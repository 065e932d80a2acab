/* The reader: the pipeline's source. Opens the inputs one after the other,
 * maps each header, and fills batches with text columns, the raw record and
 * its line. Records that cannot be parsed become rejects here. */
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "geoflux/ingest.h"

/* The header record of an input, as read (owned copy). */
typedef struct rd_header {
    int ok, n;
    char *buf;           /* the names, NUL-terminated one after the other */
    const char **names;
    size_t *lens;
    uint64_t line;
    char sep;
} rd_header;

struct gf_reader {
    const char *const *paths;
    int n, cur;           /* cur: index of the open input, -1 before the first */
    gf_reader_opts o;
    gf_csv *csv;
    gf_header_map *maps;  /* one per input */
    int *opened;
    int *warned_enc;
    uint64_t rows;
    uint64_t done_before;      /* bytes of the inputs already closed */
    _Atomic uint64_t done;     /* bytes consumed, for progress */
    uint64_t total;            /* sum of input sizes; 0 if any is unknown */
    gf_schema schema;          /* canonical fields + multilingual extras */
    char names[GF_MAX_FIELDS][48]; /* storage of the extra field names */
    int (*lang_field)[16];     /* per input: schema field of each lang column, -1 none */
    rd_header *hdr;            /* per input */
    /* standard input is read from its header on at open: kept here until reached */
    gf_csv *stdin_csv;
    int stdin_idx;
    gf_status stdin_st;
    char stdin_msg[600];
};

static gf_status keep_header(gf_reader *r, int i, const gf_csv_record *rec, char sep)
{
    rd_header *h = &r->hdr[i];
    size_t total = 0;
    for (int k = 0; k < rec->nfields; k++) total += rec->len[k] + 1;
    h->buf = malloc(total ? total : 1);
    h->names = malloc((size_t)(rec->nfields ? rec->nfields : 1) * sizeof *h->names);
    h->lens = malloc((size_t)(rec->nfields ? rec->nfields : 1) * sizeof *h->lens);
    if (!h->buf || !h->names || !h->lens) return GF_ERR_NOMEM;
    char *p = h->buf;
    for (int k = 0; k < rec->nfields; k++) {
        memcpy(p, rec->field[k], rec->len[k]);
        p[rec->len[k]] = 0;
        h->names[k] = p;
        h->lens[k] = rec->len[k];
        p += rec->len[k] + 1;
    }
    h->n = rec->nfields;
    h->line = rec->line;
    h->sep = sep;
    h->ok = 1;
    return GF_OK;
}

int gf_reader_header(const gf_reader *r, int i, const char *const **names, const size_t **lens, int *n, char *sep)
{
    if (i < 0 || i >= r->n || !r->hdr[i].ok) return 0;
    const rd_header *h = &r->hdr[i];
    *names = h->names;
    *lens = h->lens;
    *n = h->n;
    if (sep) *sep = h->sep;
    return 1;
}

gf_status gf_reader_open(gf_ctx *ctx, const char *const *paths, int npaths, const gf_reader_opts *opts,
                         gf_reader **out)
{
    if (npaths <= 0) return gf_ctx_err(ctx, GF_ERR_ARG, "no input");
    gf_reader *r = calloc(1, sizeof *r);
    if (!r) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    r->paths = paths;
    r->n = npaths;
    r->cur = -1;
    r->stdin_idx = -1;
    if (opts) r->o = *opts;
    r->maps = calloc((size_t)npaths, sizeof *r->maps);
    r->opened = calloc((size_t)npaths, sizeof *r->opened);
    r->warned_enc = calloc((size_t)npaths, sizeof *r->warned_enc);
    r->lang_field = calloc((size_t)npaths, sizeof *r->lang_field);
    r->hdr = calloc((size_t)npaths, sizeof *r->hdr);
    r->schema = *gf_address_schema();
    if (!r->maps || !r->opened || !r->warned_enc || !r->lang_field || !r->hdr) {
        gf_reader_destroy(r);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    /* total size for the progress bar: known only if every input is a file */
    for (int i = 0; i < npaths; i++) {
        struct stat sb;
        if (strcmp(paths[i], "-") == 0 || stat(paths[i], &sb) != 0 || !S_ISREG(sb.st_mode)) {
            r->total = 0;
            break;
        }
        r->total += (uint64_t)sb.st_size;
    }
    /* Pre-read every header, so that the schema carries every multilingual
     * column of every input and stages see each input's exact columns
     * (gf_reader_header()). Standard input cannot be read twice: its csv
     * stays open, past its header, until the input is reached. */
    for (int i = 0; i < npaths; i++) {
        int is_stdin = strcmp(paths[i], "-") == 0;
        if (is_stdin && r->stdin_idx >= 0) continue; /* "-" twice: the second is empty */
        gf_stream *s;
        gf_csv *c;
        gf_csv_record hdr;
        gf_header_map m;
        if (gf_stream_open(ctx, paths[i], &s) != GF_OK) continue; /* reported when reached */
        if (gf_csv_open(ctx, s, &r->o.csv, &c) != GF_OK) continue;
        gf_status st = gf_csv_next(c, ctx, &hdr);
        if (st == GF_OK && !hdr.error) {
            if (keep_header(r, i, &hdr, gf_csv_sep(c)) != GF_OK) {
                gf_csv_close(c);
                gf_reader_destroy(r);
                return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            }
            if (gf_header_map_address(ctx, &hdr, &m) == GF_OK)
                for (int k = 0; k < m.nlang; k++) {
                    if (gf_schema_find(&r->schema, m.lang_name[k]) >= 0 || r->schema.nfields >= GF_MAX_FIELDS - 12)
                        continue;
                    char *slot = r->names[r->schema.nfields];
                    snprintf(slot, sizeof r->names[0], "%s", m.lang_name[k]);
                    gf_schema_add(&r->schema, slot, GF_T_STRING, NULL);
                }
        }
        if (!is_stdin) {
            gf_csv_close(c);
            continue;
        }
        /* what open_input() would have said about this header */
        r->stdin_csv = c;
        r->stdin_idx = i;
        r->stdin_st = st == GF_DONE ? GF_ERR_SCHEMA : st ? st : hdr.error ? GF_ERR_SCHEMA : GF_OK;
        if (st == GF_DONE) snprintf(r->stdin_msg, sizeof r->stdin_msg, "%s: empty file (no header)", paths[i]);
        else if (st) snprintf(r->stdin_msg, sizeof r->stdin_msg, "%s", gf_ctx_errmsg(ctx));
        else if (hdr.error)
            snprintf(r->stdin_msg, sizeof r->stdin_msg, "%s:%llu: header: %s", paths[i], (unsigned long long)hdr.line, hdr.error);
    }
    gf_ctx_err(ctx, GF_OK, "%s", ""); /* errors of the pre-read are reported again when reached */
    *out = r;
    return GF_OK;
}

const gf_schema *gf_reader_schema(const gf_reader *r) { return &r->schema; }

void gf_reader_progress(const gf_reader *r, uint64_t *done, uint64_t *total)
{
    *done = atomic_load_explicit(&((gf_reader *)r)->done, memory_order_relaxed);
    *total = r->total;
}

void gf_reader_destroy(gf_reader *r)
{
    if (!r) return;
    gf_csv_close(r->csv);
    gf_csv_close(r->stdin_csv);
    for (int i = 0; r->hdr && i < r->n; i++) {
        free(r->hdr[i].buf);
        free(r->hdr[i].names);
        free(r->hdr[i].lens);
    }
    free(r->hdr);
    free(r->maps);
    free(r->opened);
    free(r->warned_enc);
    free(r->lang_field);
    free(r);
}

uint64_t gf_reader_rows(const gf_reader *r) { return r->rows; }
int gf_reader_count(const gf_reader *r) { return r->n; }
const char *gf_reader_path(const gf_reader *r, int i) { return (i >= 0 && i < r->n) ? r->paths[i] : "?"; }
gf_layout gf_reader_layout(const gf_reader *r, int i)
{
    return (i >= 0 && i < r->n && r->opened[i]) ? r->maps[i].layout : GF_LAYOUT_UNKNOWN;
}

/* Opens input i and maps its header. */
static gf_status open_input(gf_reader *r, gf_ctx *ctx, int i)
{
    gf_csv_record hdr;
    gf_status st;
    if (i == r->stdin_idx && r->stdin_csv) { /* opened by gf_reader_open(), header read */
        r->csv = r->stdin_csv;
        r->stdin_csv = NULL;
        if (r->stdin_st) return gf_ctx_err(ctx, r->stdin_st, "%s", r->stdin_msg);
        const rd_header *h = &r->hdr[i];
        memset(&hdr, 0, sizeof hdr);
        hdr.line = h->line;
        hdr.nfields = h->n;
        for (int k = 0; k < h->n; k++) { hdr.field[k] = h->names[k]; hdr.len[k] = h->lens[k]; }
    } else {
        gf_stream *s;
        if ((st = gf_stream_open(ctx, r->paths[i], &s))) return st;
        if ((st = gf_csv_open(ctx, s, &r->o.csv, &r->csv))) return st;
        st = gf_csv_next(r->csv, ctx, &hdr);
        if (st == GF_DONE) return gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s: empty file (no header)", r->paths[i]);
        if (st) return st;
        if (hdr.error) return gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s:%llu: header: %s", r->paths[i],
                                         (unsigned long long)hdr.line, hdr.error);
    }
    st = gf_header_map_address(ctx, &hdr, &r->maps[i]);
    if (st) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s:%llu: %s", r->paths[i], (unsigned long long)hdr.line, gf_ctx_errmsg(ctx));
        return gf_ctx_err(ctx, st, "%s", msg);
    }
    r->opened[i] = 1;
    for (int k = 0; k < 16; k++) r->lang_field[i][k] = -1;
    for (int k = 0; k < r->maps[i].nlang; k++) {
        r->lang_field[i][k] = gf_schema_find(&r->schema, r->maps[i].lang_name[k]);
        if (r->lang_field[i][k] < 0)
            gf_ctx_log(ctx, GF_LOG_INFO, "%s: column %s not carried (too many columns)",
                       r->paths[i], r->maps[i].lang_name[k]);
    }
    gf_ctx_log(ctx, GF_LOG_INFO, "%s: %s, separator '%s'%s", r->paths[i], gf_layout_name(r->maps[i].layout),
               gf_csv_sep(r->csv) == '\t' ? "\\t" : (char[]){gf_csv_sep(r->csv), 0},
               gf_csv_had_bom(r->csv) ? ", UTF-8 BOM" : "");
    if (r->maps[i].unknown[0])
        gf_ctx_log(ctx, GF_LOG_INFO, "%s: columns not carried to the output: %s", r->paths[i], r->maps[i].unknown);
    return GF_OK;
}

static int all_empty(const gf_csv_record *rec, int from)
{
    for (int i = from; i < rec->nfields; i++)
        for (size_t k = 0; k < rec->len[i]; k++)
            if (rec->field[i][k] != ' ') return 0;
    return 1;
}

/* The legacy BAN extract has no cle_interop (its `id` is an IGN id) but it
 * has every part of one: INSEE_VOIE_NUMERO[_suffixe], lower case. */
static gf_status derive_cle_interop(gf_batch *b, size_t row)
{
    const gf_col *c = b->cols;
    if (!c[GF_A_COMMUNE_INSEE].valid[row] || !c[GF_A_ID_FANTOIR].valid[row] || !c[GF_A_NUMERO].valid[row])
        return GF_OK;
    gf_sref in = c[GF_A_COMMUNE_INSEE].v.s[row], fa = c[GF_A_ID_FANTOIR].v.s[row], nu = c[GF_A_NUMERO].v.s[row];
    if (in.len != 5 || nu.len > 5) return GF_OK;
    /* id_fantoir is the 4-character voie code, or INSEE + voie code */
    const char *fp = b->arena + fa.off;
    size_t fl = fa.len;
    if (fl > 4) { fp += fl - 4; fl = 4; }
    if (fl != 4) return GF_OK;
    char buf[64];
    size_t k = 0;
    memcpy(buf, b->arena + in.off, 5);
    k = 5;
    buf[k++] = '_';
    for (size_t i = 0; i < 4; i++) buf[k++] = (char)((fp[i] >= 'A' && fp[i] <= 'Z') ? fp[i] + 32 : fp[i]);
    buf[k++] = '_';
    for (size_t i = nu.len; i < 5; i++) buf[k++] = '0';
    for (size_t i = 0; i < nu.len; i++) {
        char ch = b->arena[nu.off + i];
        if (ch < '0' || ch > '9') return GF_OK;
        buf[k++] = ch;
    }
    if (c[GF_A_SUFFIXE].valid[row]) {
        gf_sref su = c[GF_A_SUFFIXE].v.s[row];
        if (su.len == 0 || su.len > 9) return GF_OK;
        buf[k++] = '_';
        for (size_t i = 0; i < su.len; i++) {
            char ch = b->arena[su.off + i];
            buf[k++] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
        }
    }
    return gf_batch_set_str(b, GF_A_CLE_INTEROP, row, buf, k);
}

gf_status gf_reader_next(gf_reader *r, gf_ctx *ctx, gf_batch *b)
{
    gf_status st;
    char reason[256];
    /* the batch must have every column of the reader's schema (a batch
     * built from gf_address_schema() lacks the multilingual ones) */
    if ((st = gf_batch_expect(b, ctx, &r->schema, 0, GF_COL_TEXT, "reader"))) return st;
    while (b->n + b->nrej < b->cap) {
        if (!r->csv) {
            if (r->cur + 1 >= r->n) break;
            r->cur++;
            if ((st = open_input(r, ctx, r->cur))) return st;
        }
        gf_csv_record rec;
        st = gf_csv_next(r->csv, ctx, &rec);
        if (st == GF_DONE) {
            r->done_before += gf_stream_size(gf_csv_stream(r->csv));
            atomic_store_explicit(&r->done, r->done_before, memory_order_relaxed);
            gf_csv_close(r->csv);
            r->csv = NULL;
            continue;
        }
        if (st) return st;
        uint32_t src = (uint32_t)r->cur;
        const gf_header_map *m = &r->maps[r->cur];
        r->rows++;
        if (rec.transcoded && !r->warned_enc[r->cur]) {
            r->warned_enc[r->cur] = 1;
            gf_ctx_logc(ctx, GF_LOG_WARN, "file.encoding.non_standard",
                       "%s:%llu: not UTF-8: read as Windows-1252 and converted (file.encoding.non_standard)",
                       r->paths[r->cur], (unsigned long long)rec.line);
        }
        if (rec.error) {
            if (rec.error_col)
                snprintf(reason, sizeof reason, "parse: column %d: %s", rec.error_col, rec.error);
            else
                snprintf(reason, sizeof reason, "parse: %s", rec.error);
            if ((st = gf_batch_reject_raw(b, rec.line, src, rec.raw, rec.rawlen, reason))) return st;
            continue;
        }
        if (rec.nfields != m->ncols && !(rec.nfields > m->ncols && all_empty(&rec, m->ncols))) {
            /* a short row may only lack trailing columns that the header has but are empty */
            int short_ok = rec.nfields < m->ncols;
            for (int i = rec.nfields; short_ok && i < m->ncols; i++) short_ok = m->col_field[i] < 0;
            if (!short_ok) {
                snprintf(reason, sizeof reason, "parse: column %d: the row has %d fields, the header has %d",
                         (rec.nfields < m->ncols ? rec.nfields : m->ncols) + 1, rec.nfields, m->ncols);
                if ((st = gf_batch_reject_raw(b, rec.line, src, rec.raw, rec.rawlen, reason))) return st;
                continue;
            }
        }
        long row = gf_batch_add_row(b, rec.line, src);
        if (row < 0) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "batch overflow");
        if ((st = gf_batch_intern(b, rec.raw, rec.rawlen, &b->raw[row]))) return st;
        if (rec.transcoded) b->flags[row] |= GF_ROW_TRANSCODED;
        int nf = rec.nfields < m->ncols ? rec.nfields : m->ncols;
        for (int i = 0; i < nf; i++) {
            int f = m->col_field[i];
            if (f < 0) continue;
            const char *p = rec.field[i];
            size_t len = rec.len[i];
            /* Exact text: validation must see outer blanks; typing trims. */
            if (len == 0) continue; /* empty = absent */
            if ((st = gf_batch_set_str(b, f, (size_t)row, p, len))) return st;
        }
        if (m->layout == GF_LAYOUT_BAN_LEGACY && (st = derive_cle_interop(b, (size_t)row))) return st;
        for (int k = 0; k < m->nlang; k++) {
            int col = m->lang_col[k], f = r->lang_field[r->cur][k];
            if (f < 0 || col >= nf || rec.len[col] == 0) continue;
            if ((st = gf_batch_set_str(b, f, (size_t)row, rec.field[col], rec.len[col]))) return st;
        }
    }
    if (r->csv)
        atomic_store_explicit(&r->done, r->done_before + gf_stream_offset(gf_csv_stream(r->csv)),
                              memory_order_relaxed);
    return (b->n + b->nrej) ? GF_OK : GF_DONE;
}

static gf_status src_next(void *st, gf_ctx *ctx, gf_batch *b) { return gf_reader_next(st, ctx, b); }
static uint64_t src_rows(void *st) { return gf_reader_rows(st); }

const gf_source_vt gf_reader_source_vt = {
    .name = "reader",
    .next = src_next,
    .rows_read = src_rows,
};
