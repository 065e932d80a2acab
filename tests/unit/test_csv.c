/* Tokenizer and stream tests, including malformed input. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "geoflux/ingest.h"
#include "gf_test.h"

static char tmpdir[256];

static const char *write_file(const char *name, const char *data, size_t n, int gz)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    if (gz) {
        gzFile g = gzopen(path, "wb");
        gzwrite(g, data, (unsigned)n);
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(data, 1, n, f);
        fclose(f);
    }
    return path;
}

typedef struct rows { int n; char f[16][8][64]; int nf[16]; uint64_t line[16]; const char *err[16]; int tc[16];
                     char errbuf[16][256]; /* rec.error is borrowed until the next call: copied */ } rows;

static int read_all(gf_ctx *ctx, const char *path, const gf_csv_opts *o, rows *out, char *sep)
{
    gf_stream *s;
    gf_csv *c;
    memset(out, 0, sizeof *out);
    if (gf_stream_open(ctx, path, &s)) return -1;
    if (gf_csv_open(ctx, s, o, &c)) return -1;
    gf_csv_record r;
    gf_status st;
    while ((st = gf_csv_next(c, ctx, &r)) == GF_OK && out->n < 16) {
        out->nf[out->n] = r.nfields;
        out->line[out->n] = r.line;
        if (r.error) snprintf(out->errbuf[out->n], sizeof out->errbuf[0], "%s", r.error);
        out->err[out->n] = r.error ? out->errbuf[out->n] : NULL;
        out->tc[out->n] = r.transcoded;
        for (int i = 0; i < r.nfields && i < 8; i++)
            snprintf(out->f[out->n][i], 64, "%.*s", (int)r.len[i], r.field[i]);
        out->n++;
    }
    if (sep) *sep = gf_csv_sep(c);
    gf_csv_close(c);
    return st == GF_DONE ? 0 : -1;
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gf_test_csv_%d", (int)getpid());
    mkdir(tmpdir, 0700);
    gf_ctx *ctx;
    gf_ctx_create(&ctx);
    rows r;
    char sep;

    /* BOM, CRLF, quotes with doubled quotes and an embedded separator and newline */
    const char *a = "\xEF\xBB\xBF" "a;b;c\r\n1;\"x;y\";\"\"\" Le \"\"Grand\"\" \"\"\"\r\n2;\"multi\nline\";z\r\n\r\n3;;\n";
    CHECK(read_all(ctx, write_file("a.csv", a, strlen(a), 0), NULL, &r, &sep) == 0);
    CHECK(sep == ';');
    CHECK(r.n == 4);
    CHECK_STR(r.f[0][0], "a");
    CHECK_STR(r.f[1][1], "x;y");
    CHECK_STR(r.f[1][2], "\" Le \"Grand\" \"");
    CHECK_STR(r.f[2][1], "multi\nline");
    CHECK(r.line[2] == 3);
    CHECK(r.line[3] == 6); /* line 5 was blank, the quoted newline took line 4 */
    CHECK(r.nf[3] == 3 && r.f[3][1][0] == 0);

    /* comma and tab detection; no trailing newline */
    const char *b = "x,y,z\n1,2,3";
    CHECK(read_all(ctx, write_file("b.csv", b, strlen(b), 0), NULL, &r, &sep) == 0);
    CHECK(sep == ',' && r.n == 2 && r.nf[1] == 3);
    CHECK_STR(r.f[1][2], "3");
    const char *t = "x\ty\n1\t2\n";
    CHECK(read_all(ctx, write_file("t.csv", t, strlen(t), 0), NULL, &r, &sep) == 0);
    CHECK(sep == '\t' && r.nf[1] == 2);

    /* Latin-1 record transcoded; UTF-8 record untouched */
    const char *l = "voie;n\nall\xE9" "e;1\nall\xC3\xA9" "e;2\n";
    CHECK(read_all(ctx, write_file("l.csv", l, strlen(l), 0), NULL, &r, NULL) == 0);
    CHECK_STR(r.f[1][0], "all\xC3\xA9" "e");
    CHECK(r.tc[1] == 1 && r.tc[2] == 0);
    CHECK_STR(r.f[2][0], "all\xC3\xA9" "e");
    /* Windows-1252 specific: 0x92 is the typographic apostrophe */
    const char *w = "p\ncage d\x92" "escalier\n";
    CHECK(read_all(ctx, write_file("w.csv", w, strlen(w), 0), NULL, &r, NULL) == 0);
    CHECK_STR(r.f[1][0], "cage d\xE2\x80\x99" "escalier");

    /* gzip, detected by magic bytes even with a .csv name */
    CHECK(read_all(ctx, write_file("g.csv", a, strlen(a), 1), NULL, &r, NULL) == 0);
    CHECK(r.n == 4);
    CHECK_STR(r.f[1][1], "x;y");

    /* malformed: unterminated quote at end of input */
    const char *u = "a;b\n1;\"open\n";
    CHECK(read_all(ctx, write_file("u.csv", u, strlen(u), 0), NULL, &r, NULL) == 0);
    CHECK(r.n == 2 && r.err[1] != NULL);

    /* CR-only line breaks */
    const char *cr = "a;b\r1;2\r";
    CHECK(read_all(ctx, write_file("cr.csv", cr, strlen(cr), 0), NULL, &r, NULL) == 0);
    CHECK(r.n == 2 && r.line[1] == 2);

    /* records across chunk boundaries: tiny chunk size */
    gf_csv_opts small = {.chunk = 7, .max_record = 64};
    CHECK(read_all(ctx, write_file("a2.csv", a, strlen(a), 0), &small, &r, NULL) == 0);
    CHECK(r.n == 4);
    CHECK_STR(r.f[1][2], "\" Le \"Grand\" \"");
    CHECK_STR(r.f[2][1], "multi\nline");

    /* a record longer than max_record is reported, the next one is read */
    char big[400];
    memset(big, 'x', sizeof big);
    char longf[600];
    int n = snprintf(longf, sizeof longf, "a;b\n%.*s;1\n2;3\n", 300, big);
    CHECK(read_all(ctx, write_file("long.csv", longf, (size_t)n, 0), &small, &r, NULL) == 0);
    /* ONE reject (it used to be cut into several records), the next line keeps its number */
    CHECK(r.n == 3 && r.err[1] != NULL && r.line[1] == 2);
    CHECK(r.err[1] && strstr(r.err[1], "record too long: 302 bytes") && strstr(r.err[1], "cut to its first 64 bytes"));
    CHECK_STR(r.f[2][0], "2");
    CHECK(r.line[2] == 3);
    /* over-long with a quoted line break (CRLF) within the limit, read to its
     * end as one record: its lines are counted */
    n = snprintf(longf, sizeof longf, "a;b\r\n\"%.*s\n%.*s\";1\r\n2;3\r\n", 10, big, 100, big);
    CHECK(read_all(ctx, write_file("longq.csv", longf, (size_t)n, 0), &small, &r, NULL) == 0);
    CHECK(r.n == 3 && r.err[1] && r.line[1] == 2 && r.line[2] == 4);
    CHECK(r.err[1] && strstr(r.err[1], "115 bytes"));
    CHECK_STR(r.f[2][1], "3");
    /* a stray quote past the limit does not swallow the rest of the file */
    n = snprintf(longf, sizeof longf, "a;b\n\"%.*s;1\n2;3\n4;5\n", 100, big);
    CHECK(read_all(ctx, write_file("longs.csv", longf, (size_t)n, 0), &small, &r, NULL) == 0);
    CHECK(r.n == 4 && r.err[1] && strstr(r.err[1], "quoted field still open") && r.line[2] == 3);
    CHECK_STR(r.f[3][1], "5");
    /* the reject keeps its first max_record bytes */
    {
        gf_stream *ls;
        gf_csv *lc;
        gf_csv_record rec;
        n = snprintf(longf, sizeof longf, "a;b\n%.*s;1\n", 300, big);
        CHECK(gf_stream_open(ctx, write_file("long2.csv", longf, (size_t)n, 0), &ls) == GF_OK);
        CHECK(gf_csv_open(ctx, ls, &small, &lc) == GF_OK);
        CHECK(gf_csv_next(lc, ctx, &rec) == GF_OK && gf_csv_next(lc, ctx, &rec) == GF_OK);
        CHECK(rec.error && rec.rawlen == 64 && memcmp(rec.raw, big, 64) == 0);
        CHECK(gf_csv_next(lc, ctx, &rec) == GF_DONE);
        gf_csv_close(lc);
    }

    /* a NUL byte (here in a Windows-1252 record) rejects the record, it does
     * not cut the value short */
    const char nul[] = "a;b\nr\xE9" "f;A\0B\n2;3\n";
    CHECK(read_all(ctx, write_file("nul.csv", nul, sizeof nul - 1, 0), NULL, &r, NULL) == 0);
    CHECK(r.n == 3 && r.err[1] && strstr(r.err[1], "NUL byte") && r.tc[1] == 1);
    CHECK(r.err[2] == NULL);
    CHECK(read_all(ctx, write_file("nul2.csv", "a;b\nx;A\0B\n", 10, 0), NULL, &r, NULL) == 0);
    CHECK(r.n == 2 && r.err[1] && strstr(r.err[1], "NUL byte"));
    {
        gf_stream *ns;
        gf_csv *nc;
        gf_csv_record rec;
        CHECK(gf_stream_open(ctx, write_file("nul3.csv", "a;b\nx;A\0B\n", 10, 0), &ns) == GF_OK);
        CHECK(gf_csv_open(ctx, ns, NULL, &nc) == GF_OK);
        CHECK(gf_csv_next(nc, ctx, &rec) == GF_OK && gf_csv_next(nc, ctx, &rec) == GF_OK);
        CHECK(rec.error_col == 2 && rec.rawlen == 5);
        gf_csv_close(nc);
    }

    /* one stray Windows-1252 byte: only it is converted, the record's valid
     * UTF-8 is not decoded a second time ("b\xC3\xA2timent", not "bÃ¢timent") */
    const char *st1 = "a;b\nb\xC3\xA2timent;caf\xE9\n";
    CHECK(read_all(ctx, write_file("stray.csv", st1, strlen(st1), 0), NULL, &r, NULL) == 0);
    CHECK_STR(r.f[1][0], "b\xC3\xA2timent");
    CHECK_STR(r.f[1][1], "caf\xC3\xA9");
    CHECK(r.tc[1] == 1);
    /* ...but a file declared Windows-1252 is decoded whole, as asked */
    gf_csv_opts l1 = {.encoding = GF_ENC_LATIN1};
    CHECK(read_all(ctx, write_file("stray2.csv", st1, strlen(st1), 0), &l1, &r, NULL) == 0);
    CHECK_STR(r.f[1][0], "b\xC3\x83\xC2\xA2timent");
    /* a truncated UTF-8 sequence at the end of a field is one stray byte */
    const char *st2 = "a;b\nx\xC3;\xE2\x82\xAC\n";
    CHECK(read_all(ctx, write_file("stray3.csv", st2, strlen(st2), 0), NULL, &r, NULL) == 0);
    CHECK_STR(r.f[1][0], "x\xC3\x83");
    CHECK_STR(r.f[1][1], "\xE2\x82\xAC");

    /* gzip: a file cut short is an error naming the file and the offset, not
     * a quiet end of data (also when the cut falls between records)... */
    {
        char gzp[600], cut[600];
        size_t biglen = 0;
        char *rowsbuf = malloc(200000);
        for (int k = 0; k < 8000; k++) biglen += (size_t)sprintf(rowsbuf + biglen, "%d;%d\n", k, k * 7919 % 10007);
        snprintf(gzp, sizeof gzp, "%s", write_file("full.csv.gz", rowsbuf, biglen, 1));
        FILE *f = fopen(gzp, "rb");
        char *gz = malloc(200000);
        size_t gzn = fread(gz, 1, 200000, f);
        fclose(f);
        for (int cutk = 0; cutk < 3; cutk++) {
            size_t keepn = cutk == 0 ? gzn / 2 : cutk == 1 ? gzn - 8 : 12; /* middle, trailer only, header */
            snprintf(cut, sizeof cut, "%s", write_file("cut.csv.gz", gz, keepn, 0));
            gf_stream *gs;
            gf_csv *gc;
            gf_csv_record rec;
            CHECK(gf_stream_open(ctx, cut, &gs) == GF_OK);
            CHECK(gf_csv_open(ctx, gs, NULL, &gc) == GF_OK);
            gf_status gst;
            int nrec = 0;
            while ((gst = gf_csv_next(gc, ctx, &rec)) == GF_OK) nrec++;
            CHECK(gst == GF_ERR_INPUT);
            CHECK(strstr(gf_ctx_errmsg(ctx), "cut.csv.gz: truncated gzip data") != NULL);
            CHECK(strstr(gf_ctx_errmsg(ctx), "at byte ") != NULL);
            CHECK(cutk == 1 ? nrec == 8000 : nrec < 8000);
            gf_csv_close(gc);
        }
        /* ...and every member of a multi-member gzip file is read */
        f = fopen(gzp, "wb");
        fwrite(gz, 1, gzn, f);
        fwrite(gz, 1, gzn, f);
        fclose(f);
        CHECK(gzn > 20);
        {
            gf_stream *gs;
            gf_csv *gc;
            gf_csv_record rec;
            CHECK(gf_stream_open(ctx, gzp, &gs) == GF_OK);
            CHECK(gf_csv_open(ctx, gs, NULL, &gc) == GF_OK);
            int nrec = 0;
            gf_status gst;
            while ((gst = gf_csv_next(gc, ctx, &rec)) == GF_OK) nrec++;
            CHECK(gst == GF_DONE && nrec == 16000);
            gf_csv_close(gc);
        }
        free(gz);
        free(rowsbuf);
    }

    /* not CSV: refused from the first bytes, naming the file and what it is */
    {
        static const struct { const char *data; size_t n; const char *what; } nc[] = {
            {"SQLite format 3\0\x10\0", 19, "a GeoPackage or SQLite database"},
            {"  {\n  \"type\": \"FeatureCollection\"}", 34, "a JSON or GeoJSON file"},
            {"[{\"a\":1}]", 9, "a JSON or GeoJSON file"},
            {"PK\x03\x04\x14\0\0\0", 8, "a zip archive"},
            {"\0\0\x27\x0a\0\0", 6, "an ESRI Shapefile"},
            {"<?xml version=\"1.0\"?><kml>", 27, "an XML or HTML file"},
            {"\xFF\xFE" "a\0;\0b\0", 8, "UTF-16 text"},
            {"\x03\x7c\x0c\x01\0\0", 6, "binary data"},
        };
        for (size_t k = 0; k < sizeof nc / sizeof *nc; k++) {
            gf_stream *ns;
            gf_csv *cc;
            gf_csv_record rec;
            const char *pth = write_file("nc.bin", nc[k].data, nc[k].n, (int)(k & 1));
            CHECK(gf_stream_open(ctx, pth, &ns) == GF_OK);
            CHECK(gf_csv_open(ctx, ns, NULL, &cc) == GF_OK);
            CHECK(gf_csv_next(cc, ctx, &rec) == GF_ERR_SCHEMA);
            CHECK(strstr(gf_ctx_errmsg(ctx), nc[k].what) && strstr(gf_ctx_errmsg(ctx), "nc.bin: ") &&
                  strstr(gf_ctx_errmsg(ctx), "only CSV (BAL, BAN, SCDL) is read"));
            gf_csv_close(cc);
        }
        /* text that merely starts with a brace, a BOM or blank lines is CSV */
        const char *ok1 = "\xEF\xBB\xBF{id};n\n1;2\n";
        CHECK(read_all(ctx, write_file("ok1.csv", ok1, strlen(ok1), 0), NULL, &r, NULL) == 0 && r.n == 2);
        CHECK_STR(r.f[0][0], "{id}");
    }

    /* unquoted fields are scanned 8 bytes at a time (core/swar.h): random
     * records, every field length around the word size, each separator,
     * LF and CRLF, small reads (records across chunk boundaries), against
     * the fields written */
    {
        static const char sepc[] = {';', ',', '\t'};
        static const char *alpha[] = {"a", "Z", "0", " ", ";", ",", "\t", "\xc3\xa9", "x\"", "_", "-", "'"};
        srand(18);
        for (int si = 0; si < 3; si++) {
            char sp = sepc[si];
            enum { NREC = 400, NF = 5 };
            static char text[NREC * NF * 48], want[NREC][NF][40];
            size_t tl = 0;
            for (int ri = 0; ri < NREC; ri++) {
                for (int f = 0; f < NF; f++) {
                    int len = rand() % 20, k = 0;
                    for (int i = 0; i < len; i++) {
                        const char *piece = alpha[rand() % (sizeof alpha / sizeof *alpha)];
                        if (strchr(piece, sp) || (k == 0 && piece[0] == '"')) continue;
                        memcpy(want[ri][f] + k, piece, strlen(piece));
                        k += (int)strlen(piece);
                    }
                    if (f == 0 && k == 0) want[ri][f][k++] = 'r'; /* no blank line */
                    want[ri][f][k] = 0;
                    memcpy(text + tl, want[ri][f], (size_t)k);
                    tl += (size_t)k;
                    if (f < NF - 1) text[tl++] = sp;
                }
                if (ri < NREC - 1 || si != 1) {
                    if (rand() % 2) text[tl++] = '\r';
                    text[tl++] = '\n';
                }
            }
            gf_csv_opts o = {.sep = sp, .encoding = GF_ENC_UTF8, .chunk = 61};
            gf_stream *rs;
            gf_csv *rc;
            gf_csv_record rec;
            CHECK(gf_stream_open(ctx, write_file("swar.csv", text, tl, 0), &rs) == GF_OK);
            CHECK(gf_csv_open(ctx, rs, &o, &rc) == GF_OK);
            int nrec = 0, bad = 0;
            gf_status rst;
            while ((rst = gf_csv_next(rc, ctx, &rec)) == GF_OK && nrec < NREC) {
                bad += rec.nfields != NF || rec.error != NULL;
                for (int f = 0; f < NF && f < rec.nfields; f++)
                    bad += rec.len[f] != strlen(want[nrec][f]) || memcmp(rec.field[f], want[nrec][f], rec.len[f]);
                nrec++;
            }
            CHECK(rst == GF_DONE && nrec == NREC && bad == 0);
            gf_csv_close(rc);
        }
    }

    /* missing file */
    gf_stream *s;
    CHECK(gf_stream_open(ctx, "/nonexistent/file.csv", &s) == GF_ERR_INPUT);
    CHECK(strstr(gf_ctx_errmsg(ctx), "/nonexistent/file.csv") != NULL);

    gf_ctx_destroy(ctx);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd)) {}
    GF_TEST_END();
}
