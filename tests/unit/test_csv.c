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

typedef struct rows { int n; char f[16][8][64]; int nf[16]; uint64_t line[16]; const char *err[16]; int tc[16]; } rows;

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
        out->err[out->n] = r.error;
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
    CHECK(r.n >= 2 && r.err[1] != NULL);
    CHECK_STR(r.f[r.n - 1][0], "2");

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
