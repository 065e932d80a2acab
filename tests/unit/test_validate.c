/* Unit tests of the BAL validator: rules on single rows, levels per
 * profile, header analysis, the COG, whole files and invalid inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_test.h"
#include "geoflux/validate.h"
#include "validate/rules.h"
#include "validate/rules_int.h"
#include "validate/wide.h"

static void row_cb(void *u, const char *code, uint64_t nrows, uint64_t first)
{
    if (!strcmp(code, "row.different_id_ban_adresses_with_same_adresse") && nrows == 2 && first == 2) ++*(int *)u;
}
static void file_cb(void *u, const char *code) { (void)u; (void)code; }
/* every row code: rows summed, first lines summed (order-free) */
static void row_sum(void *u, const char *code, uint64_t nrows, uint64_t first)
{
    (void)code;
    ((uint64_t *)u)[0] += nrows;
    ((uint64_t *)u)[1] += first;
}

static gf_vrow row;

static void set(int f, const char *v)
{
    row.present[f] = 1;
    row.v[f] = v;
    row.n[f] = strlen(v);
}

/* A valid Bruz address (from data/samples/bal/bal_35047_v1.3.csv). */
static void base(void)
{
    memset(&row, 0, sizeof row);
    set(VF_CLE_INTEROP, "35047_0001_00001");
    set(VF_COMMUNE_INSEE, "35047");
    set(VF_COMMUNE_NOM, "Bruz");
    set(VF_VOIE_NOM, "Rue des Acacias");
    set(VF_NUMERO, "1");
    set(VF_POSITION, "bâtiment");
    set(VF_X, "346486.97");
    set(VF_Y, "6780392.5");
    set(VF_LONG, "-1.745464335");
    set(VF_LAT, "48.0282820439");
    set(VF_SOURCE, "Rennes Métropole");
    set(VF_DATE_DER_MAJ, "2021-03-15");
    set(VF_CERTIFICATION_COMMUNE, "1");
}

