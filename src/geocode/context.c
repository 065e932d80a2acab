/* What the national geocoder says around a commune: result_context
 * ("35, Ille-et-Vilaine, Bretagne": department number, department, region)
 * and the city of an arrondissement (Paris, Lyon and Marseille are
 * addressed by arrondissement, reported as city + district). Static tables:
 * the query path only returns pointers to them. */
#include <stdio.h>
#include <string.h>

#include "geocode/gc.h"

/* Sorted by code (byte order) for a binary search. */
static const struct { char code[4]; const char *context; } depts[] = {
    {"01", "01, Ain, Auvergne-Rhône-Alpes"}, {"02", "02, Aisne, Hauts-de-France"},
    {"03", "03, Allier, Auvergne-Rhône-Alpes"}, {"04", "04, Alpes-de-Haute-Provence, Provence-Alpes-Côte d'Azur"},
    {"05", "05, Hautes-Alpes, Provence-Alpes-Côte d'Azur"}, {"06", "06, Alpes-Maritimes, Provence-Alpes-Côte d'Azur"},
    {"07", "07, Ardèche, Auvergne-Rhône-Alpes"}, {"08", "08, Ardennes, Grand Est"}, {"09", "09, Ariège, Occitanie"},
    {"10", "10, Aube, Grand Est"}, {"11", "11, Aude, Occitanie"}, {"12", "12, Aveyron, Occitanie"},
    {"13", "13, Bouches-du-Rhône, Provence-Alpes-Côte d'Azur"}, {"14", "14, Calvados, Normandie"},
    {"15", "15, Cantal, Auvergne-Rhône-Alpes"}, {"16", "16, Charente, Nouvelle-Aquitaine"},
    {"17", "17, Charente-Maritime, Nouvelle-Aquitaine"}, {"18", "18, Cher, Centre-Val de Loire"},
    {"19", "19, Corrèze, Nouvelle-Aquitaine"}, {"21", "21, Côte-d'Or, Bourgogne-Franche-Comté"},
    {"22", "22, Côtes-d'Armor, Bretagne"}, {"23", "23, Creuse, Nouvelle-Aquitaine"},
    {"24", "24, Dordogne, Nouvelle-Aquitaine"}, {"25", "25, Doubs, Bourgogne-Franche-Comté"},
    {"26", "26, Drôme, Auvergne-Rhône-Alpes"}, {"27", "27, Eure, Normandie"},
    {"28", "28, Eure-et-Loir, Centre-Val de Loire"}, {"29", "29, Finistère, Bretagne"},
    {"2A", "2A, Corse-du-Sud, Corse"}, {"2B", "2B, Haute-Corse, Corse"}, {"30", "30, Gard, Occitanie"},
    {"31", "31, Haute-Garonne, Occitanie"}, {"32", "32, Gers, Occitanie"}, {"33", "33, Gironde, Nouvelle-Aquitaine"},
    {"34", "34, Hérault, Occitanie"}, {"35", "35, Ille-et-Vilaine, Bretagne"}, {"36", "36, Indre, Centre-Val de Loire"},
    {"37", "37, Indre-et-Loire, Centre-Val de Loire"}, {"38", "38, Isère, Auvergne-Rhône-Alpes"},
    {"39", "39, Jura, Bourgogne-Franche-Comté"}, {"40", "40, Landes, Nouvelle-Aquitaine"},
    {"41", "41, Loir-et-Cher, Centre-Val de Loire"}, {"42", "42, Loire, Auvergne-Rhône-Alpes"},
    {"43", "43, Haute-Loire, Auvergne-Rhône-Alpes"}, {"44", "44, Loire-Atlantique, Pays de la Loire"},
    {"45", "45, Loiret, Centre-Val de Loire"}, {"46", "46, Lot, Occitanie"},
    {"47", "47, Lot-et-Garonne, Nouvelle-Aquitaine"}, {"48", "48, Lozère, Occitanie"},
    {"49", "49, Maine-et-Loire, Pays de la Loire"}, {"50", "50, Manche, Normandie"}, {"51", "51, Marne, Grand Est"},
    {"52", "52, Haute-Marne, Grand Est"}, {"53", "53, Mayenne, Pays de la Loire"},
    {"54", "54, Meurthe-et-Moselle, Grand Est"}, {"55", "55, Meuse, Grand Est"}, {"56", "56, Morbihan, Bretagne"},
    {"57", "57, Moselle, Grand Est"}, {"58", "58, Nièvre, Bourgogne-Franche-Comté"}, {"59", "59, Nord, Hauts-de-France"},
    {"60", "60, Oise, Hauts-de-France"}, {"61", "61, Orne, Normandie"}, {"62", "62, Pas-de-Calais, Hauts-de-France"},
    {"63", "63, Puy-de-Dôme, Auvergne-Rhône-Alpes"}, {"64", "64, Pyrénées-Atlantiques, Nouvelle-Aquitaine"},
    {"65", "65, Hautes-Pyrénées, Occitanie"}, {"66", "66, Pyrénées-Orientales, Occitanie"},
    {"67", "67, Bas-Rhin, Grand Est"}, {"68", "68, Haut-Rhin, Grand Est"}, {"69", "69, Rhône, Auvergne-Rhône-Alpes"},
    {"70", "70, Haute-Saône, Bourgogne-Franche-Comté"}, {"71", "71, Saône-et-Loire, Bourgogne-Franche-Comté"},
    {"72", "72, Sarthe, Pays de la Loire"}, {"73", "73, Savoie, Auvergne-Rhône-Alpes"},
    {"74", "74, Haute-Savoie, Auvergne-Rhône-Alpes"}, {"75", "75, Paris, Île-de-France"},
    {"76", "76, Seine-Maritime, Normandie"}, {"77", "77, Seine-et-Marne, Île-de-France"},
    {"78", "78, Yvelines, Île-de-France"}, {"79", "79, Deux-Sèvres, Nouvelle-Aquitaine"},
    {"80", "80, Somme, Hauts-de-France"}, {"81", "81, Tarn, Occitanie"}, {"82", "82, Tarn-et-Garonne, Occitanie"},
    {"83", "83, Var, Provence-Alpes-Côte d'Azur"}, {"84", "84, Vaucluse, Provence-Alpes-Côte d'Azur"},
    {"85", "85, Vendée, Pays de la Loire"}, {"86", "86, Vienne, Nouvelle-Aquitaine"},
    {"87", "87, Haute-Vienne, Nouvelle-Aquitaine"}, {"88", "88, Vosges, Grand Est"},
    {"89", "89, Yonne, Bourgogne-Franche-Comté"}, {"90", "90, Territoire de Belfort, Bourgogne-Franche-Comté"},
    {"91", "91, Essonne, Île-de-France"}, {"92", "92, Hauts-de-Seine, Île-de-France"},
    {"93", "93, Seine-Saint-Denis, Île-de-France"}, {"94", "94, Val-de-Marne, Île-de-France"},
    {"95", "95, Val-d'Oise, Île-de-France"}, {"971", "971, Guadeloupe"}, {"972", "972, Martinique"},
    {"973", "973, Guyane"}, {"974", "974, La Réunion"}, {"975", "975, Saint-Pierre-et-Miquelon"},
    {"976", "976, Mayotte"}, {"977", "977, Saint-Barthélemy"}, {"978", "978, Saint-Martin"},
    {"986", "986, Wallis-et-Futuna"}, {"987", "987, Polynésie française"}, {"988", "988, Nouvelle-Calédonie"},
};

