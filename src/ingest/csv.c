/* Hand-written streaming CSV tokenizer (RFC 4180 quoting, ';' ',' or tab
 * detected from the header, LF / CRLF / CR line breaks, UTF-8 BOM).
 *
 * Why by hand: it is the hottest loop of the engine and it must keep the raw
 * record (for rejects), physical line numbers (for messages) and decide
 * the encoding per record; libcsv-style callbacks would cost a copy per field.
 *
 * Memory is bounded by the read chunk plus the longest record: the buffer
 * holds the unread tail of the previous chunk and the next chunk. A record
 * that does not fit in max_record is read to its end all the same (quotes
 * followed, lines counted, bytes counted but not kept) and reported as ONE
 * malformed record that says its length and keeps its first max_record
 * bytes: it must not become several rows nor shift the next line numbers.
 *
 * Encoding (GF_ENC_AUTO): valid UTF-8 is never re-decoded; only the bytes
 * that do not form a UTF-8 sequence are read as Windows-1252, so one stray
 * byte does not double-encode the rest of its record. A NUL byte makes the
 * record malformed (it would cut the value short in any C consumer).
 *
 * The first bytes are looked at before anything is tokenized: a GeoJSON,
 * GeoPackage, zip (zipped shapefile, spreadsheet) or other binary file given
 * where CSV is expected is refused with one message that names it, instead
 * of a flood of "field missing" warnings and "too many fields" rejects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/swar.h"
#include "geoflux/ingest.h"

struct gf_csv {
    gf_stream *s;
    gf_csv_opts o;
    char *buf;         /* [pos, end) is unread input */
    size_t pos, end, cap;
    int eof, started, had_bom, saw_cr, seen_header_sep, sniffed;
    char sep;
    uint64_t line;     /* physical line of buf[pos] */
    uint64_t transcoded;
    char *scratch;     /* unescaped quoted fields */
    size_t scap;
    char *tbuf;        /* record transcoded from Windows-1252 */
    size_t tcap;
    char *lbuf;        /* first max_record bytes of an over-long record */
    char msg[192];     /* rec->error of an over-long record */
};

