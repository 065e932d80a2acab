/* Unit tests of the harmonise stage: each value repair (edge cases and
 * garbage that must stay garbage), then the stage in a convert job: the
 * repairs made, the result sorted and capped, the same at 1 and 4
 * threads, and the header aliases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gf_test.h"
#include "geoflux/harmonise.h"
#include "geoflux/job.h"

static char out[300];

#define R(fn, s) fn(s, strlen(s), out, sizeof out)

static void test_dates(void)
{
    CHECK(R(gf_harmonise_date_fr, "05/03/2021")); CHECK_STR(out, "2021-03-05");
    CHECK(R(gf_harmonise_date_fr, "5/3/2021")); CHECK_STR(out, "2021-03-05");
    CHECK(R(gf_harmonise_date_fr, "05-03-2021")); CHECK_STR(out, "2021-03-05");
    CHECK(R(gf_harmonise_date_fr, "15.12.2020")); CHECK_STR(out, "2020-12-15");
    CHECK(R(gf_harmonise_date_fr, "29/02/2024")); CHECK_STR(out, "2024-02-29");
    CHECK(R(gf_harmonise_date_fr, "29/02/2000")); CHECK_STR(out, "2000-02-29");
    CHECK(!R(gf_harmonise_date_fr, "29/02/2021")); /* not a leap year */
    CHECK(!R(gf_harmonise_date_fr, "29/02/1900")); /* nor is 1900 */
    CHECK(!R(gf_harmonise_date_fr, "31/04/2021"));
    CHECK(!R(gf_harmonise_date_fr, "32/01/2021"));
    CHECK(!R(gf_harmonise_date_fr, "05/13/2021"));
    CHECK(!R(gf_harmonise_date_fr, "00/01/2021"));
    CHECK(!R(gf_harmonise_date_fr, "05/03/21"));   /* the century is not guessed */
    CHECK(!R(gf_harmonise_date_fr, "05/03-2021")); /* one separator throughout */
    CHECK(!R(gf_harmonise_date_fr, "2021-03-05")); /* already ISO: nothing to do */
    CHECK(!R(gf_harmonise_date_fr, "5/3/20211"));
    CHECK(!R(gf_harmonise_date_fr, "hier"));
    CHECK(!R(gf_harmonise_date_fr, ""));
    CHECK(!gf_harmonise_date_fr("05/03/2021", 10, out, 10)); /* no room for the terminator */

    /* Excel: 1 is 1900-01-01, 59 is 1900-02-28, 60 the 29th that never was,
     * 61 is 1900-03-01; 44561 is 2021-12-31 */
    CHECK(gf_harmonise_excel_day(1, out, sizeof out)); CHECK_STR(out, "1900-01-01");
    CHECK(gf_harmonise_excel_day(59, out, sizeof out)); CHECK_STR(out, "1900-02-28");
    CHECK(!gf_harmonise_excel_day(60, out, sizeof out));
    CHECK(gf_harmonise_excel_day(61, out, sizeof out)); CHECK_STR(out, "1900-03-01");
    CHECK(gf_harmonise_excel_day(25569, out, sizeof out)); CHECK_STR(out, "1970-01-01");
    CHECK(gf_harmonise_excel_day(44561, out, sizeof out)); CHECK_STR(out, "2021-12-31");
    CHECK(gf_harmonise_excel_day(2958465, out, sizeof out)); CHECK_STR(out, "9999-12-31");
    CHECK(!gf_harmonise_excel_day(0, out, sizeof out));
    CHECK(!gf_harmonise_excel_day(-5, out, sizeof out));
    CHECK(!gf_harmonise_excel_day(2958466, out, sizeof out));
    CHECK(R(gf_harmonise_date_excel, "44561")); CHECK_STR(out, "2021-12-31");
    CHECK(R(gf_harmonise_date_excel, "44561.75")); CHECK_STR(out, "2021-12-31"); /* a time of day */
    CHECK(R(gf_harmonise_date_excel, "36526")); CHECK_STR(out, "2000-01-01");
    CHECK(R(gf_harmonise_date_excel, "73050")); CHECK_STR(out, "2099-12-31");
    CHECK(!R(gf_harmonise_date_excel, "60"));    /* out of the plausible range, and no day */
    CHECK(!R(gf_harmonise_date_excel, "36525")); /* 1999-12-31: out of range */
    CHECK(!R(gf_harmonise_date_excel, "73051"));
    CHECK(!R(gf_harmonise_date_excel, "123456"));
    CHECK(!R(gf_harmonise_date_excel, "-44561"));
    CHECK(!R(gf_harmonise_date_excel, "44561."));
    CHECK(!R(gf_harmonise_date_excel, "44561a"));
    CHECK(!R(gf_harmonise_date_excel, ""));

    CHECK(R(gf_harmonise_date_time, "2021-03-05T10:00:00Z")); CHECK_STR(out, "2021-03-05");
    CHECK(R(gf_harmonise_date_time, "2021-03-05 10:00")); CHECK_STR(out, "2021-03-05");
    CHECK(R(gf_harmonise_date_time, "2021-03-05T10:00:00.123+01:00")); CHECK_STR(out, "2021-03-05");
    CHECK(R(gf_harmonise_date_time, "2021-03-05T10:00:00+0100")); CHECK_STR(out, "2021-03-05");
    CHECK(!R(gf_harmonise_date_time, "2021-02-29T10:00:00Z")); /* no such day */
    CHECK(!R(gf_harmonise_date_time, "2021-03-05T25:00"));
    CHECK(!R(gf_harmonise_date_time, "2021-03-05T10:00 and more"));
    CHECK(!R(gf_harmonise_date_time, "2021-03-05"));
    CHECK(!R(gf_harmonise_date_time, "2021/03/05 10:00"));

    CHECK(R(gf_harmonise_date_ymd, "2013.01.26")); CHECK_STR(out, "2013-01-26");
    CHECK(R(gf_harmonise_date_ymd, "2013/01/26")); CHECK_STR(out, "2013-01-26");
    CHECK(!R(gf_harmonise_date_ymd, "2013-01-26"));
    CHECK(!R(gf_harmonise_date_ymd, "2013.02.29"));
    CHECK(!R(gf_harmonise_date_ymd, "2013.01/26"));
    CHECK(!R(gf_harmonise_date_ymd, "2013.1.26"));
}