const char *gc_context(const char *insee)
{
    if (!insee[0] || !insee[1]) return ""; /* before reading insee[1]: "" has one byte */
    char code[4] = {insee[0], insee[1], 0, 0};
    if (insee[0] == '9' && (insee[1] == '7' || insee[1] == '8') && insee[2]) code[2] = insee[2];
    int lo = 0, hi = (int)(sizeof depts / sizeof depts[0]) - 1;
    while (lo <= hi) {
        int m = (lo + hi) / 2;
        int c = strcmp(depts[m].code, code);
        if (c == 0) return depts[m].context;
        if (c < 0) lo = m + 1;
        else hi = m - 1;
    }
    return "";
}

/* Paris, Lyon and Marseille: the city's own INSEE code (the whole city,
 * which has no addresses of its own), its arrondissements' first code and
 * count. */
static const struct { const char *name, *nname, *code; long first; int n; } plm[] = {
    {"Paris", "paris", "75056", 75101, 20},
    {"Lyon", "lyon", "69123", 69381, 9},
    {"Marseille", "marseille", "13055", 13201, 16},
};
#define NPLM (int)(sizeof plm / sizeof plm[0])

/* "Paris 1er Arrondissement" ... "Marseille 16e Arrondissement", as the
 * national service writes result_district. */
