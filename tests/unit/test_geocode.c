/* Geocoding: normalisation, edit distance, query clean-up, matching stages
 * and scores on the real Bruz BAL, interpolation, save/load round trip,
 * reverse geocoding against a brute-force nearest search, SCDL checks, and
 * invalid inputs. argv[1] = source directory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "geoflux/equipment.h"
#include "geoflux/geocode.h"
#include "geocode/gc.h"
#include "gf_test.h"
#include "../fuzz/gc_sample.h"

static void norm_is(const char *in, const char *want)
{
    char out[256];
    gf_gc_normalize(in, strlen(in), out, sizeof out);
    CHECK_STR(out, want);
}

static gf_gc_result geo(const gf_gc_index *ix, gf_gc_scratch *s, const char *q, const char *pc, const char *city)
{
    gf_gc_query qu = {.q = q, .qlen = q ? strlen(q) : 0, .postcode = pc, .postcodelen = pc ? strlen(pc) : 0,
                      .city = city, .citylen = city ? strlen(city) : 0};
    gf_gc_result r;
    gf_status st = gf_gc_geocode(ix, s, &qu, &r);
    CHECK(st == GF_OK);
    return r;
}

/* Position of an address of the Bruz BAL (first row with that key). */
static int bal_pos(const char *src, const char *voie, const char *num, const char *sfx, double *lon, double *lat)
{
    char path[1024], line[4096];
    snprintf(path, sizeof path, "%s/data/samples/bal/bal_35047_v1.3.csv", src);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char *fld[32];
        int n = 0;
        for (char *p = line, *q; n < 32 && p; p = q) {
            q = strchr(p, ';');
            if (q) *q++ = 0;
            fld[n++] = p;
        }
        if (n > 14 && !strcmp(fld[6], voie) && !strcmp(fld[8], num) && !strcmp(fld[9], sfx)) {
            *lon = atof(fld[13]);
            *lat = atof(fld[14]);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* Brute-force nearest item (numbered address, or a street/place without numbers). */
static double brute_nearest(const gf_gc_index *ix, double lon, double lat)
{
    double best = HUGE_VAL;
    for (uint32_t i = 0; i < ix->naddrs; i++) {
        double d = gf_gc_distance(lon, lat, ix->addrs[i].lon / GC_E7, ix->addrs[i].lat / GC_E7);
        if (d < best) best = d;
    }
    for (uint32_t i = 0; i < ix->nstreets; i++) {
        const gc_street *s = &ix->streets[i];
        if (s->naddr || s->lon == INT32_MIN) continue;
        double d = gf_gc_distance(lon, lat, s->lon / GC_E7, s->lat / GC_E7);
        if (d < best) best = d;
    }
    return best;
}


/* The k-th smallest distance from lon/lat to an address (k >= 1), by brute
 * force: what gf_gc_reverse_n's k-th result must be at. */
static double brute_kth(const gf_gc_index *ix, double lon, double lat, int k)
{
    double top[GF_GC_MAX_RESULTS];
    int n = 0;
    for (uint32_t i = 0; i < ix->naddrs; i++) {
        double d = gf_gc_distance(lon, lat, ix->addrs[i].lon / GC_E7, ix->addrs[i].lat / GC_E7);
        if (n == k && d >= top[k - 1]) continue;
        int j = n < k ? n++ : k - 1;
        while (j > 0 && top[j - 1] > d) { top[j] = top[j - 1]; j--; }
        top[j] = d;
    }
    return n == k ? top[k - 1] : HUGE_VAL;
}

/* Issue 15, item 3: the lieu-dit cases, on a made-up BAL 1.4 (no sample
 * has them): a commune nouvelle whose two communes déléguées each have a
 * Rue de l'Église; a lieu-dit named like a street of its commune ("La
 * Fontaine" and the Rue de la Fontaine) or exactly like one ("Le Bourg");
 * a lieu-dit written in place of the commune, in one commune ("Le
 * Bourg-Neuf" of Ploumel), in two ("Kervenn" of Ploumel and Trévic), or
 * named like a commune that lacks the street ("La Fontaine"). The names are
 * made up, the INSEE codes real: the index build validates its rows and
 * does not index a commune code the COG lacks. */
static const char ld_bal[] =
    "cle_interop;commune_insee;commune_nom;commune_deleguee_insee;commune_deleguee_nom;voie_nom;lieudit_complement_nom;numero;suffixe;code_postal;long;lat\n"
    "49301_0001_00001;49301;Val-de-Lys;49101;Saint-Aubin-des-Bois;Rue de l'Église;;1;;49450;-0.9001;47.1001\n"
    "49301_0001_00002;49301;Val-de-Lys;49101;Saint-Aubin-des-Bois;Rue de l'Église;;2;;49450;-0.9002;47.1002\n"
    "49301_0001_00005;49301;Val-de-Lys;49101;Saint-Aubin-des-Bois;Rue de l'Église;;5;;49450;-0.9005;47.1005\n"
    "49301_0002_00001;49301;Val-de-Lys;49102;Montfort-sur-Lys;Rue de l'Église;;1;;49450;-0.8501;47.1301\n"
    "49301_0002_00002;49301;Val-de-Lys;49102;Montfort-sur-Lys;Rue de l'Église;;2;;49450;-0.8502;47.1302\n"
    "49301_0002_00004;49301;Val-de-Lys;49102;Montfort-sur-Lys;Rue de l'Église;;4;;49450;-0.8504;47.1304\n"
    "49301_0003_00003;49301;Val-de-Lys;49102;Montfort-sur-Lys;Rue des Forges;;3;;49450;-0.8603;47.1403\n"
    "35001_0001_00010;35001;Lanvern;;;Rue de la Fontaine;;10;;35590;-1.8010;48.1010\n"
    "35001_0001_00012;35001;Lanvern;;;Rue de la Fontaine;;12;;35590;-1.8012;48.1012\n"
    "35001_0001_00016;35001;Lanvern;;;Rue de la Fontaine;La Fontaine;16;;35590;-1.8016;48.1016\n"
    "35001_0002_00012;35001;Lanvern;;;Impasse des Saules;La Fontaine;12;;35590;-1.8112;48.1112\n"
    "35001_0002_00014;35001;Lanvern;;;Impasse des Saules;La Fontaine;14;;35590;-1.8114;48.1114\n"
    "35001_0003_00001;35001;Lanvern;;;Le Bourg;;1;;35590;-1.8201;48.1201\n"
    "35001_0003_00002;35001;Lanvern;;;Le Bourg;;2;;35590;-1.8202;48.1202\n"
    "35001_0003_00003;35001;Lanvern;;;Le Bourg;;3;;35590;-1.8203;48.1203\n"
    "35001_0004_00002;35001;Lanvern;;;Rue des Lilas;Le Bourg;2;;35590;-1.8302;48.1302\n"
    "35001_0004_00003;35001;Lanvern;;;Rue des Lilas;;3;;35590;-1.8303;48.1303\n"
    "35001_0004_00007;35001;Lanvern;;;Rue des Lilas;Le Bourg;7;;35590;-1.8307;48.1307\n"
    "35002_0001_00003;35002;Ploumel;;;Rue des Lilas;;3;;35600;-2.0003;47.9003\n"
    "35002_0002_00008;35002;Ploumel;;;Chemin de Kerbras;Le Bourg-Neuf;8;;35600;-2.0108;47.9108\n"
    "35002_0003_00001;35002;Ploumel;;;Route de Kervenn;Kervenn;1;;35600;-2.0201;47.9201\n"
    "35003_0001_00003;35003;Trévic;;;Rue des Lilas;;3;;35610;-2.2003;47.7003\n"
    "35003_0002_00005;35003;Trévic;;;Impasse du Lavoir;Kervenn;5;;35610;-2.2105;47.7105\n"
    "29001_0001_00001;29001;La Fontaine;;;Rue du Port;;1;;29300;-4.0001;48.0001\n";

static gf_gc_result ld_geo(const gf_gc_index *ix, gf_gc_scratch *s, const char *q, const char *pc, const char *city)
{
    gf_gc_result r = geo(ix, s, q, pc, city);
    if (r.type == GF_GC_NONE) fprintf(stderr, "'%s' | %s | %s: not found\n", q, pc ? pc : "", city ? city : "");
    else
        fprintf(stderr, "'%s' | %s | %s: %s (%s, %s) %.3f next %.3f\n", q, pc ? pc : "", city ? city : "", r.name,
                r.id, r.oldcity, r.score, r.score_next);
    return r;
}

static void lieudit_cases(gf_ctx *ctx)
{
    gf_gc_index *ix = NULL;
    CHECK(gc_sample_build(ctx, ld_bal, &ix) == GF_OK);
    if (!ix) return;
    gf_gc_scratch *s;
    CHECK(gf_gc_scratch_create(ix, &s) == GF_OK);
    gf_gc_result r;

    /* 3. homonym streets of two communes déléguées: the former commune
     * named chooses; unnamed, both are candidates and the score says so */
    r = ld_geo(ix, s, "2 Rue de l'Église, Saint-Aubin-des-Bois", NULL, NULL);
    CHECK(!strcmp(r.id, "49301_0001_00002") && !strcmp(r.oldcitycode, "49101") && r.score > 0.8);
    r = ld_geo(ix, s, "2 Rue de l'Église", NULL, "Montfort-sur-Lys");
    CHECK(!strcmp(r.id, "49301_0002_00002") && !strcmp(r.oldcity, "Montfort-sur-Lys") && r.score > 0.8);
    r = ld_geo(ix, s, "2 rue de l eglise montfort sur lys 49450 val de lys", NULL, NULL);
    CHECK(!strcmp(r.id, "49301_0002_00002"));
    r = ld_geo(ix, s, "2 Rue de l'Église", "49450", "Saint-Aubin-des-Bois");
    CHECK(!strcmp(r.id, "49301_0001_00002"));
    r = ld_geo(ix, s, "2 Rue de l'Église", "49450", "Val-de-Lys");
    CHECK(r.type == GF_GC_HOUSENUMBER && r.housenumber == 2 && r.score <= 0.8 && r.score_next >= r.score - 0.05);
    r = ld_geo(ix, s, "Rue de l'Église", "49450", "Val-de-Lys");
    CHECK(r.type == GF_GC_STREET && r.score <= 0.8 && r.score_next >= r.score - 0.05);
    /* a number that only one of them has */
    r = ld_geo(ix, s, "4 Rue de l'Église", "49450", "Val-de-Lys");
    CHECK(!strcmp(r.id, "49301_0002_00004") && r.score > 0.8);
    r = ld_geo(ix, s, "5 Rue de l'Église", "49450", "Val-de-Lys");
    CHECK(!strcmp(r.id, "49301_0001_00005") && r.score > 0.8);
    /* the only street of that name, in another former commune than the
     * one named: still the answer */
    r = ld_geo(ix, s, "3 Rue des Forges", NULL, "Saint-Aubin-des-Bois");
    CHECK(!strcmp(r.id, "49301_0003_00003"));

    /* 1. a lieu-dit named like a street of its commune: the address that
     * has the number; both have it: the street's, with a close score_next */
    r = ld_geo(ix, s, "14 La Fontaine", "35590", "Lanvern");
    CHECK(!strcmp(r.id, "35001_0002_00014") && r.score > 0.8);
    r = ld_geo(ix, s, "10 La Fontaine", "35590", "Lanvern");
    CHECK(!strcmp(r.id, "35001_0001_00010"));
    r = ld_geo(ix, s, "12 La Fontaine 35590 Lanvern", NULL, NULL);
    CHECK(!strcmp(r.id, "35001_0001_00012") && r.score <= 0.8 && r.score_next >= r.score - 0.05);
    /* the lieu-dit's 16 is the street's 16: one address, no doubt */
    r = ld_geo(ix, s, "16 La Fontaine", "35590", "Lanvern");
    CHECK(!strcmp(r.id, "35001_0001_00016") && r.score > 0.9);
    r = ld_geo(ix, s, "12 Rue de la Fontaine", "35590", "Lanvern");
    CHECK(!strcmp(r.id, "35001_0001_00012") && r.score > 0.9);
    /* named exactly like a numbered street ("Le Bourg") */
    r = ld_geo(ix, s, "7 Le Bourg", "35590", "Lanvern");
    CHECK(!strcmp(r.id, "35001_0004_00007") && !strcmp(r.street, "Rue des Lilas") && r.score > 0.8);
    r = ld_geo(ix, s, "3 Le Bourg", "35590", "Lanvern");
    CHECK(!strcmp(r.id, "35001_0003_00003") && r.score > 0.8);
    r = ld_geo(ix, s, "2 Le Bourg", "35590", "Lanvern");
    CHECK(!strcmp(r.id, "35001_0003_00002") && r.score <= 0.8 && r.score_next >= r.score - 0.05);
    r = ld_geo(ix, s, "3 Rue des Lilas", "35590", "Lanvern");
    CHECK(!strcmp(r.id, "35001_0004_00003") && r.score > 0.9);

    /* 2. a lieu-dit in place of the commune: it names its commune */
    r = ld_geo(ix, s, "3 Rue des Lilas, Le Bourg-Neuf", NULL, NULL);
    CHECK(!strcmp(r.id, "35002_0001_00003") && r.score > 0.8);
    r = ld_geo(ix, s, "3 Rue des Lilas", NULL, "Le Bourg Neuf");
    CHECK(!strcmp(r.id, "35002_0001_00003") && r.score > 0.8);
    r = ld_geo(ix, s, "3 Rue des Lilas", "35600", "Le Bourg-Neuf");
    CHECK(!strcmp(r.id, "35002_0001_00003") && r.score > 0.9);
    /* two communes have a Kervenn: the postcode, or the position, chooses;
     * else an answer that says it is ambiguous */
    r = ld_geo(ix, s, "3 Rue des Lilas", "35610", "Kervenn");
    CHECK(!strcmp(r.id, "35003_0001_00003") && r.score > 0.9);
    r = ld_geo(ix, s, "3 Rue des Lilas Kervenn", NULL, NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && r.housenumber == 3 && r.score_next >= r.score - 0.05);
    gf_gc_query qb = {.q = "3 Rue des Lilas Kervenn", .qlen = 23, .lon = -2.21, .lat = 47.70, .has_bias = 1};
    CHECK(gf_gc_geocode(ix, s, &qb, &r) == GF_OK && !strcmp(r.id, "35003_0001_00003"));
    /* a commune far away is named like the lieu-dit: the street chooses */
    r = ld_geo(ix, s, "14 Impasse des Saules", NULL, "La Fontaine");
    CHECK(!strcmp(r.id, "35001_0002_00014") && r.score > 0.8);
    r = ld_geo(ix, s, "14 Impasse des Saules La Fontaine", NULL, NULL);
    CHECK(!strcmp(r.id, "35001_0002_00014") && r.score > 0.8);
    r = ld_geo(ix, s, "1 Rue du Port", NULL, "La Fontaine");
    CHECK(!strcmp(r.id, "29001_0001_00001") && r.score > 0.9);
    /* a text that is only a lieu-dit's name: the lieu-dit */
    r = ld_geo(ix, s, "Le Bourg-Neuf", NULL, NULL);
    CHECK(r.type == GF_GC_LOCALITY && !strcmp(r.citycode, "35002") && r.score > 0.8);
    /* the lieu-dit itself is still found by its name */
    r = ld_geo(ix, s, "8 Le Bourg-Neuf", "35600", "Ploumel");
    CHECK(!strcmp(r.id, "35002_0002_00008") && r.score > 0.8);

    gf_gc_scratch_destroy(s);
    gf_gc_index_destroy(ix);
}

int main(int argc, char **argv)
{
    const char *src = argc > 1 ? argv[1] : ".";
    char bruz[1024], poste[1024], ban[1024], tmp[1024];
    snprintf(bruz, sizeof bruz, "%s/data/samples/bal/bal_35047_v1.3.csv", src);
    snprintf(ban, sizeof ban, "%s/data/samples/ban/adresses-54.csv.gz", src);
    snprintf(poste, sizeof poste, "%s/data/samples/reference/laposte-codes-postaux.csv.gz", src);
    snprintf(tmp, sizeof tmp, "/tmp/gf-test-geocode-%ld.idx", (long)getpid());

    /* 1. normalisation: both sides of every match go through it */
    norm_is("Rue de l'Église", "rue eglise");
    norm_is("R. DE L EGLISE", "rue eglise");
    norm_is("Av. du Gal de Gaulle", "avenue general gaulle");
    norm_is("Bd St-Exupéry", "boulevard saint exupery");
    norm_is("Imp. des Œillets", "impasse oeillets");
    norm_is("Rte de la Ste Baume", "route sainte baume");
    norm_is("Lot. Les Pins / Rés. du Parc", "lotissement pins residence parc");
    norm_is("Chemin d’Aquitaine", "chemin aquitaine");
    norm_is("", "");
    char small[4];
    CHECK(gf_gc_normalize("avenue", 6, small, sizeof small) <= 3 && strlen(small) <= 3);

    /* 2. bounded optimal string alignment */
    CHECK(gc_osa("jaures", 6, "jaures", 6, 2) == 0);
    CHECK(gc_osa("jaures", 6, "jarues", 6, 2) == 1);   /* transposition = 1 edit */
    CHECK(gc_osa("jaures", 6, "jaure", 5, 2) == 1);
    CHECK(gc_osa("jaures", 6, "jxurzs", 6, 2) == 2);
    CHECK(gc_osa("jaures", 6, "pasteur", 7, 2) == 3);  /* beyond the bound: k + 1 */
    CHECK(gc_osa("", 0, "ab", 2, 2) == 2);
    char sf[16];
    CHECK(gc_suffix_norm("quater", 6, sf) && !strcmp(sf, "qua"));
    CHECK(gc_suffix_norm("bisa", 4, sf) && !strcmp(sf, "bisa"));
    CHECK(gc_suffix_norm("b", 1, sf) && !strcmp(sf, "b"));
    CHECK(!gc_suffix_norm("er", 2, sf));

    /* 3. SIRET check digits */
    CHECK(gf_siret_valid("21350047500016", 14));
    CHECK(!gf_siret_valid("21350047500010", 14));
    CHECK(!gf_siret_valid("2135004750001", 13));
    CHECK(!gf_siret_valid("2135004750001a", 14));

    /* 4. index from the real Bruz BAL, the BAN extract and La Poste */
    gf_ctx *ctx;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    gf_gc_index *ix = NULL;
    const char *paths[2] = {bruz, ban};
    gf_gc_build_opts bo = {.paths = paths, .npaths = 2, .postcodes = poste, .threads = 2};
    gf_status st = gf_gc_index_build(ctx, &bo, &ix);
    CHECK(st == GF_OK);
    if (st) { fprintf(stderr, "%s\n", gf_ctx_errmsg(ctx)); GF_TEST_END(); }
    gf_gc_stats gs;
    gf_gc_index_stats(ix, &gs);
    CHECK(gs.addresses > 5000 && gs.streets > 400 && gs.communes > 30000);
    gf_gc_scratch *s;
    CHECK(gf_gc_scratch_create(ix, &s) == GF_OK);

    double lon, lat;
    CHECK(bal_pos(src, "Avenue du Général de Gaulle", "62", "", &lon, &lat));
    gf_gc_result r = geo(ix, s, "62 Avenue du Général de Gaulle", "35170", "Bruz");
    CHECK(r.type == GF_GC_HOUSENUMBER);
    CHECK_NEAR(r.score, 1.0, 1e-9);
    CHECK_STR(r.id, "35047_0380_00062");
    CHECK_STR(r.citycode, "35047");
    CHECK_STR(r.postcode, "35170");
    CHECK(gf_gc_distance(r.lon, r.lat, lon, lat) < 0.05);
    /* abbreviations, case, lost accents, postcode only, CEDEX, floor, building */
    r = geo(ix, s, "62 AV DU GAL DE GAULLE 35170 BRUZ CEDEX", NULL, NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0380_00062"));
    r = geo(ix, s, "Bât. A 2ème étage 62 av du general de gaulle", "35170", NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0380_00062"));
    r = geo(ix, s, "62 avenue du general de gaulle bruz", NULL, NULL); /* city at the end, no postcode */
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0380_00062"));
    r = geo(ix, s, "BP 12 62 avenue du general de gaulle", NULL, "BRUZ");
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0380_00062"));
    /* any order: the number after the street, the city first, a suffix last */
    r = geo(ix, s, "avenue du general de gaulle 62 bruz", NULL, NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0380_00062"));
    r = geo(ix, s, "bruz avenue du general de gaulle 62", NULL, NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0380_00062"));
    r = geo(ix, s, "avenue alphonse legault 66", "35170", NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0010_00066"));
    r = geo(ix, s, "avenue alphonse legault 66bisa", "35170", NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0010_00066_bis_a"));
    /* a CEDEX postcode (unknown to La Poste's base): the city after it names the commune */
    r = geo(ix, s, "62 av du general de gaulle 35043 bruz cedex", NULL, NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0380_00062"));
    /* a street whose name ends with a number keeps it (not a house number) */
    r = geo(ix, s, "place du 19 mars 1962 mont bonvillers", NULL, NULL);
    CHECK((r.type == GF_GC_STREET || r.type == GF_GC_LOCALITY) && !strcmp(r.citycode, "54084") && r.housenumber == -1);
    r = geo(ix, s, "4 place du 19 mars 1962", "54111", NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && r.housenumber == 4 && !strcmp(r.citycode, "54084"));
    /* the text is a commune's name: the commune */
    r = geo(ix, s, "Bruz", NULL, NULL);
    CHECK(r.type == GF_GC_MUNICIPALITY && !strcmp(r.citycode, "35047"));
    /* one-letter typo and a transposition: fuzzy street, lower score */
    r = geo(ix, s, "62 Avenue du Général de Gualle", "35170", "Bruz");
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0380_00062"));
    CHECK(r.score < 1.0 && r.score > 0.5);
    r = geo(ix, s, "62 Avenue du Genral de Gaulle", "35170", "Bruz");
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0380_00062"));
    /* suffix spellings: 66 bis A of Avenue Alphonse Legault exists, as 66 and 66 bis B.. */
    r = geo(ix, s, "66 bis A avenue alphonse legault", "35170", NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0010_00066_bis_a"));
    r = geo(ix, s, "66BISA avenue alphonse legault", "35170", NULL);
    CHECK(!strcmp(r.id, "35047_0010_00066_bis_a"));
    r = geo(ix, s, "66 avenue alphonse legault", "35170", NULL);
    CHECK(!strcmp(r.id, "35047_0010_00066"));
    /* interpolation: a number between two existing ones on the same side */
    /* 23 Rue des Fresnais does not exist, 21 and 25 do: halfway between them */
    double lo1, la1, lo2, la2;
    CHECK(bal_pos(src, "Rue des Fresnais", "21", "", &lo1, &la1));
    CHECK(bal_pos(src, "Rue des Fresnais", "25", "", &lo2, &la2));
    r = geo(ix, s, "23 rue des fresnais", "35170", NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && !r.id[0] && r.housenumber == 23);
    CHECK(gf_gc_distance(r.lon, r.lat, (lo1 + lo2) / 2, (la1 + la2) / 2) < 0.05);
    CHECK(r.score <= 0.75 + 1e-9);
    r = geo(ix, s, "9999 Avenue du Général de Gaulle", "35170", NULL); /* beyond the last number: nearest */
    CHECK(r.type == GF_GC_HOUSENUMBER && !r.id[0] && r.score <= 0.6 + 1e-9);
    r = geo(ix, s, "Avenue du Général de Gaulle", "35170", NULL); /* no number: the street */
    CHECK(r.type == GF_GC_STREET && r.housenumber == -1);
    r = geo(ix, s, "le Manoir", "35170", NULL); /* a lieu-dit (99999) */
    CHECK(r.type == GF_GC_LOCALITY || r.type == GF_GC_STREET);
    r = geo(ix, s, "", "35170", NULL); /* postcode only: the commune */
    CHECK(r.type == GF_GC_MUNICIPALITY && !strcmp(r.citycode, "35047"));
    r = geo(ix, s, "12 rue qui n'existe pas du tout", "35170", NULL);
    CHECK(r.type == GF_GC_MUNICIPALITY && r.score < 0.5);
    r = geo(ix, s, "12 rue de la paix", "99999", NULL); /* no such postcode, no city */
    CHECK(r.type == GF_GC_NONE);
    r = geo(ix, s, "1 rue de la mairie", NULL, "Villers-lès-Nancy"); /* a commune known from La Poste only */
    CHECK(r.type == GF_GC_MUNICIPALITY && !strcmp(r.citycode, "54578"));
    /* another name of the commune (La Poste ligne_5: Pont-Réan is a hamlet of Bruz and Guichen) */
    r = geo(ix, s, "1 rue des acacias", "35170", "Pont-Réan");
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.id, "35047_0001_00001") && r.score > 0.9);
    /* BAN legacy rows (lower-case names, postcodes from the file) */
    r = geo(ix, s, "18 Allée des Acacias", "54111", NULL);
    CHECK(r.type == GF_GC_HOUSENUMBER && !strcmp(r.citycode, "54084"));
    /* the INSEE filter wins over everything */
    gf_gc_query qc = {.q = "62 avenue du general de gaulle", .qlen = 30, .citycode = "54084", .citycodelen = 5};
    CHECK(gf_gc_geocode(ix, s, &qc, &r) == GF_OK && strcmp(r.citycode, "35047") != 0);

    /* 5. save / load: same answers from the mapped file */
    CHECK(gf_gc_index_save(ix, ctx, tmp) == GF_OK);
    gf_gc_index *ix2 = NULL;
    CHECK(gf_gc_index_load(ctx, tmp, &ix2) == GF_OK);
    if (ix2) {
        gf_gc_scratch *s2;
        CHECK(gf_gc_scratch_create(ix2, &s2) == GF_OK);
        const char *qs[] = {"62 av du gal de gaulle", "66 bis a avenue alphonse legault", "61 Avenue du Général de Gaulle",
                            "le manoir", "18 allee des acacias", "3 rue du bois de carce"};
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
            gf_gc_result a = geo(ix, s, qs[i], "35170", NULL);
            gf_gc_result b = geo(ix2, s2, qs[i], "35170", NULL);
            CHECK(a.type == b.type && a.lon == b.lon && a.lat == b.lat && a.score == b.score && !strcmp(a.id, b.id));
        }
        gf_gc_scratch_destroy(s2);
        gf_gc_index_destroy(ix2);
    }
    /* a damaged file is an error, not a crash: flip bytes past the header */
    {
        FILE *f = fopen(tmp, "r+b");
        CHECK(f != NULL);
        if (f) {
            fseek(f, 0, SEEK_END);
            long sz = ftell(f);
            for (long off = 200; off < sz && off < 4000; off += 37) {
                fseek(f, off, SEEK_SET);
                fputc(0xff, f);
            }
            fclose(f);
            gf_gc_index *ix3 = NULL;
            st = gf_gc_index_load(ctx, tmp, &ix3);
            CHECK(st == GF_ERR_PARSE || st == GF_OK);
            gf_gc_index_destroy(ix3);
            f = fopen(tmp, "r+b");
            if (f) { fseek(f, 0, SEEK_END); long n2 = ftell(f); fclose(f); CHECK(truncate(tmp, n2 / 2) == 0); }
            CHECK(gf_gc_index_load(ctx, tmp, &ix3) == GF_ERR_PARSE && ix3 == NULL);
        }
    }
    unlink(tmp);

    /* 6. reverse: grid search equals brute force, inside and around the data */
    srand(42);
    int agree = 0, tries = 0;
    for (int i = 0; i < 600; i++) {
        double qlon = -1.80 + 0.12 * rand() / (double)RAND_MAX, qlat = 47.98 + 0.10 * rand() / (double)RAND_MAX;
        if (i % 100 == 0) { qlon = 6.0 + i / 1000.0; qlat = 49.32; } /* near the BAN communes */
        if (i == 599) { qlon = 2.35; qlat = 48.85; }                   /* far away: Paris */
        gf_gc_result rr;
        CHECK(gf_gc_reverse(ix, s, qlon, qlat, 0, &rr) == GF_OK);
        double bf = brute_nearest(ix, qlon, qlat);
        tries++;
        if (rr.type != GF_GC_NONE && fabs(rr.distance - bf) < 1e-6) agree++;
        else fprintf(stderr, "reverse %.6f %.6f: grid %.3f m, brute force %.3f m\n", qlon, qlat, rr.distance, bf);
    }
    CHECK(agree == tries);
    /* the k nearest numbered addresses: sorted, each at the brute-force
     * distance of its rank; the nearest is what gf_gc_reverse gives */
    {
        gf_gc_result rk[GF_GC_MAX_RESULTS], r1;
        int nk = 0, okk = 1;
        for (int i = 0; i < 60; i++) {
            double qlon = -1.78 + 0.06 * rand() / (double)RAND_MAX, qlat = 48.0 + 0.05 * rand() / (double)RAND_MAX;
            int k = 1 + i % GF_GC_MAX_RESULTS;
            CHECK(gf_gc_reverse_n(ix, s, qlon, qlat, 0, GF_GC_HOUSENUMBER, rk, k, &nk) == GF_OK && nk == k);
            for (int j = 0; j < nk; j++) {
                okk &= rk[j].type == GF_GC_HOUSENUMBER && fabs(rk[j].distance - brute_kth(ix, qlon, qlat, j + 1)) < 1e-6;
                if (j) okk &= rk[j].distance >= rk[j - 1].distance && strcmp(rk[j].id, rk[j - 1].id) != 0;
            }
        }
        CHECK(okk);
        /* street and municipality: each once, nearest first */
        CHECK(gf_gc_reverse_n(ix, s, lon, lat, 2000, GF_GC_STREET, rk, 10, &nk) == GF_OK && nk == 10);
        for (int j = 0; j < nk; j++) {
            CHECK(rk[j].type == GF_GC_STREET && !strcmp(rk[j].name, rk[j].street));
            for (int m = 0; m < j; m++) CHECK(strcmp(rk[j].name, rk[m].name) || strcmp(rk[j].citycode, rk[m].citycode));
            if (j) CHECK(rk[j].distance >= rk[j - 1].distance);
        }
        CHECK(gf_gc_reverse_n(ix, s, lon, lat, 0, GF_GC_MUNICIPALITY, rk, 5, &nk) == GF_OK && nk >= 1 &&
              rk[0].type == GF_GC_MUNICIPALITY && !strcmp(rk[0].citycode, "35047"));
        for (int j = 1; j < nk; j++) CHECK(strcmp(rk[j].citycode, rk[0].citycode) && rk[j].distance >= rk[j - 1].distance);
        CHECK(gf_gc_reverse_n(ix, s, lon, lat, 0, GF_GC_NONE, rk, 3, &nk) == GF_OK && nk == 3);
        CHECK(gf_gc_reverse(ix, s, lon, lat, 0, &r1) == GF_OK && !strcmp(r1.id, rk[0].id) && r1.distance == rk[0].distance);
        CHECK(gf_gc_reverse_n(ix, s, lon, lat, 0, GF_GC_NONE, rk, 0, &nk) == GF_ERR_ARG);
        CHECK(gf_gc_reverse_n(ix, s, lon, lat, 0, GF_GC_NONE, NULL, 1, &nk) == GF_ERR_ARG);
    }
    gf_gc_result rr;
    CHECK(gf_gc_reverse(ix, s, lon, lat, 0, &rr) == GF_OK);
    CHECK(rr.type == GF_GC_HOUSENUMBER && rr.distance < 0.05 && !strcmp(rr.id, "35047_0380_00062"));
    CHECK(gf_gc_reverse(ix, s, 2.35, 48.85, 1000, &rr) == GF_OK && rr.type == GF_GC_NONE); /* max distance */
    CHECK(gf_gc_reverse(ix, s, NAN, 48.0, 0, &rr) == GF_OK && rr.type == GF_GC_NONE);
    /* points far outside the grid: the cell number used to leave `long`
     * (UBSan: signed overflow); with a limit nothing is found, without one
     * the nearest address still is */
    {
        static const double far[][2] = {{1e300, 0}, {-1e300, 0}, {0, 1e300}, {-9.3e16, 48}, {9.3e16, -48},
                                        {-1.7e308, -1.7e308}, {179.9, 89.9}, {-179.9, -89.9}};
        for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
            CHECK(gf_gc_reverse(ix, s, far[i][0], far[i][1], 500, &rr) == GF_OK && rr.type == GF_GC_NONE);
            CHECK(gf_gc_reverse(ix, s, far[i][0], far[i][1], 0, &rr) == GF_OK && rr.type != GF_GC_NONE);
        }
        /* 585 km from Bruz (Strasbourg): nothing within 500 m */
        CHECK(gf_gc_reverse(ix, s, 7.75, 48.58, 500, &rr) == GF_OK);
        CHECK(rr.type == GF_GC_NONE || rr.distance <= 500);
    }

    /* 6a. autocompletion: the last word as a prefix, with or without a
     * commune; whole words (prefix 0, the CSV geocoder's) do not complete;
     * a one-letter prefix answers, bounded */
    {
        gf_gc_result rs[GF_GC_MAX_RESULTS];
        int n = -1;
        static const struct { const char *q, *pc, *name; } pq[] = {
            {"8 bd louis pa", NULL, "8 Boulevard Louis Pasteur"},
            {"8 bd louis pa", "35170", "8 Boulevard Louis Pasteur"},
            {"62 av du general de gau", "35170", "62 Avenue du Général de Gaulle"},
            {"12 allee des mes", NULL, "12 Allée des Mésanges"},
            {"louis past", NULL, "Boulevard Louis Pasteur"},
        };
        for (size_t i = 0; i < sizeof pq / sizeof pq[0]; i++) {
            gf_gc_query sq = {.q = pq[i].q, .qlen = strlen(pq[i].q), .postcode = pq[i].pc,
                              .postcodelen = pq[i].pc ? 5 : 0, .prefix = 1};
            CHECK(gf_gc_search(ix, s, &sq, rs, 5, &n) == GF_OK && n >= 1);
            if (n >= 1) {
                CHECK_STR(rs[0].name, pq[i].name);
                CHECK(rs[0].score > 0.5 && rs[0].score <= 1);
            }
            sq.prefix = 0; /* no commune, an unfinished word: nothing found without completion (with one, the fuzzy match may) */
            CHECK(gf_gc_search(ix, s, &sq, rs, 5, &n) == GF_OK);
            if (!pq[i].pc) CHECK(n == 0);
        }
        /* whole words naming no commune: the name looked for in the whole
         * index (abbreviations expanded); a name that goes on after them
         * scores lower; a word is never completed */
        {
            gf_gc_query wq = {.q = "8 bd louis pasteur", .qlen = 18};
            CHECK(gf_gc_search(ix, s, &wq, rs, 5, &n) == GF_OK && n >= 1);
            double whole = n >= 1 ? rs[0].score : 0;
            if (n >= 1) CHECK_STR(rs[0].name, "8 Boulevard Louis Pasteur");
            wq = (gf_gc_query){.q = "8 bd louis", .qlen = 10};
            CHECK(gf_gc_search(ix, s, &wq, rs, 5, &n) == GF_OK && n >= 1);
            if (n >= 1) CHECK(!strcmp(rs[0].name, "8 Boulevard Louis Pasteur") && rs[0].score < whole);
            wq = (gf_gc_query){.q = "8 bd louis pasteu", .qlen = 17};
            CHECK(gf_gc_search(ix, s, &wq, rs, 5, &n) == GF_OK && n == 0);
        }
        /* a blank typed after the last word: a whole word */
        gf_gc_query sq = {.q = "8 bd louis pa ", .qlen = 14, .prefix = 1};
        CHECK(gf_gc_search(ix, s, &sq, rs, 5, &n) == GF_OK && n == 0);
        sq = (gf_gc_query){.q = "rue c", .qlen = 5, .prefix = 1};
        CHECK(gf_gc_search(ix, s, &sq, rs, GF_GC_MAX_RESULTS, &n) == GF_OK && n >= 2);
        for (int i = 0; i < n; i++) CHECK(!strncasecmp(rs[i].street, "Rue ", 4) && rs[i].type == GF_GC_STREET);
        int allc = 1;
        for (uint32_t c = 0; c < 3 && c < ix->ncommunes; c++) {
            uint32_t out[GC_PREFIX_SCAN];
            int k = gc_prefix_streets(ix, c, NULL, 0, "a", 1, out, GC_PREFIX_SCAN);
            allc &= k >= 0 && k <= GC_PREFIX_SCAN;
            for (int j = 0; j < k; j++) allc &= ix->streets[out[j]].commune == c;
        }
        CHECK(allc);
    }

    /* 6b. the search entry point: a ranked list, type filters, bias; the
     * context columns */
    {
        gf_gc_result rs[GF_GC_MAX_RESULTS];
        int n = -1;
        const char *qt = "62 av du general de gaulle";
        gf_gc_query sq = {.q = qt, .qlen = strlen(qt), .postcode = "35170", .postcodelen = 5};
        CHECK(gf_gc_search(ix, s, &sq, rs, 5, &n) == GF_OK && n >= 1 && n <= 5);
        CHECK(n >= 1 && !strcmp(rs[0].id, "35047_0380_00062") && rs[0].type == GF_GC_HOUSENUMBER);
        CHECK_STR(rs[0].name, "62 Avenue du Général de Gaulle");
        CHECK_STR(rs[0].context, "35, Ille-et-Vilaine, Bretagne");
        CHECK(rs[0].importance > 0.5 && rs[0].importance <= 1 && !rs[0].district[0]);
        for (int i = 1; i < n; i++) CHECK(rs[i].score <= rs[0].score && strcmp(rs[i].street, rs[0].street) != 0);
        CHECK(gf_gc_search(ix, s, &sq, rs, 0, &n) == GF_ERR_ARG);
        sq.has_bias = 1; sq.lon = -1.74; sq.lat = 48.02;
        CHECK(gf_gc_search(ix, s, &sq, rs, 1, &n) == GF_OK && n == 1 && !strcmp(rs[0].id, "35047_0380_00062"));
        sq.type = GF_GC_STREET;
        CHECK(gf_gc_search(ix, s, &sq, rs, 3, &n) == GF_OK && n >= 1 && rs[0].type == GF_GC_STREET);
        CHECK(n >= 1 && !strcmp(rs[0].street, "Avenue du Général de Gaulle") && rs[0].housenumber < 0);
        for (int i = 0; i < n; i++) CHECK(rs[i].type == GF_GC_STREET);
        sq.type = GF_GC_MUNICIPALITY;
        CHECK(gf_gc_search(ix, s, &sq, rs, 3, &n) == GF_OK && n == 1 && rs[0].type == GF_GC_MUNICIPALITY);
        CHECK(n == 1 && !strcmp(rs[0].citycode, "35047"));
        sq.type = GF_GC_LOCALITY;
        CHECK(gf_gc_search(ix, s, &sq, rs, 3, &n) == GF_OK);
        for (int i = 0; i < n; i++) CHECK(rs[i].type == GF_GC_LOCALITY);
        /* typos across a word boundary find the street, not the commune */
        static const char *const cross[][2] = {
            {"3 Rue desl'Orguenais", "Rue de l'Orguenais"}, {"5 Rueades Charmilles", "Rue des Charmilles"},
            {"1 Rue duC laray", "Rue du Claray"}, {"2 ImpGwilen", "Impasse Gwilen"},
            {"4 rue eds Cadrans", "Rue des Cadrans"}, {"1 Allee dos Acacias", "Rue des Acacias"},
            {"5 Rue dr la Genetais", "Rue de la Genetais"}, {"Rue des Char milles", "Rue des Charmilles"},
            {"35170 Bruz 62 av du general de gaulle", "Avenue du Général de Gaulle"},
            {"62 av du general de gaulle 35170 Bruz", "Avenue du Général de Gaulle"}};
        for (size_t i = 0; i < sizeof cross / sizeof cross[0]; i++) {
            gf_gc_query cq = {.q = cross[i][0], .qlen = strlen(cross[i][0])};
            if (strncmp(cross[i][0], "35170", 5) && !strstr(cross[i][0], "Bruz")) { cq.postcode = "35170"; cq.postcodelen = 5; }
            CHECK(gf_gc_search(ix, s, &cq, rs, 1, &n) == GF_OK && n == 1);
            if (n != 1 || strcmp(rs[0].street, cross[i][1]) != 0 || rs[0].score > 1 || rs[0].score < 0.3)
                fprintf(stderr, "'%s': got '%s' (%s, %.3f), want %s\n", cross[i][0], n ? rs[0].name : "", n ? gf_gc_type_name(rs[0].type) : "",
                        n ? rs[0].score : 0, cross[i][1]);
            CHECK(n == 1 && !strcmp(rs[0].street, cross[i][1]) && rs[0].type != GF_GC_MUNICIPALITY);
        }
        CHECK_STR(gc_context("2A004"), "2A, Corse-du-Sud, Corse");
        CHECK_STR(gc_context("97411"), "974, La Réunion");
        CHECK_STR(gc_context("99001"), "");
        CHECK_STR(gc_context(""), "");
        CHECK(gc_arrondissement_city("75115") && !strcmp(gc_arrondissement_city("75115"), "Paris"));
        CHECK(gc_arrondissement_city("69383") && !strcmp(gc_arrondissement_city("69383"), "Lyon"));
        CHECK(gc_arrondissement_city("13216") && !strcmp(gc_arrondissement_city("13216"), "Marseille"));
        CHECK(!gc_arrondissement_city("75056") && !gc_arrondissement_city("75121") && !gc_arrondissement_city("7511"));
        CHECK(gc_legal_epsg("35047") == 2154 && gc_legal_epsg("97411") == 2975 && gc_legal_epsg("97209") == 5490);
        CHECK(gc_legal_epsg("98735") == 0 && gc_legal_epsg("") == 0);
    }

    /* 7. robustness: random queries built from address-like pieces and raw
     * bytes must never crash (replayed under ASan+UBSan by the sanitize build) */
    {
        static const char *const pieces[] = {"12", "bis", "b", "d", "l", "rue", "r.", "avenue", "de", "la", "35170",
            "bruz", "cedex", "bp", "bât", "étage", "2ème", "99999", "-", "'", "\xc3", "\xc3\xa9", "\xe2\x80\x99", "/",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "genetais", "0", "123456", "quater", "a1", " ", ",", "\xff"};
        const size_t np = sizeof pieces / sizeof pieces[0];
        uint64_t x = 88172645463325252ULL;
        char q[600];
        int found = 0;
        for (int it = 0; it < 20000; it++) {
            size_t ql = 0;
            int nw = 1 + (int)(x % 12);
            for (int w = 0; w < nw; w++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                const char *pc = pieces[x % np];
                size_t l = strlen(pc);
                if (ql + l + 1 >= sizeof q) break;
                memcpy(q + ql, pc, l);
                ql += l;
                if (x & 16) q[ql++] = ' ';
            }
            gf_gc_query rq = {.q = q, .qlen = ql};
            if (x & 32) { rq.postcode = "35170"; rq.postcodelen = 5; }
            if (x & 64) { rq.city = q; rq.citylen = ql / 2; }
            CHECK(gf_gc_geocode(ix, s, &rq, &r) == GF_OK);
            found += r.type != GF_GC_NONE;
            CHECK(r.type == GF_GC_NONE || (r.score >= 0 && r.score <= 1 && isfinite(r.lon) && isfinite(r.lat)));
        }
        CHECK(found > 0);
    }

    /* 8. invalid inputs */
    CHECK(gf_gc_geocode(NULL, s, &qc, &r) == GF_ERR_ARG);
    CHECK(gf_gc_geocode(ix, s, NULL, &r) == GF_ERR_ARG);
    CHECK(gf_gc_reverse(ix, NULL, 0, 0, 0, &rr) == GF_ERR_ARG);
    gf_gc_query qn = {0};
    CHECK(gf_gc_geocode(ix, s, &qn, &r) == GF_OK && r.type == GF_GC_NONE);
    char longq[3000];
    memset(longq, 'a', sizeof longq);
    gf_gc_query ql = {.q = longq, .qlen = sizeof longq, .postcode = "35170", .postcodelen = 5};
    CHECK(gf_gc_geocode(ix, s, &ql, &r) == GF_OK);
    gf_gc_index *bad = NULL;
    CHECK(gf_gc_index_load(ctx, poste, &bad) == GF_ERR_PARSE && bad == NULL); /* not an index */
    CHECK(strstr(gf_ctx_errmsg(ctx), "not a geoflux index") != NULL);
    CHECK(gf_gc_index_load(ctx, "/nonexistent/x.idx", &bad) == GF_ERR_INPUT);
    const char *notaddr[1] = {poste};
    gf_gc_build_opts nbo = {.paths = notaddr, .npaths = 1, .threads = 1};
    CHECK(gf_gc_index_build(ctx, &nbo, &bad) == GF_ERR_SCHEMA);
    gf_gc_builder *gb;
    CHECK(gf_gc_builder_create(ctx, &gb) == GF_OK);
    CHECK(gf_gc_builder_add_postcodes(gb, ctx, bruz) == GF_ERR_SCHEMA); /* a BAL is not the La Poste base */
    gf_gc_builder_destroy(gb);
    gf_gc_builder_destroy(NULL);
    gf_gc_index_destroy(NULL);
    gf_gc_scratch_destroy(NULL);

    /* 9. the table reader and the SCDL checks, on files written here */
    {
        char tp[1100];
        snprintf(tp, sizeof tp, "%s.csv", tmp);
        FILE *f = fopen(tp, "wb");
        fputs("\xEF\xBB\xBF" "COLL_NOM;COLL_SIRET;EQUIP_UID;EQUIP_THEME;EQUIP_CODE;EQUIP_TYPE;EQUIP_NOM;ADR_NUMERO;"
              "ADR_NOMVOIE;ADR_CODEPOSTAL;ADR_COMMUNE;EQUIP_LAT;EQUIP_LONG;;EQUIP_NOM\n", f);
        /* 1 valid; 2 bad SIRET; 3 too many fields; 4 short row (missing trailing columns: kept);
         * 5 theme in another case (warning only) */
        fputs("Bruz;21350047500016;35047-01010401-001;Equipement administratif;01010401-001;Mairie;Hôtel de ville;62;"
              "Avenue du Général de Gaulle;35170;Bruz;48.0230962;-1.7382079;;x\n", f);
        fputs("Bruz;21350047500010;35047-01010401-002;Equipement administratif;01010401-002;Mairie;Annexe;1;"
              "Rue des Acacias;35170;Bruz;;;;\n", f);
        fputs("Bruz;21350047500016;35047-01010401-003;Equipement administratif;01010401-003;Mairie;A;1;"
              "Rue des Acacias;35170;Bruz;;;;;extra;more\n", f);
        fputs("Bruz;21350047500016;35047-01010401-004;Equipement culturel;01010401-004;Salle;B;1;Rue des Acacias;35170;Bruz\n", f);
        fputs("Bruz;21350047500016;35047-01010401-005;EQUIPEMENT CULTUREL;01010401-005;Salle;C;1;Rue des Acacias;35170;Bruz;;;;\n", f);
        fclose(f);
        gf_table_reader *tr = NULL;
        CHECK(gf_table_open(ctx, tp, NULL, &tr) == GF_OK);
        if (tr) {
            const gf_schema *ts = gf_table_schema(tr);
            CHECK(gf_table_layout_of(tr) == GF_TABLE_EQUIP_0_1_5);
            CHECK(ts->nfields == 15);
            CHECK_STR(ts->fields[0].name, "COLL_NOM");        /* BOM stripped */
            CHECK_STR(ts->fields[13].name, "column_14");      /* empty header name */
            CHECK_STR(ts->fields[14].name, "EQUIP_NOM_15");   /* duplicate kept, renamed */
            CHECK(ts->fields[11].type == GF_T_REAL);
            gf_batch *bt;
            CHECK(gf_batch_create(ts, 64, &bt) == GF_OK);
            CHECK(gf_table_source_vt.next(tr, ctx, bt) == GF_OK);
            CHECK(bt->n == 4 && bt->nrej == 1 && bt->rej[0].line == 4);
            void *vst;
            CHECK(gf_equip_validate_create(ctx, tr, 0, &vst) == GF_OK);
            CHECK(gf_equip_validate_stage_vt.run(vst, ctx, 0, bt) == GF_OK);
            gf_batch_compact(bt);
            CHECK(bt->n == 3 && bt->nrej == 2);
            CHECK(bt->nrej == 2 && strstr(gf_batch_str(bt, bt->rej[1].reason), "coll_siret.checksum") != NULL);
            CHECK(bt->n == 3 && bt->warnings[2].len > 0 &&
                  strstr(gf_batch_str(bt, bt->warnings[2]), "equip_theme.enum_fuzzy") != NULL);
            CHECK(bt->warnings[1].len > 0 && strstr(gf_batch_str(bt, bt->warnings[1]), "equip_lat.missing") != NULL);
            gf_equip_validate_stage_vt.destroy(vst);
            gf_batch_destroy(bt);
            gf_table_destroy(tr);
        }
        /* a header too wide for the result columns, and an empty file */
        f = fopen(tp, "wb");
        for (int i = 0; i < GF_MAX_FIELDS; i++) fprintf(f, "c%d%s", i, i < GF_MAX_FIELDS - 1 ? "," : "\n");
        fclose(f);
        tr = NULL;
        CHECK(gf_table_open(ctx, tp, NULL, &tr) == GF_ERR_SCHEMA && tr == NULL);
        f = fopen(tp, "wb");
        fclose(f);
        CHECK(gf_table_open(ctx, tp, NULL, &tr) == GF_ERR_SCHEMA && tr == NULL);
        CHECK(gf_table_open(ctx, "/nonexistent/t.csv", NULL, &tr) == GF_ERR_INPUT && tr == NULL);
        gf_table_destroy(NULL);
        unlink(tp);
    }

    /* 10. the lieu-dit and commune déléguée cases on made-up data */
    lieudit_cases(ctx);

    gf_gc_scratch_destroy(s);
    gf_gc_index_destroy(ix);
    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