static void test_values(void)
{
    CHECK(R(gf_harmonise_certification, "oui")); CHECK_STR(out, "1");
    CHECK(R(gf_harmonise_certification, "NON")); CHECK_STR(out, "0");
    CHECK(R(gf_harmonise_certification, "Vrai")); CHECK_STR(out, "1");
    CHECK(R(gf_harmonise_certification, "false")); CHECK_STR(out, "0");
    CHECK(R(gf_harmonise_certification, "O")); CHECK_STR(out, "1");
    CHECK(R(gf_harmonise_certification, "n")); CHECK_STR(out, "0");
    CHECK(!R(gf_harmonise_certification, "1"));
    CHECK(!R(gf_harmonise_certification, "0"));
    CHECK(!R(gf_harmonise_certification, "peut-être"));
    CHECK(!R(gf_harmonise_certification, "2"));

    CHECK(R(gf_harmonise_decimal_comma, "1,4523")); CHECK_STR(out, "1.4523");
    CHECK(R(gf_harmonise_decimal_comma, "-0,5")); CHECK_STR(out, "-0.5");
    CHECK(!R(gf_harmonise_decimal_comma, "1.4523"));
    CHECK(!R(gf_harmonise_decimal_comma, "1,2,3"));
    CHECK(!R(gf_harmonise_decimal_comma, "1,"));
    CHECK(!R(gf_harmonise_decimal_comma, ",5"));
    CHECK(!R(gf_harmonise_decimal_comma, "1,5e3"));
    CHECK(!R(gf_harmonise_decimal_comma, "-,5"));

    CHECK(R(gf_harmonise_numero, "0012")); CHECK_STR(out, "12");
    CHECK(!R(gf_harmonise_numero, "12"));
    CHECK(!R(gf_harmonise_numero, "0"));
    CHECK(!R(gf_harmonise_numero, "000"));
    CHECK(!R(gf_harmonise_numero, "012a"));
    CHECK(R(gf_harmonise_numero_decimal, "163,0000000000")); CHECK_STR(out, "163");
    CHECK(R(gf_harmonise_numero_decimal, "12.0")); CHECK_STR(out, "12");
    CHECK(R(gf_harmonise_numero_decimal, "012.0")); CHECK_STR(out, "12");
    CHECK(!R(gf_harmonise_numero_decimal, "12.5"));
    CHECK(!R(gf_harmonise_numero_decimal, "0.0"));
    CHECK(!R(gf_harmonise_numero_decimal, "12."));
    CHECK(!R(gf_harmonise_numero_decimal, "12"));
    CHECK(!R(gf_harmonise_numero_decimal, ",0"));

    CHECK(R(gf_harmonise_cle_interop_case, "31555_ABCD_00012")); CHECK_STR(out, "31555_abcd_00012");
    CHECK(R(gf_harmonise_cle_interop_case, "2A004_0010_00001")); CHECK_STR(out, "2a004_0010_00001");
    CHECK(!R(gf_harmonise_cle_interop_case, "31555_abcd_00012"));
    CHECK(R(gf_harmonise_cle_interop_padding, "31555_abcd_12")); CHECK_STR(out, "31555_abcd_00012");
    CHECK(R(gf_harmonise_cle_interop_padding, "31555_abcd_1_bis")); CHECK_STR(out, "31555_abcd_00001_bis");
    CHECK(!R(gf_harmonise_cle_interop_padding, "31555_abcd_00012"));
    CHECK(!R(gf_harmonise_cle_interop_padding, "31555_abcd_123456"));
    CHECK(!R(gf_harmonise_cle_interop_padding, "31555_abcd_12a"));
    CHECK(!R(gf_harmonise_cle_interop_padding, "31555_abcd"));
    CHECK(!R(gf_harmonise_cle_interop_padding, "31555__12"));
    CHECK(!R(gf_harmonise_cle_interop_padding, "_abcd_12"));
    CHECK(!R(gf_harmonise_cle_interop_padding, "31555_abcd_"));

    CHECK_STR(gf_repair_name(GF_REPAIR_DATE_FR), "repair.date_fr");
    CHECK_STR(gf_repair_name(GF_REPAIR_LONLAT_FROM_XY), "repair.lonlat_from_xy");
    CHECK(gf_repair_name(GF_REPAIR_COUNT) == NULL);
    CHECK(gf_repair_name((gf_repair_code)-1) == NULL);
}