static int has(const gf_vissues *iss, const char *code)
{
    for (int i = 0; i < iss->n; i++)
        if (!strcmp(iss->code[i], code)) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *srcdir = argc > 1 ? argv[1] : ".";
    gf_ctx *ctx;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    gf_vproj *pj;
    CHECK(gf_vproj_create(ctx, &pj) == GF_OK);
    long today = 20000; /* 2024-10-05 */
    gf_vissues iss;
    gf_vparsed pv;

    /* COG */
    int bruz = gf_cog_current("35047");
    CHECK(bruz >= 0);
    CHECK_STR(gf_cog_name(bruz), "Bruz");
    CHECK(gf_cog_current("99999") < 0);
    CHECK(gf_cog_current("2A004") >= 0); /* Ajaccio */
    CHECK(gf_cog_former("01340") && gf_cog_has_former(gf_cog_current("01015"), "01340"));

    /* a valid row has no code */
    base();
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(iss.n == 0);
    for (int i = 0; i < iss.n; i++) fprintf(stderr, "  unexpected %s\n", iss.code[i]);

    base(); set(VF_NUMERO, "12a");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "numero.type_invalide") && has(&iss, "row.adresse_incomplete"));

    base(); set(VF_NUMERO, "99999"); set(VF_CLE_INTEROP, "35047_0001_99999"); set(VF_POSITION, "");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(iss.n == 0); /* a toponym: no position needed */

    base(); set(VF_NUMERO, "100000");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "numero.trop_grand"));

    base(); set(VF_POSITION, "cage d’escalier");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(iss.n == 0);
    base(); set(VF_POSITION, "Cage d'escalier");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "position.enum_fuzzy") && !has(&iss, "position.valeur_invalide"));
    base(); set(VF_POSITION, "porche");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "position.valeur_invalide"));

    base(); set(VF_CLE_INTEROP, "35047_0001_1");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "cle_interop.numero_prefixe_manquant") && !has(&iss, "row.incoherence_numero"));
    base(); set(VF_CLE_INTEROP, "35047_0001_00002");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "row.incoherence_numero"));
    base(); set(VF_CLE_INTEROP, "35047_XXXX_00001");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "cle_interop.casse_invalide") && has(&iss, "cle_interop.voie_non_renseignee"));

    base(); set(VF_LONG, "48.0282820439"); set(VF_LAT, "-1.745464335");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "row.longlat_invalides"));
    base(); set(VF_X, "346400.00");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "row.longlat_xy_incoherents"));
    /* the 10 m x/y coherence near its threshold, along 5 km (the local
     * model re-anchors): the verdict of the exact projection every time */
    {
        static const double dist[] = {0, 4, 4.9, 5.1, 6, 9.9, 10.2, 25, 800};
        static char lon[40][32], lat[40][32], xs[40][32], ys[40][32];
        int wrong = 0;
        for (int i = 0; i < 40; i++) {
            double lo = -1.745464335 + 0.0017 * i, la = 48.0282820439 - 0.0011 * i, xy[2], d = dist[i % 9];
            CHECK(gf_vproj_legal(pj, lo, la, xy));
            snprintf(lon[i], 32, "%.10f", lo);
            snprintf(lat[i], 32, "%.10f", la);
            snprintf(xs[i], 32, "%.2f", xy[0] + d * 0.6);
            snprintf(ys[i], 32, "%.2f", xy[1] - d * 0.8);
            base(); set(VF_LONG, lon[i]); set(VF_LAT, lat[i]); set(VF_X, xs[i]); set(VF_Y, ys[i]);
            gf_vrow_check(&row, pj, today, &iss, &pv);
            if (has(&iss, "row.longlat_xy_incoherents") != (d > 10)) { wrong++; fprintf(stderr, "row %d, %g m\n", i, d); }
        }
        CHECK(wrong == 0);
    }
    base(); set(VF_VOIE_NOM, "Rue des Acacias \xEF\xBF\xBD");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "voie_nom.caractere_invalide"));
    base(); set(VF_VOIE_NOM, "Rue de l\xEF\xBC\xA1rbre \xEF\xBF");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(!has(&iss, "voie_nom.caractere_invalide"));
    base(); set(VF_X, "346486,97");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "x.separateur_decimal_invalide") && !has(&iss, "row.longlat_xy_incoherents"));

    base(); set(VF_DATE_DER_MAJ, "2099-01-01");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "date_der_maj.date_future"));
    base(); set(VF_DATE_DER_MAJ, "2021-02-30");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "date_der_maj.date_invalide"));

    base(); set(VF_VOIE_NOM, "RUE DES ACACIAS");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "voie_nom.casse_incorrecte"));
    base(); set(VF_VOIE_NOM, " Rue des Acacias");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "voie_nom.espaces_debut_fin"));
    base(); set(VF_COMMUNE_NOM, "BRUZ");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "commune_nom.casse_incorrecte") && has(&iss, "row.commune_nom_invalide"));

    base(); set(VF_ID_BAN_ADRESSE, "fe09df05-3da5-4799-9e3a-0a5709657e4a");
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "row.lack_of_id_ban"));
    base(); set(VF_ID_BAN_ADRESSE, "fe09df05-3da5-1799-9e3a-0a5709657e4a"); /* version 1 */
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "id_ban_adresse.type_invalide"));

    /* localised name */
    base();
    row.nlang = 1;
    row.lang[0].field = VF_VOIE_NOM;
    row.lang[0].name = "voie_nom_bre";
    row.lang[0].v = "Ru";
    row.lang[0].n = 2;
    gf_vrow_check(&row, pj, today, &iss, &pv);
    CHECK(has(&iss, "voie_nom_bre.trop_court"));

    /* levels */
    CHECK(gf_validate_level("1.3", "numero.type_invalide") == GF_VL_ERROR);
    CHECK(gf_validate_level("1.3-relax", "cle_interop.casse_invalide") == GF_VL_WARN);
    CHECK(gf_validate_level("1.3", "cle_interop.casse_invalide") == GF_VL_ERROR);
    CHECK(gf_validate_level("1.3", "voie_nom_bre.trop_court") == GF_VL_WARN);
    CHECK(gf_validate_level("1.4", "rows.multi_id_ban_commune") == GF_VL_ERROR);
    CHECK(gf_validate_level("1.3", "rows.multi_id_ban_commune") == GF_VL_INFO);
    CHECK(gf_validate_level("1.5", "field.voie_nom.missing") == GF_VL_INFO);
    CHECK(gf_validate_level("1.5", "field.toponyme.missing") == GF_VL_ERROR);
    CHECK(gf_validate_level("nope", "numero.type_invalide") == GF_VL_INFO);
    CHECK(!gf_validate_profile_known("2.0") && gf_validate_profile_known("1.3-relax"));

    /* header: exact names only, regional columns */
    {
        const char *names[] = {"cle_interop", "lon", "voie_nom", "voie_nom_bre", "numero", "Numero"};
        size_t lens[6];
        for (int i = 0; i < 6; i++) lens[i] = strlen(names[i]);
        gf_vheader h;
        gf_vheader_analyse(names, lens, 6, &h);
        CHECK(h.field_col[VF_CLE_INTEROP] == 0 && h.field_col[VF_LONG] < 0 && h.field_col[VF_NUMERO] == 4);
        CHECK(h.nlang == 1 && h.lang[0].col == 3);
        CHECK(strstr(h.unknown, "lon") && strstr(h.unknown, "Numero"));
        CHECK_STR(gf_vheader_profile(&h), "1.3");
    }

    /* file-wide tables stay under their budget */
    {
        gf_vwide w = {.budget = 64 << 10, .track_num = 1};
        gf_vparsed q;
        memset(&q, 0, sizeof q);
        q.has_numero = 1;
        q.numero = 1;
        q.id_adresse = "fe09df05-3da5-4799-9e3a-0a5709657e4a";
        q.n_adresse = 36;
        for (uint64_t i = 0; i < 100000; i++) {
            q.numero_ident_hash = i * 7919 + 1;
            gf_vwide_row(&w, &q, i + 2);
        }
        CHECK(w.truncated && !w.nomem && w.used <= (64 << 10));
        gf_vwide_free(&w);
        /* tables drawing from one shared budget (the stage's: every input)
         * stay under it together and give their bytes back when freed */
        gf_vbudget pool = {.limit = 96 << 10};
        gf_vwide a = {.pool = &pool, .track_num = 1}, b = {.pool = &pool, .track_num = 1};
        for (uint64_t i = 0; i < 100000; i++) {
            q.numero_ident_hash = i * 7919 + 1;
            gf_vwide_row(i % 2 ? &a : &b, &q, i + 2);
        }
        CHECK(a.truncated && b.truncated && !a.nomem && !b.nomem);
        CHECK(a.used + b.used == (size_t)pool.used && (size_t)pool.used <= (96 << 10));
        gf_vwide_free(&b);
        CHECK((size_t)pool.used == a.used);
        gf_vwide_free(&a);
        CHECK(pool.used == 0 && a.pool == &pool);
        /* two workers' fronts feed one table, batch by batch: the groups
         * and conflicts are those of one table fed every row */
        pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        gf_vwide all = {.track_num = 1}, one = {.track_num = 1};
        gf_vwide f1 = {.shared = &all, .track_num = 1}, f2 = {.shared = &all, .track_num = 1};
        for (uint64_t i = 0; i < 20000; i++) {
            q.numero_ident_hash = (i % 5000) * 7919 + 1; /* each address four times */
            q.id_adresse = i % 3 ? "fe09df05-3da5-4799-9e3a-0a5709657e4a" : "38cd1631-1dc4-41d7-b1df-0cda008e6140";
            q.has_lieudit = i % 7 == 0;
            q.lieudit_hash = i;
            gf_vwide_row((i / 512) % 2 ? &f1 : &f2, &q, i + 2);
            gf_vwide_row(&one, &q, i + 2);
            if (i % 512 == 511) gf_vwide_sync((i / 512) % 2 ? &f1 : &f2, &mu);
        }
        gf_vwide_sync(&f1, &mu);
        gf_vwide_sync(&f2, &mu);
        CHECK(f1.npend == 0 && f2.npend == 0 && f1.rows == 0 && all.rows == one.rows);
        CHECK(all.num.n + (all.num.run.key != 0) >= 5000 && all.nlieudit == one.nlieudit && !all.nomem);
        uint64_t s1[2] = {0}, s2[2] = {0};
        gf_vwide_finish(&all, row_sum, file_cb, s1);
        gf_vwide_finish(&one, row_sum, file_cb, s2);
        CHECK(s1[0] == s2[0] && s1[1] == s2[1] && s1[0] > 0);
        CHECK(all.num.n == one.num.n && all.adr.n == one.adr.n);
        gf_vwide_free(&f1);
        gf_vwide_free(&f2);
        gf_vwide_free(&all);
        gf_vwide_free(&one);
        q.has_lieudit = 0;
        q.id_adresse = "fe09df05-3da5-4799-9e3a-0a5709657e4a";
        /* an address with two id_ban_adresse is found */
        gf_vwide w2 = {.track_num = 1};
        q.numero_ident_hash = 42;
        gf_vwide_row(&w2, &q, 2);
        q.id_adresse = "38cd1631-1dc4-41d7-b1df-0cda008e6140";
        gf_vwide_row(&w2, &q, 3);
        struct { int n; } seen = {0};
        gf_vwide_finish(&w2, row_cb, file_cb, &seen);
        CHECK(seen.n == 1);
        gf_vwide_free(&w2);
    }

    /* whole files */
    char path[4096];
    gf_validate_report rep;
    snprintf(path, sizeof path, "%s/data/samples/bal/sample.csv", srcdir);
    CHECK(gf_validate_file(ctx, path, NULL, &rep) == GF_OK);
    CHECK(!rep.valid && rep.rows == 15 && rep.ninvalid == 12 && !strcmp(rep.profile, "1.3"));
    gf_validate_report_free(&rep);
    snprintf(path, sizeof path, "%s/data/samples/bal/bal_simple_v1.3.csv", srcdir);
    CHECK(gf_validate_file(ctx, path, NULL, &rep) == GF_OK);
    CHECK(rep.valid && rep.rows == 25 && rep.ncodes == 0);
    gf_validate_report_free(&rep);
    gf_validate_file_opts o = {.profile = "1.4"};
    CHECK(gf_validate_file(ctx, path, &o, &rep) == GF_OK);
    CHECK(!strcmp(rep.profile, "1.4"));
    gf_validate_report_free(&rep);

    /* invalid inputs */
    CHECK(gf_validate_file(ctx, "/nonexistent/x.csv", NULL, &rep) == GF_ERR_INPUT);
    gf_validate_file_opts bad = {.profile = "9"};
    CHECK(gf_validate_file(ctx, path, &bad, &rep) == GF_ERR_ARG);
    char tmp[] = "/tmp/gf_test_validate_XXXXXX";
    int fd = mkstemp(tmp);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("numero;voie_nom\n1;\"Rue\n", f); /* unterminated quote */
    fclose(f);
    CHECK(gf_validate_file(ctx, tmp, NULL, &rep) == GF_OK);
    CHECK(!rep.valid && !rep.parse_ok);
    gf_validate_report_free(&rep);
    f = fopen(tmp, "w");
    fclose(f); /* empty */
    CHECK(gf_validate_file(ctx, tmp, NULL, &rep) == GF_OK);
    CHECK(!rep.valid);
    gf_validate_report_free(&rep);
    /* The blocks a context keeps from one file to the next (validate.c's
     * cache): a file validated after others, one of them with a record long
     * enough for its block to be trimmed afterwards, gets the report a
     * fresh context gives. */
    {
        gf_validate_report a, b;
        gf_ctx *fresh;
        CHECK(gf_ctx_create(&fresh) == GF_OK);
        snprintf(path, sizeof path, "%s/data/samples/bal/sample.csv", srcdir);
        CHECK(gf_validate_file(fresh, path, NULL, &a) == GF_OK);
        f = fopen(tmp, "w");
        fputs("cle_interop;uid_adresse;voie_nom;numero;suffixe;commune_nom;position;x;y;long;lat;source;date_der_maj\n"
              "31555_0001_00001;;", f);
        for (int i = 0; i < (5 << 20) / 8; i++) fputs("Rue Aaa ", f); /* 5 MB of fields: past VKEEP_BYTES */
        fputs(";1;;Toulouse;entrée;;;;;mairie;2020-01-01\n", f);
        fclose(f);
        CHECK(gf_validate_file(ctx, tmp, NULL, &b) == GF_OK);
        CHECK(b.rows == 1);
        gf_validate_report_free(&b);
        CHECK(gf_validate_file(ctx, path, NULL, &b) == GF_OK);
        int same = a.valid == b.valid && a.rows == b.rows && a.ninvalid == b.ninvalid && a.ncodes == b.ncodes;
        for (size_t i = 0; same && i < a.ninvalid; i++) same = a.invalid_lines[i] == b.invalid_lines[i];
        for (size_t i = 0; same && i < a.ncodes; i++)
            same = !strcmp(a.codes[i].code, b.codes[i].code) && a.codes[i].rows == b.codes[i].rows;
        CHECK(same);
        gf_validate_report_free(&a);
        gf_validate_report_free(&b);
        gf_ctx_destroy(fresh);
    }
    remove(tmp);
    gf_validate_report_free(NULL);

    /* String.length: the ASCII prefix skipped 8 bytes at a time, the rest
     * decoded as the reference does, from the first byte (UTF-16 units:
     * two for a code point above U+FFFF; a malformed byte is one) */
    {
        static const char *pieces[] = {"a", "Z", " ", "\xc3\xa9", "\xe2\x80\xaf", "\xf0\x9f\x98\x80", "\x80", "\xc3",
                                       "\xf0\x9f", "\xff", "'"};
        char str[128];
        int nbad = 0;
        srand(18);
        for (int k = 0; k < 20000; k++) {
            size_t n = 0, want = 0;
            int np = rand() % 24;
            for (int i = 0; i < np; i++) {
                /* mostly ASCII, so that prefixes of every length occur */
                const char *pc = pieces[rand() % 4 ? rand() % 3 : rand() % (int)(sizeof pieces / sizeof *pieces)];
                memcpy(str + n, pc, strlen(pc));
                n += strlen(pc);
            }
            for (size_t i = 0; i < n;) { /* the reference: utf8_dec's steps, from byte 0 */
                unsigned char c = (unsigned char)str[i];
                size_t adv = 1, left = n - i;
                unsigned cp = c;
                if (c >= 0x80 && left >= 2) {
                    if ((c & 0xE0) == 0xC0) adv = 2;
                    else if ((c & 0xF0) == 0xE0 && left >= 3) adv = 3;
                    else if ((c & 0xF8) == 0xF0 && left >= 4) {
                        adv = 4;
                        cp = ((c & 0x07u) << 18) | (((unsigned char)str[i + 1] & 0x3Fu) << 12);
                    }
                }
                want += adv == 4 && cp >= 0x10000 ? 2 : 1;
                i += adv;
            }
            nbad += gf_vt_js_len(str, n) != want;
        }
        CHECK(nbad == 0);
    }

    gf_vproj_destroy(pj);
    gf_vproj_destroy(NULL);
    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
