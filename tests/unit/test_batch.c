/* The batch contract (include/geoflux/batch.h): column states, typed values
 * that never overrun their text, a batch refused by a stage or sink built
 * for another schema, and a parse -> format -> parse round trip of every
 * value type over generated values. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "geoflux/ingest.h"
#include "geoflux/write.h"
#include "gf_test.h"
#include "write/csv.h"

static char tmpdir[256];

/* deterministic generator (xorshift64*), so a failure is reproducible */
static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void)
{
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}
static int pick(int n) { return (int)(next() % (uint64_t)n); }

static const char *text(const gf_batch *b, int col, size_t r, size_t *n)
{
    *n = b->cols[col].v.s[r].len;
    return gf_batch_str(b, b->cols[col].v.s[r]);
}

static int eq(const gf_batch *b, int col, size_t r, const char *want)
{
    size_t n;
    const char *p = text(b, col, r, &n);
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* A DD/MM/YY date (8 bytes of text) types to a 10-byte ISO date: the values
 * interned after it (the next column, the row's errors) stay intact. */
static void test_date_no_overrun(gf_ctx *ctx)
{
    const gf_schema *as = gf_address_schema();
    gf_batch *b;
    CHECK(gf_batch_create(as, 8, &b) == GF_OK);
    long r = gf_batch_add_row(b, 2, 0);
    CHECK(r == 0);
    CHECK(gf_batch_set_str(b, GF_A_DATE_DER_MAJ, 0, "15/11/23", 8) == GF_OK);
    CHECK(gf_batch_set_str(b, GF_A_CERTIFICATION_COMMUNE, 0, "0", 1) == GF_OK);
    CHECK(gf_batch_add_issue(b, 0, 1, "date_der_maj.date_invalide") == GF_OK);
    CHECK(b->cols[GF_A_DATE_DER_MAJ].state == GF_COL_TEXT);
    CHECK(gf_typing_stage_vt.run(NULL, ctx, 0, b) == GF_OK);
    CHECK(b->cols[GF_A_DATE_DER_MAJ].state == GF_COL_TYPED);
    CHECK(b->cols[GF_A_CERTIFICATION_COMMUNE].state == GF_COL_TYPED);
    CHECK(b->cols[GF_A_DATE_DER_MAJ].valid[0] && eq(b, GF_A_DATE_DER_MAJ, 0, "2023-11-15"));
    CHECK(b->cols[GF_A_CERTIFICATION_COMMUNE].valid[0] && b->cols[GF_A_CERTIFICATION_COMMUNE].v.i[0] == 0);
    size_t n;
    const char *e = gf_batch_str(b, b->errors[0]);
    n = b->errors[0].len;
    CHECK(n == 26 && memcmp(e, "date_der_maj.date_invalide", 26) == 0);
    /* the raw record and the text are untouched: typing appended the ISO form */
    gf_batch_destroy(b);
}

/* Setters keep a column in one state: numbers are not written over text. */
static void test_states(void)
{
    static const gf_schema s = {.kind = "t", .nfields = 3,
                                .fields = {{"i", GF_T_INT}, {"d", GF_T_REAL}, {"s", GF_T_STRING}}};
    gf_batch *b;
    CHECK(gf_batch_create(&s, 4, &b) == GF_OK);
    gf_batch_add_row(b, 1, 0);
    gf_batch_add_row(b, 2, 0);
    CHECK(gf_batch_set_str(b, 0, 0, "12", 2) == GF_OK);      /* text in an integer column */
    CHECK(gf_batch_set_int(b, 0, 1, 7) == GF_ERR_INTERNAL);   /* would mix text and numbers */
    CHECK(b->cols[0].state == GF_COL_TEXT && !b->cols[0].valid[1]);
    CHECK(gf_batch_set_real(b, 1, 0, 2.5) == GF_OK);          /* empty column: becomes typed */
    CHECK(b->cols[1].state == GF_COL_TYPED);
    CHECK(gf_batch_set_str(b, 1, 1, "x", 1) == GF_ERR_INTERNAL); /* a string in a typed real column */
    CHECK(gf_batch_set_int(b, 1, 1, 3) == GF_ERR_INTERNAL);      /* an integer in a real column */
    CHECK(gf_batch_set_int(b, 5, 0, 3) == GF_ERR_INTERNAL);      /* no such column */
    CHECK(gf_batch_set_int(b, 0, 3, 3) == GF_ERR_INTERNAL);      /* no such row */
    gf_batch_reset(b);
    CHECK(b->cols[1].state == GF_COL_TEXT);
    gf_batch_destroy(b);
}

static const char *write_file(const char *name, const char *data)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fputs(data, f);
    fclose(f);
    return path;
}

/* A stage or sink given a batch of another schema fails with a message. */
static void test_wrong_schema(gf_ctx *ctx)
{
    /* the reader's schema has the multilingual column; a batch built from
     * the bare address schema lacks it (the old fuzz target's crash) */
    const char *path = write_file("bre.csv",
                                  "cle_interop;voie_nom;voie_nom_bre;numero;suffixe;commune_nom;position;x;y;long;lat;"
                                  "source;date_der_maj\n"
                                  "35047_0001_00001;Rue A;Straed A;1;;Bruz;entrée;1;2;-1.6;48.0;x;2020-01-01\n");
    const char *paths[1] = {path};
    gf_reader *rd;
    CHECK(gf_reader_open(ctx, paths, 1, NULL, &rd) == GF_OK);
    CHECK(gf_reader_schema(rd)->nfields > gf_address_schema()->nfields);
    gf_batch *b;
    CHECK(gf_batch_create(gf_address_schema(), 16, &b) == GF_OK);
    CHECK(gf_reader_next(rd, ctx, b) == GF_ERR_INTERNAL);
    CHECK(strstr(gf_ctx_errmsg(ctx), "reader: given a batch of another schema") != NULL);
    gf_batch_destroy(b);
    /* the right batch reads the row, a batch with more fields too (stages append) */
    gf_schema ext = *gf_reader_schema(rd);
    CHECK(gf_schema_add(&ext, "extra", GF_T_REAL, NULL) == GF_OK);
    CHECK(gf_batch_create(&ext, 16, &b) == GF_OK);
    CHECK(gf_reader_next(rd, ctx, b) == GF_OK && b->n == 1);
    int bre = gf_schema_find(b->schema, "voie_nom_bre");
    CHECK(bre >= 0 && eq(b, bre, 0, "Straed A"));
    /* a batch already typed is not the reader's to fill */
    CHECK(gf_typing_stage_vt.run(NULL, ctx, 0, b) == GF_OK);
    gf_batch_destroy(b);
    gf_reader_destroy(rd);

    /* a sink begun with one schema refuses a batch of another */
    static const gf_schema s1 = {.kind = "t", .nfields = 2, .fields = {{"a", GF_T_INT}, {"b", GF_T_STRING}}};
    static const gf_schema s2 = {.kind = "t", .nfields = 2, .fields = {{"a", GF_T_STRING}, {"b", GF_T_STRING}}};
    char out[512];
    snprintf(out, sizeof out, "%s/out.csv", tmpdir);
    gf_output_opts oo = {.path = out};
    void *w;
    CHECK(gf_csv_writer_open(ctx, &oo, &w) == GF_OK);
    CHECK(gf_csv_sink_vt.begin(w, ctx, &s1, 1) == GF_OK);
    gf_batch *b2;
    CHECK(gf_batch_create(&s2, 4, &b2) == GF_OK);
    gf_batch_add_row(b2, 1, 0);
    gf_batch_set_str(b2, 0, 0, "text", 4);
    gf_buf enc = {0};
    CHECK(gf_csv_sink_vt.encode(w, ctx, 0, b2, &enc) == GF_ERR_INTERNAL);
    CHECK(strstr(gf_ctx_errmsg(ctx), "csv writer: given a batch of another schema") != NULL);
    gf_batch_destroy(b2);
    /* same schema, but the integer column still text (typing skipped) */
    CHECK(gf_batch_create(&s1, 4, &b2) == GF_OK);
    gf_batch_add_row(b2, 1, 0);
    gf_batch_set_str(b2, 0, 0, "12", 2);
    CHECK(gf_csv_sink_vt.encode(w, ctx, 0, b2, &enc) == GF_ERR_INTERNAL);
    CHECK(strstr(gf_ctx_errmsg(ctx), "column a is text, expected typed") != NULL);
    CHECK(gf_typing_stage_vt.run(NULL, ctx, 0, b2) == GF_OK);
    CHECK(gf_csv_sink_vt.encode(w, ctx, 0, b2, &enc) == GF_OK && enc.len == 4 && memcmp(enc.p, "12,\n", 4) == 0);
    gf_buf_free(&enc);
    gf_batch_destroy(b2);
    gf_csv_sink_vt.abort(w);
    gf_csv_sink_vt.destroy(w);
}

/* ---- round trip: parse (typing) -> format (writers) -> parse ------------ */

static const gf_schema rt = {.kind = "roundtrip", .nfields = 5,
                             .fields = {{"i", GF_T_INT}, {"d", GF_T_REAL}, {"b", GF_T_BOOL},
                                        {"t", GF_T_DATE}, {"s", GF_T_STRING}}};

/* A value as text, in one of the spellings the parsers accept. */
static size_t gen(int f, char *o)
{
    switch (f) {
    case 0: { /* any int64, sometimes the extremes, with an optional '+' */
        int64_t v;
        int k = pick(8);
        if (k == 0) v = INT64_MIN;
        else if (k == 1) v = INT64_MAX;
        else if (k == 2) v = (int64_t)(next() % 1000) - 500;
        else v = (int64_t)next();
        return (size_t)sprintf(o, "%s%" PRId64, v >= 0 && pick(4) == 0 ? "+" : "", v);
    }
    case 1: { /* a decimal with at most 15 significant digits and 10 decimals,
               * written with '.' or ',' (what the formatter can carry exactly) */
        int dec = pick(11), sig = 1 + pick(15);
        if (dec > sig) dec = sig;
        uint64_t m = next() % (uint64_t)pow(10, sig);
        int neg = pick(2);
        char digits[40];
        int nd = snprintf(digits, sizeof digits, "%0*" PRIu64, dec + 1, m);
        size_t k = (size_t)sprintf(o, "%s%.*s", neg ? "-" : "", nd - dec, digits);
        if (dec) k += (size_t)sprintf(o + k, "%c%s", pick(2) ? '.' : ',', digits + nd - dec);
        return k;
    }
    case 2: {
        static const char *w[] = {"1", "0", "true", "FALSE", "oui", "Non", "vrai", "faux", "yes", "no", "t", "f"};
        return (size_t)sprintf(o, "%s", w[pick(12)]);
    }
    case 3: { /* a valid date in any accepted layout */
        int y = 1000 + pick(9000), m = 1 + pick(12), d = 1 + pick(28);
        switch (pick(6)) {
        case 0: return (size_t)sprintf(o, "%04d-%02d-%02d", y, m, d);
        case 1: return (size_t)sprintf(o, "%04d/%02d/%02d", y, m, d);
        case 2: return (size_t)sprintf(o, "%02d/%02d/%04d", d, m, y);
        case 3: return (size_t)sprintf(o, "%02d/%02d/%02d", d, m, y % 100);
        case 4: return (size_t)sprintf(o, "%04d.%02d.%02d", y, m, d);
        default: return (size_t)sprintf(o, "%04d-%02d-%02dT%02d:%02d", y, m, d, pick(24), pick(60));
        }
    }
    default: { /* bytes, blanks around */
        size_t k = 0;
        for (int i = pick(3); i > 0; i--) o[k++] = ' ';
        for (int i = 1 + pick(20); i > 0; i--) o[k++] = (char)(0x21 + pick(0x5E));
        for (int i = pick(3); i > 0; i--) o[k++] = '\t';
        return k;
    }
    }
}

/* The text a writer gives for a typed value. */
static size_t fmt(const gf_batch *b, int f, size_t r, char *o)
{
    gf_type t = b->schema->fields[f].type;
    if (t == GF_T_STRING || t == GF_T_DATE) {
        size_t n;
        const char *p = text(b, f, r, &n);
        memcpy(o, p, n);
        return n;
    }
    return (size_t)gf_fmt_scalar(t, &b->cols[f], r, o);
}

static int same(const gf_batch *a, const gf_batch *b, int f, size_t r)
{
    if (a->cols[f].valid[r] != b->cols[f].valid[r]) return 0;
    if (!a->cols[f].valid[r]) return 1;
    switch (rt.fields[f].type) {
    case GF_T_INT: case GF_T_BOOL: return a->cols[f].v.i[r] == b->cols[f].v.i[r];
    case GF_T_REAL: return a->cols[f].v.d[r] == b->cols[f].v.d[r];
    default: {
        size_t na, nb;
        const char *pa = text(a, f, r, &na), *pb = text(b, f, r, &nb);
        return na == nb && memcmp(pa, pb, na) == 0;
    }
    }
}

static void test_round_trip(gf_ctx *ctx)
{
    enum { ROWS = 512, ROUNDS = 40 };
    gf_batch *a, *b;
    CHECK(gf_batch_create(&rt, ROWS, &a) == GF_OK);
    CHECK(gf_batch_create(&rt, ROWS, &b) == GF_OK);
    int bad[5] = {0};
    char in[ROWS][5][64];
    for (int round = 0; round < ROUNDS; round++) {
        gf_batch_reset(a);
        gf_batch_reset(b);
        for (size_t r = 0; r < ROWS; r++) {
            gf_batch_add_row(a, r + 1, 0);
            for (int f = 0; f < 5; f++) {
                size_t n = gen(f, in[r][f]);
                in[r][f][n] = 0;
                gf_batch_set_str(a, f, r, in[r][f], n);
            }
        }
        CHECK(gf_typing_stage_vt.run(NULL, ctx, 0, a) == GF_OK);
        for (size_t r = 0; r < ROWS; r++) {
            gf_batch_add_row(b, r + 1, 0);
            for (int f = 0; f < 5; f++) {
                char o[96];
                if (!a->cols[f].valid[r]) continue;
                size_t n = fmt(a, f, r, o);
                gf_batch_set_str(b, f, r, o, n);
            }
        }
        CHECK(gf_typing_stage_vt.run(NULL, ctx, 0, b) == GF_OK);
        for (size_t r = 0; r < ROWS; r++)
            for (int f = 0; f < 5; f++) {
                /* every generated value is valid: it must parse the first time */
                int ok = a->cols[f].valid[r] && same(a, b, f, r);
                if (!ok && bad[f]++ < 3) {
                    char o[96] = "";
                    if (a->cols[f].valid[r]) o[fmt(a, f, r, o)] = 0;
                    fprintf(stderr, "round trip of %s \"%s\": %s -> \"%s\"\n", gf_type_name(rt.fields[f].type),
                            in[r][f], a->cols[f].valid[r] ? "parsed" : "not parsed", o);
                }
            }
    }
    for (int f = 0; f < 5; f++) CHECK(bad[f] == 0);
    gf_batch_destroy(a);
    gf_batch_destroy(b);
}

/* Any finite double: the written text is a fixed point (what a writer
 * writes reads back to the same text), even where it rounds. */
static void test_real_fixed_point(gf_ctx *ctx)
{
    static const gf_schema s = {.kind = "t", .nfields = 1, .fields = {{"d", GF_T_REAL}}};
    gf_batch *a;
    CHECK(gf_batch_create(&s, 2, &a) == GF_OK);
    int bad = 0;
    for (int k = 0; k < 20000; k++) {
        double v;
        do {
            uint64_t u = next();
            memcpy(&v, &u, 8);
        } while (!isfinite(v) || fabs(v) > 1e300);
        if (k & 1) v = ldexp((double)(next() >> 11), -53) * pow(10, pick(16)) * (pick(2) ? 1 : -1);
        char t1[64], t2[64];
        gf_batch_reset(a);
        gf_batch_add_row(a, 1, 0);
        gf_batch_set_real(a, 0, 0, v);
        size_t n1 = (size_t)gf_fmt_scalar(GF_T_REAL, &a->cols[0], 0, t1);
        gf_batch_reset(a);
        gf_batch_add_row(a, 1, 0);
        gf_batch_set_str(a, 0, 0, t1, n1);
        gf_typing_stage_vt.run(NULL, ctx, 0, a);
        size_t n2 = a->cols[0].valid[0] ? (size_t)gf_fmt_scalar(GF_T_REAL, &a->cols[0], 0, t2) : 0;
        if ((n1 != n2 || memcmp(t1, t2, n1) != 0) && bad++ < 3)
            fprintf(stderr, "real %.17g: \"%.*s\" -> \"%.*s\"\n", v, (int)n1, t1, (int)n2, t2);
    }
    CHECK(bad == 0);
    gf_batch_destroy(a);
}

/* A row's issue list keeps every code, however many (it stopped silently
 * at 512 bytes), and a second row's list is not disturbed. */
static void test_many_issues(void)
{
    const gf_schema *as = gf_address_schema();
    gf_batch *b;
    CHECK(gf_batch_create(as, 4, &b) == GF_OK);
    CHECK(gf_batch_add_row(b, 2, 0) == 0);
    CHECK(gf_batch_add_row(b, 3, 0) == 1);
    char want[4096] = "";
    for (int i = 0; i < 100; i++) {
        char code[32];
        snprintf(code, sizeof code, "field%02d.valeur_invalide", i);
        CHECK(gf_batch_add_issue(b, 0, 1, code) == GF_OK);
        if (i == 3) CHECK(gf_batch_add_issue(b, 1, 0, "other.row") == GF_OK);
        strcat(want, i ? "|" : "");
        strcat(want, code);
    }
    CHECK(b->errors[0].len == strlen(want));
    CHECK(memcmp(gf_batch_str(b, b->errors[0]), want, strlen(want)) == 0);
    CHECK(b->warnings[1].len == 9 && memcmp(gf_batch_str(b, b->warnings[1]), "other.row", 9) == 0);
    CHECK((b->flags[0] & GF_ROW_INVALID) && (b->flags[1] & GF_ROW_WARN));
    gf_batch_destroy(b);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gf_test_batch_%d", (int)getpid());
    mkdir(tmpdir, 0700);
    gf_ctx *ctx;
    gf_ctx_create(&ctx);
    test_date_no_overrun(ctx);
    test_states();
    test_wrong_schema(ctx);
    test_round_trip(ctx);
    test_real_fixed_point(ctx);
    test_many_issues();
    gf_ctx_destroy(ctx);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    GF_TEST_END();
}