/* ---- the stage, in a convert job ---- */

static char tmpdir[256];

typedef struct got {
    int calls;
    char text[8192]; /* the entries and counts, printed */
    size_t nentries;
    uint64_t unlisted;
    uint64_t total[GF_REPAIR_COUNT];
} got;

static void on_done(void *user, const gf_harmonise_result *r)
{
    got *g = user;
    g->calls++;
    g->nentries = r->nentries;
    g->unlisted = r->unlisted;
    memcpy(g->total, r->total, sizeof g->total);
    size_t n = 0;
    for (size_t i = 0; i < r->nentries && n < sizeof g->text - 200; i++) {
        const gf_harmonise_entry *e = &r->entries[i];
        n += (size_t)snprintf(g->text + n, sizeof g->text - n, "%u:%llu:%s:%s:%s:%s>%s\n", e->input,
                              (unsigned long long)e->line, e->commune, gf_repair_name(e->code), e->field, e->before,
                              e->after);
    }
    for (size_t i = 0; i < r->ncounts && n < sizeof g->text - 200; i++)
        n += (size_t)snprintf(g->text + n, sizeof g->text - n, "%s %s %llu\n", r->counts[i].commune,
                              gf_repair_name(r->counts[i].code), (unsigned long long)r->counts[i].rows);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(1); }
    fputs(text, f);
    fclose(f);
}