static const char *const district[NPLM][20] = {
    {"Paris 1er Arrondissement", "Paris 2e Arrondissement", "Paris 3e Arrondissement", "Paris 4e Arrondissement",
     "Paris 5e Arrondissement", "Paris 6e Arrondissement", "Paris 7e Arrondissement", "Paris 8e Arrondissement",
     "Paris 9e Arrondissement", "Paris 10e Arrondissement", "Paris 11e Arrondissement", "Paris 12e Arrondissement",
     "Paris 13e Arrondissement", "Paris 14e Arrondissement", "Paris 15e Arrondissement", "Paris 16e Arrondissement",
     "Paris 17e Arrondissement", "Paris 18e Arrondissement", "Paris 19e Arrondissement", "Paris 20e Arrondissement"},
    {"Lyon 1er Arrondissement", "Lyon 2e Arrondissement", "Lyon 3e Arrondissement", "Lyon 4e Arrondissement",
     "Lyon 5e Arrondissement", "Lyon 6e Arrondissement", "Lyon 7e Arrondissement", "Lyon 8e Arrondissement",
     "Lyon 9e Arrondissement"},
    {"Marseille 1er Arrondissement", "Marseille 2e Arrondissement", "Marseille 3e Arrondissement",
     "Marseille 4e Arrondissement", "Marseille 5e Arrondissement", "Marseille 6e Arrondissement",
     "Marseille 7e Arrondissement", "Marseille 8e Arrondissement", "Marseille 9e Arrondissement",
     "Marseille 10e Arrondissement", "Marseille 11e Arrondissement", "Marseille 12e Arrondissement",
     "Marseille 13e Arrondissement", "Marseille 14e Arrondissement", "Marseille 15e Arrondissement",
     "Marseille 16e Arrondissement"},
};

/* Index in plm[] of the city whose arrondissement insee is, and its rank, or -1. */
static int plm_of(const char *insee, int *rank)
{
    if (strlen(insee) != 5) return -1;
    long v = 0;
    for (int i = 0; i < 5; i++) {
        if (insee[i] < '0' || insee[i] > '9') return -1;
        v = v * 10 + (insee[i] - '0');
    }
    for (int k = 0; k < NPLM; k++)
        if (v >= plm[k].first && v < plm[k].first + plm[k].n) {
            *rank = (int)(v - plm[k].first);
            return k;
        }
    return -1;
}

const char *gc_arrondissement_city(const char *insee)
{
    int r, k = plm_of(insee, &r);
    return k < 0 ? NULL : plm[k].name;
}

const char *gc_arrondissement_citycode(const char *insee)
{
    int r, k = plm_of(insee, &r);
    return k < 0 ? NULL : plm[k].code;
}

const char *gc_arrondissement_district(const char *insee)
{
    int r, k = plm_of(insee, &r);
    return k < 0 ? NULL : district[k][r];
}

int gc_arrondissements(const char *name, size_t n, char codes[][6], int max)
{
    for (int k = 0; k < NPLM; k++) {
        const char *id = strlen(plm[k].code) == n && !memcmp(plm[k].code, name, n) ? plm[k].code : NULL;
        if (!id && !(strlen(plm[k].nname) == n && !memcmp(plm[k].nname, name, n))) continue;
        int m = plm[k].n < max ? plm[k].n : max;
        for (int i = 0; i < m; i++) snprintf(codes[i], 6, "%ld", plm[k].first + i);
        return m;
    }
    return 0;
}

/* The legal projected CRS of a commune's territory, as EPSG code: Lambert-93
 * in metropolitan France, the local UTM zones overseas (RGAF09, RGFG95,
 * RGR92, RGSPM06, RGM04), 0 where there is none we know. */
int gc_legal_epsg(const char *insee)
{
    if (!insee[0] || (insee[0] == '9' && insee[1] == '8')) return 0; /* Pacific: no national CRS we know */
    if (insee[0] != '9' || insee[1] != '7') return 2154;
    switch (insee[2]) {
    case '1': case '2': case '7': case '8': return 5490; /* Guadeloupe, Martinique, St-Barthélemy, St-Martin */
    case '3': return 2972;                               /* Guyane */
    case '4': return 2975;                               /* La Réunion */
    case '5': return 4467;                               /* Saint-Pierre-et-Miquelon */
    case '6': return 4471;                               /* Mayotte */
    default: return 0;
    }
}