/* Windows-1252 0x80..0x9F to Unicode; other bytes map to themselves (Latin-1). */
static const unsigned short cp1252_hi[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

/* Length of the valid UTF-8 sequence (no overlong, no surrogate) that
 * starts p[0] of [p, p+n), n >= 1; 0 if none does. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t k;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) { k = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { k = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 3; cp = c & 0x07; }
    else return 0;
    if (k >= n) return 0;
    for (size_t j = 1; j <= k; j++) {
        if ((p[j] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[j] & 0x3F);
    }
    if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return k + 1;
}

/* 1 if [p, p+n) is valid UTF-8. */
static int utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= n) break;
        size_t k = utf8_seq(p + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

gf_status gf_csv_open(gf_ctx *ctx, gf_stream *s, const gf_csv_opts *opts, gf_csv **out)
{
    gf_csv *c = calloc(1, sizeof *c);
    if (!c) {
        gf_stream_close(s);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    c->s = s;
    if (opts) c->o = *opts;
    if (!c->o.chunk) c->o.chunk = 256 * 1024;
    if (!c->o.max_record) c->o.max_record = 1024 * 1024;
    c->cap = c->o.chunk + c->o.max_record;
    c->buf = malloc(c->cap + 1);
    c->scap = 2 * c->cap + 1; /* an escaped field may be copied twice */
    c->scratch = malloc(c->scap);
    c->sep = c->o.sep;
    c->line = 1;
    if (!c->buf || !c->scratch) {
        gf_csv_close(c);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    *out = c;
    return GF_OK;
}

gf_stream *gf_csv_stream(gf_csv *c) { return c->s; }

void gf_csv_close(gf_csv *c)
{
    if (!c) return;
    gf_stream_close(c->s);
    free(c->buf);
    free(c->scratch);
    free(c->tbuf);
    free(c->lbuf);
    free(c);
}

char gf_csv_sep(const gf_csv *c) { return c->sep ? c->sep : ';'; }
int gf_csv_had_bom(const gf_csv *c) { return c->had_bom; }
int gf_csv_saw_cr_only(const gf_csv *c) { return c->saw_cr; }
uint64_t gf_csv_transcoded(const gf_csv *c) { return c->transcoded; }

/* Moves unread bytes to the front and reads one more chunk. */
static gf_status refill(gf_csv *c, gf_ctx *ctx)
{
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->end - c->pos);
        c->end -= c->pos;
        c->pos = 0;
    }
    size_t room = c->cap - c->end;
    if (room == 0) return GF_OK; /* record longer than the buffer: caller handles */
    size_t got = 0;
    gf_status st = gf_stream_read(c->s, ctx, c->buf + c->end, room < c->o.chunk ? room : c->o.chunk, &got);
    if (st) return st;
    if (got == 0) c->eof = 1;
    c->end += got;
    if (!c->started && (c->end >= 3 || c->eof)) {
        c->started = 1;
        if (c->end >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0) {
            c->had_bom = 1;
            c->pos = 3;
        }
    }
    return GF_OK;
}

/* Picks the separator with the most occurrences outside quotes in the first line. */
static char detect_sep(const char *p, const char *e)
{
    int n[3] = {0, 0, 0}, q = 0;
    for (; p < e; p++) {
        if (*p == '"') q = !q;
        else if (!q && (*p == '\n' || *p == '\r')) break;
        else if (!q && *p == ';') n[0]++;
        else if (!q && *p == ',') n[1]++;
        else if (!q && *p == '\t') n[2]++;
    }
    if (n[1] > n[0] && n[1] >= n[2]) return ',';
    if (n[2] > n[0] && n[2] > n[1]) return '\t';
    return ';';
}

/* What the first bytes say a file is when it is not CSV; NULL for text.
 * [p, e) starts after the BOM and holds the first line at least (or the
 * first 4 KiB). Signatures after gzip decompression, so a .geojson.gz is
 * named as well. */
static const char *not_csv(const unsigned char *p, const unsigned char *e)
{
    static const struct { const char *magic; size_t n; const char *what; } sig[] = {
        {"SQLite format 3", 16, "a GeoPackage or SQLite database"},
        {"PK\x03\x04", 4, "a zip archive (a zipped shapefile, a spreadsheet...)"},
        {"PK\x05\x06", 4, "a zip archive (empty)"},
        {"\x00\x00\x27\x0a", 4, "an ESRI Shapefile (.shp)"},
        {"fgb\x03", 4, "a FlatGeobuf file"},
        {"PAR1", 4, "a Parquet file"},
        {"%PDF-", 5, "a PDF document"},
        {"\xD0\xCF\x11\xE0", 4, "an Excel 97 (.xls) or other OLE file"},
        {"\x1f\x8b", 2, "gzip data inside gzip"},
        {"BZh", 3, "bzip2-compressed data (only gzip is read)"},
        {"\xFD" "7zXZ", 5, "xz-compressed data (only gzip is read)"},
        {"\x28\xB5\x2F\xFD", 4, "zstd-compressed data (only gzip is read)"},
        {"7z\xBC\xAF", 4, "a 7-Zip archive"},
        {"\xFF\xFE", 2, "UTF-16 text (only UTF-8 and Windows-1252 are read)"},
        {"\xFE\xFF", 2, "UTF-16 text (only UTF-8 and Windows-1252 are read)"},
    };
    size_t n = (size_t)(e - p);
    for (size_t i = 0; i < sizeof sig / sizeof *sig; i++)
        if (n >= sig[i].n && memcmp(p, sig[i].magic, sig[i].n) == 0) return sig[i].what;
    const unsigned char *q = p;
    while (q < e && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
    if (q < e && (*q == '{' || *q == '[')) {
        const unsigned char *r = q + 1;
        while (r < e && (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')) r++;
        if (r < e && (*q == '{' ? (*r == '"' || *r == '}') : (*r == '{' || *r == '[' || *r == ']')))
            return "a JSON or GeoJSON file";
    }
    if (q < e && *q == '<' && e - q >= 4 &&
        (memcmp(q, "<?xm", 4) == 0 || memcmp(q, "<kml", 4) == 0 || memcmp(q, "<gpx", 4) == 0 ||
         memcmp(q, "<!DO", 4) == 0 || memcmp(q, "<htm", 4) == 0 || memcmp(q, "<HTM", 4) == 0))
        return "an XML or HTML file (KML, GPX, GML...)";
    /* control bytes in the first line: binary data of some other kind */
    for (q = p; q < e && *q != '\n'; q++)
        if (*q < 0x20 && *q != '\t' && *q != '\r') return "binary data";
    return NULL;
}

static gf_status sniff(gf_csv *c, gf_ctx *ctx)
{
    const unsigned char *p = (const unsigned char *)c->buf + c->pos, *e = (const unsigned char *)c->buf + c->end;
    const char *what = not_csv(p, e);
    if (!what) return GF_OK;
    const char *path = gf_stream_path(c->s);
    int named = strcmp(path, "<stdin>") != 0;
    return gf_ctx_err(ctx, GF_ERR_SCHEMA,
                      "%s: %s, not a CSV file: only CSV (BAL, BAN, SCDL) is read; export it to CSV first%s%s%s",
                      path, what, named ? " (for example: ogr2ogr -f CSV -lco GEOMETRY=AS_XY out.csv " : "",
                      named ? path : "", named ? ")" : "");
}

enum { TOK_OK, TOK_MORE, TOK_ERR };

/* Tokenizes one record from [p, e). at_eof: no more input follows.
 * Fills rec fields (pointing into p's buffer or c->scratch), *used (bytes of
 * the record including its terminator), *lines (line breaks consumed). */
static int tokenize(gf_csv *c, const char *p, const char *e, int at_eof, gf_csv_record *rec,
                    size_t *used, uint64_t *lines, size_t *rawlen)
{
    const char *start = p;
    char sep = c->sep;
    size_t so = 0; /* scratch offset */
    uint64_t nl = 0;
    rec->nfields = 0;
    rec->error = NULL;
    rec->error_kind = GF_CSV_ERR_NONE;
    rec->error_col = 0;
    for (;;) {
        if (rec->nfields >= GF_CSV_MAX_FIELDS) {
            rec->error = "too many fields";
            rec->error_kind = GF_CSV_ERR_FIELDS;
            rec->error_col = GF_CSV_MAX_FIELDS + 1;
            /* skip to the end of the line */
            while (p < e && *p != '\n' && *p != '\r') p++;
            if (p >= e && !at_eof) return TOK_MORE;
            *rawlen = (size_t)(p - start);
            if (p < e && *p == '\r') { p++; if (p < e && *p == '\n') p++; else if (p >= e && !at_eof) return TOK_MORE; }
            else if (p < e) p++;
            *used = (size_t)(p - start);
            *lines = nl + 1;
            return TOK_ERR;
        }
        int fi = rec->nfields;
        if (p < e && *p == '"') {
            const char *q = ++p;
            int esc = 0;
            for (;;) {
                const char *qq = memchr(q, '"', (size_t)(e - q));
                if (!qq) {
                    if (!at_eof) return TOK_MORE;
                    /* Reject the first physical line only and resume after
                     * it: a stray quote must not swallow the rest of the file. */
                    rec->error = "unterminated quoted field";
                    rec->error_kind = GF_CSV_ERR_QUOTE;
                    rec->error_col = fi + 1;
                    const char *eol = memchr(start, '\n', (size_t)(e - start));
                    const char *stop = eol ? eol : e;
                    *rawlen = (size_t)(stop - start) - (stop > start && stop[-1] == '\r');
                    *used = (size_t)(stop - start) + (eol != NULL);
                    *lines = 1;
                    return TOK_ERR;
                }
                if (qq + 1 >= e && !at_eof) return TOK_MORE;
                if (qq + 1 < e && qq[1] == '"') { esc = 1; q = qq + 2; continue; }
                q = qq;
                break;
            }
            for (const char *t = p; t < q; t++) nl += *t == '\n';
            if (!esc) {
                rec->field[fi] = p;
                rec->len[fi] = (size_t)(q - p);
            } else {
                char *o = c->scratch + so;
                size_t k = 0;
                for (const char *t = p; t < q; t++) {
                    o[k++] = *t;
                    if (*t == '"') t++;
                }
                rec->field[fi] = o;
                rec->len[fi] = k;
                so += k;
            }
            p = q + 1;
            if (p < e && *p != sep && *p != '\n' && *p != '\r') {
                /* Text after the closing quote: keep it (as spreadsheets do) but
                 * only when it is unquoted text; e.g. "ab"cd -> abcd. */
                const char *t = p;
                while (t < e && *t != sep && *t != '\n' && *t != '\r') t++;
                if (t >= e && !at_eof) return TOK_MORE;
                char *o = c->scratch + so;
                memcpy(o, rec->field[fi], rec->len[fi]);
                memcpy(o + rec->len[fi], p, (size_t)(t - p));
                rec->field[fi] = o;
                rec->len[fi] += (size_t)(t - p);
                so += rec->len[fi];
                p = t;
            }
        } else {
            const char *f = p;
            /* Most bytes read are in unquoted fields: 8 at a time
             * (core/swar.h) while 8 remain, this byte loop (three tests a
             * byte, the costliest line of reading) for the rest. */
            for (;;) {
                if (e - p < 8) {
                    while (p < e && *p != sep && *p != '\n' && *p != '\r') p++;
                    break;
                }
                uint64_t x = gf_swar_le(gf_swar_load(p));
                uint64_t m = gf_swar_eq(x, (unsigned char)sep) | gf_swar_eq(x, '\n') | gf_swar_eq(x, '\r');
                if (m) {
                    p += gf_swar_first(m);
                    break;
                }
                p += 8;
            }
            rec->field[fi] = f;
            rec->len[fi] = (size_t)(p - f);
        }
        rec->nfields++;
        if (p >= e) {
            if (!at_eof) return TOK_MORE;
            *rawlen = (size_t)(p - start);
            *used = (size_t)(p - start);
            *lines = nl;
            return TOK_OK;
        }
        if (*p == sep) { p++; continue; }
        /* line break */
        *rawlen = (size_t)(p - start);
        if (*p == '\r') {
            if (p + 1 >= e && !at_eof) return TOK_MORE;
            if (p + 1 < e && p[1] == '\n') p += 2;
            else { p++; c->saw_cr = 1; }
        } else {
            p++;
        }
        *used = (size_t)(p - start);
        *lines = nl + 1;
        return TOK_OK;
    }
}

static int is_blank_line(const char *p, const char *e)
{
    return p < e && (*p == '\n' || *p == '\r');
}

/* Converts [p, p+n) to UTF-8 in c->tbuf, *out bytes: every byte from
 * Windows-1252 when all is 1, else only the bytes that are not part of a
 * valid UTF-8 sequence (valid UTF-8 is copied as it is). The length is
 * returned, not found with strlen(): a NUL byte must not cut the record. */
static gf_status transcode(gf_csv *c, gf_ctx *ctx, const char *p, size_t n, int all, size_t *out)
{
    if (c->tcap < n * 3 + 1) {
        free(c->tbuf);
        c->tcap = n * 3 + 1;
        c->tbuf = malloc(c->tcap);
        if (!c->tbuf) { c->tcap = 0; return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    }
    const unsigned char *u = (const unsigned char *)p;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t q = all || u[i] < 0x80 ? (u[i] < 0x80) : utf8_seq(u + i, n - i);
        if (q) {
            memcpy(c->tbuf + k, p + i, q);
            k += q;
            i += q;
            continue;
        }
        unsigned ch = u[i++];
        k += put_utf8(c->tbuf + k, ch < 0xA0 ? cp1252_hi[ch - 0x80] : ch);
    }
    c->tbuf[k] = 0;
    *out = k;
    return GF_OK;
}

/* Marks rec malformed when one of its fields holds a NUL byte. */
static void check_nul(gf_csv_record *rec)
{
    if (rec->error || !memchr(rec->raw, 0, rec->rawlen)) return;
    for (int i = 0; i < rec->nfields; i++)
        if (memchr(rec->field[i], 0, rec->len[i])) {
            rec->error = "NUL byte (0x00) in the value";
            rec->error_kind = GF_CSV_ERR_NUL;
            rec->error_col = i + 1;
            return;
        }
    rec->error = "NUL byte (0x00) in the record"; /* in a separator position: cannot happen, kept safe */
    rec->error_kind = GF_CSV_ERR_NUL;
}

/* Reads an over-long record starting at c->pos to its end without keeping
 * it: follows the tokenizer's quoting rules, counts its bytes and its
 * physical lines, keeps its first bytes (what the buffer holds) for the
 * reject. Memory stays bounded by the buffer. A line break inside quotes
 * ends it too: past the limit, an open quote is more likely a stray one than
 * a field of megabytes, and it must not swallow the rest of the file (the
 * tokenizer's rule for an unterminated quote). */
static gf_status skip_long(gf_csv *c, gf_ctx *ctx, gf_csv_record *rec)
{
    size_t keep = c->end - c->pos < c->o.max_record ? c->end - c->pos : c->o.max_record;
    if (!c->lbuf && !(c->lbuf = malloc(c->cap + 1))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    memcpy(c->lbuf, c->buf + c->pos, keep);
    rec->nfields = 0;
    rec->line = c->line;
    rec->raw = c->lbuf;
    rec->rawlen = keep;
    rec->transcoded = 0;
    rec->error_col = 0;
    uint64_t total = 0, lines = 0;
    /* tokenizer state: at a field start, inside quotes, just after a quote */
    int fstart = 1, inq = 0, afterq = 0, cr = 0, done = 0, open_quote = 0;
    gf_status st;
    while (!done) {
        size_t i = c->pos;
        for (; i < c->end && !done; i++) {
            char ch = c->buf[i];
            if (cr) { /* the record ended with CR: a LF right after belongs to it */
                if (ch != '\n') c->saw_cr = 1, i--;
                done = 1;
                continue;
            }
            total++;
            if (inq) {
                if (ch == '"') inq = 0, afterq = 1;
                else if (ch == '\n' && total > c->o.max_record) { total--; done = open_quote = 1; }
                else lines += ch == '\n';
                continue;
            }
            if (afterq && ch == '"') { inq = 1; afterq = 0; continue; } /* "" inside quotes */
            afterq = 0;
            if (fstart && ch == '"') { inq = 1; fstart = 0; continue; }
            fstart = 0;
            if (ch == c->sep) fstart = 1;
            else if (ch == '\n') { total--; done = 1; }
            else if (ch == '\r') { total--; cr = 1; }
        }
        c->pos = i;
        if (done) break;
        if (c->eof) { c->saw_cr |= cr; break; } /* the record ends the input */
        if ((st = refill(c, ctx))) return st;
    }
    c->line += lines + 1;
    snprintf(c->msg, sizeof c->msg,
             "record too long: %llu bytes, more than the maximum record size (%zu bytes)%s; "
             "raw text cut to its first %zu bytes",
             (unsigned long long)total, c->o.max_record,
             open_quote ? ", cut at the end of its line in a quoted field still open" : "",
             keep < total ? keep : (size_t)total);
    if (rec->rawlen > total) rec->rawlen = (size_t)total;
    rec->error = c->msg;
    rec->error_kind = GF_CSV_ERR_TOO_LONG;
    return GF_OK;
}

gf_status gf_csv_next(gf_csv *c, gf_ctx *ctx, gf_csv_record *rec)
{
    gf_status st;
    for (;;) {
        if (c->pos >= c->end) {
            if (c->eof) return GF_DONE;
            if ((st = refill(c, ctx))) return st;
            continue;
        }
        if (!c->sniffed) {
            /* the first line, or 4 KiB of it, before anything is read as CSV */
            if (!c->eof && c->end < c->cap && c->end - c->pos < 4096 &&
                !memchr(c->buf + c->pos, '\n', c->end - c->pos)) {
                if ((st = refill(c, ctx))) return st;
                continue;
            }
            c->sniffed = 1;
            if ((st = sniff(c, ctx))) return st;
        }
        /* skip blank lines */
        const char *p = c->buf + c->pos, *e = c->buf + c->end;
        if (is_blank_line(p, e)) {
            if (*p == '\r' && p + 1 >= e && !c->eof) { if ((st = refill(c, ctx))) return st; continue; }
            if (*p == '\r' && p + 1 < e && p[1] == '\n') c->pos += 2;
            else { if (*p == '\r') c->saw_cr = 1; c->pos += 1; }
            c->line++;
            continue;
        }
        if (!c->sep) {
            /* need the whole first line to detect the separator */
            const char *nlp = memchr(p, '\n', (size_t)(e - p));
            if (!nlp && !c->eof && c->end < c->cap) { if ((st = refill(c, ctx))) return st; continue; }
            c->sep = detect_sep(p, e);
        }
        size_t used = 0, rawlen = 0;
        uint64_t lines = 0;
        int r = tokenize(c, p, e, c->eof, rec, &used, &lines, &rawlen);
        if (r == TOK_MORE) {
            if (c->end - c->pos >= c->o.max_record) return skip_long(c, ctx, rec);
            if ((st = refill(c, ctx))) return st;
            continue;
        }
        rec->line = c->line;
        rec->raw = p;
        rec->rawlen = rawlen;
        rec->transcoded = 0;
        int force_latin1 = c->o.encoding == GF_ENC_LATIN1;
        if ((force_latin1 || c->o.encoding == GF_ENC_AUTO) &&
            (force_latin1 ? 1 : !utf8_valid((const unsigned char *)p, rawlen))) {
            int ascii = 1;
            for (size_t i = 0; i < rawlen && ascii; i++) ascii = (unsigned char)p[i] < 0x80;
            if (!ascii) {
                size_t tl = 0;
                if ((st = transcode(c, ctx, p, rawlen, force_latin1, &tl))) return st;
                if (c->scap < 2 * tl + 1) {
                    char *ns = realloc(c->scratch, 2 * tl + 1);
                    if (!ns) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                    c->scratch = ns;
                    c->scap = 2 * tl + 1;
                }
                size_t u2, rl2;
                uint64_t l2;
                tokenize(c, c->tbuf, c->tbuf + tl, 1, rec, &u2, &l2, &rl2);
                rec->raw = c->tbuf;
                rec->rawlen = tl;
                rec->transcoded = 1;
                c->transcoded++;
            }
        }
        check_nul(rec);
        c->pos += used;
        c->line += lines;
        (void)r;
        return GF_OK;
    }
}