static int run_job(const char *in, int threads, size_t max_listed, const char *s_srs, got *g, gf_run_stats *s)
{
    gf_ctx *ctx = NULL;
    if (gf_ctx_create(&ctx)) return -1;
    char o[300];
    snprintf(o, sizeof o, "%s/out-%d.csv", tmpdir, threads);
    const char *inputs[1] = {in};
    gf_convert_opts co = GF_CONVERT_OPTS_INIT;
    co.inputs = inputs;
    co.ninputs = 1;
    co.output = o;
    co.to_bal = "1.4";
    co.overwrite = 1;
    co.threads = threads;
    co.harmonise = 1;
    co.s_srs = s_srs;
    co.harm = (gf_harmonise_opts){.max_listed = max_listed, .on_done = on_done, .user = g};
    gf_job *j = NULL;
    gf_status st = gf_job_convert(ctx, &co, &j);
    if (st == GF_OK) st = gf_job_run(j, NULL, s);
    if (st) fprintf(stderr, "job: %s\n", gf_ctx_errmsg(ctx));
    gf_job_destroy(j);
    gf_ctx_destroy(ctx);
    return st;
}

static void test_stage(void)
{
    char in[300];
    snprintf(in, sizeof in, "%s/in.csv", tmpdir);
    /* nulmero: the reader's alias for numero; COMMUNE_IN: a DBF name */
    char text[65536];
    size_t n = (size_t)snprintf(text, sizeof text,
        "cle_interop;voie_nom;nulmero;COMMUNE_IN;commune_nom;position;x;y;long;lat;source;date_der_maj;certification_commune\n");
    for (int i = 1; i <= 300; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "81289_0049_%d;Avenue de Mazamet;%d;81289;Soual;entrée;;;2,1202907;43.5559286;Commune;05/03/2021;oui\n",
                              i, i);
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "81289_0049_00999;Avenue de Mazamet;999;81289;Soual;entrée;;;2.1202907;43.5559286;Commune;hier;peut-être\n");
    write_file(in, text);
    got g1 = {0}, g4 = {0};
    gf_run_stats s1, s4;
    CHECK(run_job(in, 1, 50, NULL, &g1, &s1) == 0);
    CHECK(run_job(in, 4, 50, NULL, &g4, &s4) == 0);
    CHECK(g1.calls == 1 && g4.calls == 1);
    CHECK(s1.read == 301 && s1.written == 300 && s1.rejected == 1); /* hier and peut-être cannot be repaired */
    CHECK(g1.total[GF_REPAIR_DATE_FR] == 300);
    CHECK(g1.total[GF_REPAIR_CERTIFICATION] == 300);
    CHECK(g1.total[GF_REPAIR_DECIMAL_COMMA] == 300);
    CHECK(g1.total[GF_REPAIR_CLE_INTEROP_PADDING] == 300);
    CHECK(g1.total[GF_REPAIR_HEADER_ALIAS] == 301);
    CHECK(g1.total[GF_REPAIR_TRIM] == 0);
    CHECK(g1.nentries == 50); /* capped; the counts stay exact */
    CHECK(g1.unlisted == 4 * 300 + 2 - 50);
    CHECK(!strcmp(g1.text, g4.text)); /* whatever the thread count */
    /* sorted: the header first (line 0), then line 2, in field (schema) order */
    CHECK(!strncmp(g1.text, "0:0::repair.header_alias:commune_insee:COMMUNE_IN>commune_insee\n"
                            "0:0::repair.header_alias:numero:nulmero>numero\n"
                            "0:2:81289:repair.cle_interop_padding:cle_interop:81289_0049_1>81289_0049_00001\n",
                   strlen("0:0::repair.header_alias:commune_insee:COMMUNE_IN>commune_insee\n"
                          "0:0::repair.header_alias:numero:nulmero>numero\n"
                          "0:2:81289:repair.cle_interop_padding:cle_interop:81289_0049_1>81289_0049_00001\n")));
    CHECK(strstr(g1.text, "0:2:81289:repair.decimal_comma:long:2,1202907>2.1202907\n") != NULL);
    CHECK(strstr(g1.text, "0:2:81289:repair.date_fr:date_der_maj:05/03/2021>2021-03-05\n") != NULL);
    CHECK(strstr(g1.text, "81289 repair.date_fr 300\n") != NULL);

    /* x/y only in CC44 (Soual): long/lat computed, within a metre of the original */
    n = (size_t)snprintf(text, sizeof text,
        "cle_interop;voie_nom;numero;commune_insee;commune_nom;position;x;y;long;lat;source;date_der_maj\n"
        "81289_0049_00043;Avenue de Mazamet;43;81289;Soual;entrée;1628923.02370024;3151042.93249989;;;Commune;2020-04-02\n"
        "81289_0049_00044;Avenue de Mazamet;44;81289;Soual;entrée;;;;;Commune;2020-04-02\n");
    write_file(in, text);
    got g = {0};
    gf_run_stats s;
    CHECK(run_job(in, 1, 0, NULL, &g, &s) == 0);
    CHECK(g.total[GF_REPAIR_LONLAT_FROM_XY] == 1);
    CHECK(s.written == 1 && s.rejected == 1); /* no position at all: nothing to compute */
    CHECK(strstr(g.text, ":repair.lonlat_from_xy:long,lat:EPSG:3944 1628923.02370024;3151042.93249989>2.1202907;43.5559286\n") != NULL);

    /* x/y only in NTF Lambert II etendu (the same point, by gdaltransform):
     * no range of the detection fits, so nothing is guessed and the row is
     * rejected; given with s_srs (--s-srs, a bare code too), x/y are read
     * in it and the repair names it */
    n = (size_t)snprintf(text, sizeof text,
        "cle_interop;voie_nom;numero;commune_insee;commune_nom;position;x;y;long;lat;source;date_der_maj\n"
        "81289_0049_00043;Avenue de Mazamet;43;81289;Soual;entrée;582498.68;1839351.66;;;Commune;2020-04-02\n");
    write_file(in, text);
    got gd = {0}, gs = {0};
    CHECK(run_job(in, 1, 0, NULL, &gd, &s) == 0);
    CHECK(gd.total[GF_REPAIR_LONLAT_FROM_XY] == 0 && s.written == 0 && s.rejected == 1);
    CHECK(run_job(in, 2, 0, "27572", &gs, &s) == 0);
    CHECK(gs.total[GF_REPAIR_LONLAT_FROM_XY] == 1 && s.written == 1 && s.rejected == 0);
    CHECK(strstr(gs.text, ":repair.lonlat_from_xy:long,lat:EPSG:27572 582498.68;1839351.66>2.12029") != NULL);
    double lo = 0, la = 0;
    const char *p = strstr(gs.text, "1839351.66>");
    CHECK(p && sscanf(p + 11, "%lf;%lf", &lo, &la) == 2);
    CHECK(fabs(lo - 2.1202907) < 2e-5 && fabs(la - 43.5559286) < 2e-5); /* ~1.5 m */
}

int main(void)
{
    test_dates();
    test_values();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gf_test_harmonise_%d", (int)getpid());
    mkdir(tmpdir, 0700);
    test_stage();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    GF_TEST_END();
}
