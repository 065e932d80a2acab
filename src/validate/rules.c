/* The reference validator's rules (@ban-team/validateur-bal 3.5.2,
 * lib/schema/fields.ts, row.ts, profiles/NAME.ts) in C. Each function names the
 * reference function it mirrors; where JavaScript string semantics matter
 * (trim(), length in UTF-16 units, toUpperCase() === v) the helpers below
 * reproduce them for the characters found in French addresses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate/rules_int.h"
#include "validate/cog_data.h"

const char *const gf_vf_names[VF_COUNT] = {
    "cle_interop", "uid_adresse", "id_ban_commune", "id_ban_toponyme", "id_ban_adresse",
    "voie_nom", "toponyme", "lieudit_complement_nom", "numero", "suffixe", "commune_insee",
    "commune_nom", "commune_deleguee_insee", "commune_deleguee_nom", "position", "x", "y",
    "long", "lat", "cad_parcelles", "source", "date_der_maj", "certification_commune"};

/* formats per field, as bit masks of 1.1 .. 1.5 */
#define F11 1
#define F12 2
#define F13 4
#define F14 8
#define F15 16
static const unsigned char vf_formats[VF_COUNT] = {
    [VF_CLE_INTEROP] = F11 | F12 | F13 | F14, [VF_UID_ADRESSE] = F11 | F12 | F13,
    [VF_ID_BAN_COMMUNE] = F14 | F15, [VF_ID_BAN_TOPONYME] = F14 | F15, [VF_ID_BAN_ADRESSE] = F14 | F15,
    [VF_VOIE_NOM] = F11 | F12 | F13 | F14, [VF_TOPONYME] = F15,
    [VF_LIEUDIT_COMPLEMENT_NOM] = F12 | F13 | F14 | F15, [VF_NUMERO] = 31, [VF_SUFFIXE] = 31,
    [VF_COMMUNE_INSEE] = F12 | F13 | F14 | F15, [VF_COMMUNE_NOM] = 31,
    [VF_COMMUNE_DELEGUEE_INSEE] = F12 | F13 | F14 | F15, [VF_COMMUNE_DELEGUEE_NOM] = F12 | F13 | F14 | F15,
    [VF_POSITION] = 31, [VF_X] = 31, [VF_Y] = 31, [VF_LONG] = 31, [VF_LAT] = 31,
    [VF_CAD_PARCELLES] = F12 | F13 | F14 | F15, [VF_SOURCE] = 31, [VF_DATE_DER_MAJ] = 31,
    [VF_CERTIFICATION_COMMUNE] = F13 | F14 | F15};

static int fmt_bit(const char *fmt)
{
    if (!fmt || strlen(fmt) < 3 || fmt[0] != '1' || fmt[1] != '.' || fmt[2] < '1' || fmt[2] > '5') return 0;
    return 1 << (fmt[2] - '1');
}

int gf_vf_in_format(int f, const char *fmt) { return f < 0 || (vf_formats[f] & fmt_bit(fmt)) != 0; }

int gf_vf_allows_lang(int f)
{
    return f == VF_VOIE_NOM || f == VF_TOPONYME || f == VF_LIEUDIT_COMPLEMENT_NOM || f == VF_COMMUNE_NOM ||
           f == VF_COMMUNE_DELEGUEE_NOM;
}

int gf_vf_find(const char *name, size_t n)
{
    for (int f = 0; f < VF_COUNT; f++)
        if (strlen(gf_vf_names[f]) == n && memcmp(gf_vf_names[f], name, n) == 0) return f;
    return -1;
}

const char *const gf_vlangs[] = {"fra", "bre", "eus", "gsw", "cos", "gcr", "gcf", "rcf", "swb",
                                 "oci", "cat", "pcd", "oc-provenc", "oc-nicard", "vls", "fr-gallo",
                                 "aji", "dhv", "nen", "pri", "ty", "mrq", "pmt", "mrv", "frp"};
const int gf_nvlangs = (int)(sizeof gf_vlangs / sizeof gf_vlangs[0]);

/* ---- header: computeFields() -------------------------------------------- */

void gf_vheader_analyse(const char *const *names, const size_t *lens, int n, gf_vheader *h)
{
    memset(h, 0, sizeof *h);
    h->ncols = n;
    unsigned char used[GF_CSV_MAX_FIELDS] = {0};
    for (int f = 0; f < VF_COUNT; f++) {
        h->field_col[f] = -1;
        for (int i = 0; i < n && i < GF_CSV_MAX_FIELDS; i++)
            if (!used[i] && gf_vf_find(names[i], lens[i]) == f) { h->field_col[f] = i; used[i] = 1; break; }
        if (h->field_col[f] < 0 || !gf_vf_allows_lang(f)) continue;
        for (int l = 0; l < gf_nvlangs; l++) {
            char want[48];
            int wl = snprintf(want, sizeof want, "%s_%s", gf_vf_names[f], gf_vlangs[l]);
            for (int i = 0; i < n && i < GF_CSV_MAX_FIELDS; i++)
                if (!used[i] && lens[i] == (size_t)wl && memcmp(names[i], want, (size_t)wl) == 0) {
                    if (h->nlang < 16) {
                        h->lang[h->nlang].col = i;
                        h->lang[h->nlang].field = f;
                        snprintf(h->lang[h->nlang].name, sizeof h->lang[0].name, "%s", want);
                        h->nlang++;
                    }
                    used[i] = 1;
                    break;
                }
        }
    }
    for (int i = 0; i < n && i < GF_CSV_MAX_FIELDS; i++) {
        if (used[i]) continue;
        size_t l = strlen(h->unknown);
        if (l + lens[i] + 4 < sizeof h->unknown)
            snprintf(h->unknown + l, sizeof h->unknown - l, "%s%.*s", l ? ", " : "", (int)lens[i], names[i]);
    }
}

const char *gf_vheader_profile(const gf_vheader *h)
{
    if (h->field_col[VF_ID_BAN_COMMUNE] >= 0 && h->field_col[VF_ID_BAN_TOPONYME] >= 0 &&
        h->field_col[VF_ID_BAN_ADRESSE] >= 0)
        return h->field_col[VF_TOPONYME] >= 0 ? "1.5" : "1.4";
    return "1.3";
}

/* ---- COG ------------------------------------------------------------------ */

static uint64_t cog_key(const char *c)
{
    const unsigned char *u = (const unsigned char *)c;
    return ((uint64_t)u[0] << 32) | ((uint64_t)u[1] << 24) | ((uint64_t)u[2] << 16) | ((uint64_t)u[3] << 8) | u[4];
}

/* index of the first key >= k */
static size_t lower(const uint64_t *keys, size_t n, uint64_t k)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (keys[mid] < k) lo = mid + 1; else hi = mid;
    }
    return lo;
}

int gf_cog_current(const char *code5)
{
    uint64_t k = cog_key(code5);
    size_t i = lower(gf_cog_keys, GF_COG_N, k);
    return i < GF_COG_N && gf_cog_keys[i] == k ? (int)i : -1;
}

static int old_lookup(const char *code5)
{
    uint64_t k = cog_key(code5);
    size_t i = lower(gf_cog_old_keys, GF_COG_NOLD, k);
    return i < GF_COG_NOLD && gf_cog_old_keys[i] == k ? (int)i : -1;
}

int gf_cog_former(const char *code5) { return old_lookup(code5) >= 0; }
const char *gf_cog_name(int idx) { return gf_cog_names[idx]; }
const char *gf_cog_code(int idx) { return gf_cog_codes[idx]; }
int gf_cog_count(void) { return GF_COG_N; }

int gf_cog_has_former(int idx, const char *code5)
{
    int k = old_lookup(code5);
    if (k < 0) return 0;
    /* a former code may belong to several communes: scan its run */
    while (k > 0 && strcmp(gf_cog_old[k - 1].code, code5) == 0) k--;
    for (; k < GF_COG_NOLD && strcmp(gf_cog_old[k].code, code5) == 0; k++)
        if (gf_cog_old[k].cur == idx) return 1;
    return 0;
}

/* Looks up a code given as text: it must be exactly 5 bytes to exist. */
static void upper_code(const char *p, size_t n, char out[6], int *ok)
{
    *ok = n == 5;
    if (!*ok) { out[0] = 0; return; }
    for (int i = 0; i < 5; i++) out[i] = (char)((p[i] >= 'a' && p[i] <= 'z') ? p[i] - 32 : p[i]);
    out[5] = 0;
}

/* ---- issues ---------------------------------------------------------------- */

static void add(gf_vissues *iss, int field, const char *prefix, const char *code)
{
    if (iss->n >= GF_VMAX_ISSUES) return;
    if (prefix) snprintf(iss->code[iss->n], sizeof iss->code[0], "%s.%s", prefix, code);
    else snprintf(iss->code[iss->n], sizeof iss->code[0], "row.%s", code);
    iss->field[iss->n] = (signed char)field;
    iss->n++;
}

/* ---- the position enumeration ---------------------------------------------- */

static const char *const positions[] = {"entrée", "bâtiment", "cage d’escalier", "logement",
                                        "service technique", "délivrance postale", "parcelle", "segment"};
static const char *const positions_norm[] = {"entree", "batiment", "cage d escalier", "logement",
                                             "service technique", "delivrance postale", "parcelle", "segment"};

/* getNormalizedEnumValue(): deburr, \W+ -> ' ', trim, lower case */
static int position_match(const char *v, size_t n)
{
    char d[512], o[512];
    size_t dl = gf_vt_deburr_lower(v, n < 200 ? n : 200, d, sizeof d, 0), k = 0;
    int sp = 0;
    for (size_t i = 0; i < dl; i++) {
        unsigned char c = (unsigned char)d[i];
        int w = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!w) { sp = 1; continue; }
        if (sp && k) o[k++] = ' ';
        sp = 0;
        o[k++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    o[k] = 0;
    for (int i = 0; i < 8; i++)
        if (strcmp(o, positions_norm[i]) == 0) return i;
    return -1;
}

/* ---- the row --------------------------------------------------------------- */

typedef struct vparse {
    /* cle_interop additional values */
    int cle_ok; char cle_commune[8]; int cle_commune_ok; int cle_voie_ok; char cle_voie[8];
    const char *cle_num; size_t cle_num_n;
    int uid_ok; const char *uid[3]; size_t uidn[3];
    const char *idc, *idt, *ida; size_t nidc, nidt, nida;
    const char *voie; size_t voie_n; char voie_buf[256]; /* parsed voie_nom (toponyme) */
    int has_numero; long numero;
    const char *suffixe; size_t suffixe_n;
    int insee_ok; char insee[8];
    const char *commune_nom; size_t commune_nom_n;
    int del_ok; char del[8];
    const char *lieudit; size_t lieudit_n;
    int has_long, has_lat, has_x, has_y; double lon, lat, x, y;
} vparse;

/* readValue() for one field; code prefix is the column's normalised name. */
static void read_field(int f, const char *prefix, int localized, int kf, const char *raw, size_t rn,
                       vparse *ps, long today, gf_vissues *iss)
{
    const char *v = raw;
    size_t n = rn;
    gf_vt_js_trim(&v, &n);
    if (n != rn) add(iss, kf, prefix, "espaces_debut_fin");
    int required = f == VF_CLE_INTEROP || f == VF_NUMERO || f == VF_COMMUNE_INSEE || f == VF_COMMUNE_NOM ||
                   f == VF_SOURCE || f == VF_DATE_DER_MAJ;
    if (required && n == 0 && !localized) { add(iss, kf, prefix, "valeur_manquante"); return; }
    if (n == 0) return;
    switch (f) {
    case VF_CLE_INTEROP: {
        if (gf_vt_has_upper(v, n)) add(iss, kf, prefix, "casse_invalide");
        /* split('_') */
        const char *part[64];
        size_t pl[64];
        int np = 0;
        size_t st = 0;
        for (size_t i = 0; i <= n; i++)
            if (i == n || v[i] == '_') {
                if (np < 64) { part[np] = v + st; pl[np] = i - st; }
                np++;
                st = i + 1;
            }
        int empty = 0;
        for (int i = 0; i < np && i < 64; i++) empty |= pl[i] == 0;
        if (np < 3 || empty) { add(iss, kf, prefix, "structure_invalide"); return; }
        char code[8];
        int ok5;
        upper_code(part[0], pl[0], code, &ok5);
        int act = ok5 && gf_cog_current(code) >= 0, anc = ok5 && gf_cog_former(code);
        if (!act && !anc) add(iss, kf, prefix, "commune_invalide");
        else if (anc) add(iss, kf, prefix, "commune_ancienne");
        int voie_err = 0;
        if (gf_vt_js_len(part[1], pl[1]) != 4) { add(iss, kf, prefix, "voie_invalide"); voie_err = 1; }
        else if ((pl[1] == 4 && strncasecmp(part[1], "xxxx", 4) == 0) || (pl[1] == 4 && memcmp(part[1], "0000", 4) == 0)) {
            add(iss, kf, prefix, "voie_non_renseignee");
            voie_err = 1;
        }
        if (!gf_vt_all_digits(part[2], pl[2])) { add(iss, kf, prefix, "numero_invalide"); return; }
        if (pl[2] != 5) add(iss, kf, prefix, "numero_prefixe_manquant");
        ps->cle_ok = 1;
        ps->cle_commune_ok = ok5;
        memcpy(ps->cle_commune, ok5 ? code : "", ok5 ? 6 : 1);
        if (!ok5) { /* codes of other lengths still key getCodeCommune() */
            size_t l = pl[0] < 7 ? pl[0] : 7;
            for (size_t i = 0; i < l; i++) ps->cle_commune[i] = (char)((part[0][i] >= 'a' && part[0][i] <= 'z') ? part[0][i] - 32 : part[0][i]);
            ps->cle_commune[l] = 0;
        }
        ps->cle_voie_ok = !voie_err;
        if (!voie_err) {
            size_t l = pl[1] < 7 ? pl[1] : 7;
            for (size_t i = 0; i < l; i++) ps->cle_voie[i] = (char)((part[1][i] >= 'a' && part[1][i] <= 'z') ? part[1][i] - 32 : part[1][i]);
            ps->cle_voie[l] = 0;
        }
        ps->cle_num = part[2];
        ps->cle_num_n = pl[2];
        while (ps->cle_num_n && *ps->cle_num == '0') { ps->cle_num++; ps->cle_num_n--; }
        return;
    }
    case VF_UID_ADRESSE: {
        /* v.match(/@x:(\S+)/gi)[0].substr(3) */
        static const char tags[3] = {'c', 'v', 'a'};
        const char *id[3] = {0};
        size_t idn[3] = {0};
        for (int t = 0; t < 3; t++)
            for (size_t i = 0; i + 3 < n + 1 && i + 2 < n; i++) {
                if (v[i] == '@' && (v[i + 1] | 32) == tags[t] && v[i + 2] == ':') {
                    size_t j = i + 3;
                    while (j < n && !gf_vt_js_space((unsigned char)v[j])) j++;
                    if (j == i + 3) continue; /* \S+ needs one character */
                    id[t] = v + i + 3;
                    idn[t] = j - i - 3;
                    break;
                }
            }
        for (int t = 0; t < 3; t++)
            if (id[t] && !gf_vuuid_v4(id[t], idn[t])) { add(iss, kf, prefix, "type_invalide"); return; }
        ps->uid_ok = 1;
        for (int t = 0; t < 3; t++) { ps->uid[t] = id[t]; ps->uidn[t] = idn[t]; }
        return;
    }
    case VF_ID_BAN_COMMUNE:
    case VF_ID_BAN_TOPONYME:
    case VF_ID_BAN_ADRESSE:
        if (!gf_vuuid_v4(v, n)) { add(iss, kf, prefix, "type_invalide"); return; }
        if (f == VF_ID_BAN_COMMUNE) { ps->idc = v; ps->nidc = n; }
        else if (f == VF_ID_BAN_TOPONYME) { ps->idt = v; ps->nidt = n; }
        else { ps->ida = v; ps->nida = n; }
        return;
    case VF_VOIE_NOM:
    case VF_TOPONYME: {
        size_t L = gf_vt_js_len(v, n);
        if (L < 3) { add(iss, kf, prefix, "trop_court"); return; }
        if (L > 200) { add(iss, kf, prefix, "trop_long"); return; }
        if (gf_vt_has_replacement_char(v, n)) { add(iss, kf, prefix, "caractere_invalide"); return; }
        const char *pv = v;
        size_t pn = n;
        if (memchr(v, '_', n)) {
            add(iss, kf, prefix, "contient_tiret_bas");
            if (!localized && n < sizeof ps->voie_buf) {
                for (size_t i = 0; i < n; i++) ps->voie_buf[i] = v[i] == '_' ? ' ' : v[i];
                pv = ps->voie_buf;
            }
        }
        if (!gf_vt_has_lower(v, n)) add(iss, kf, prefix, "casse_incorrecte");
        /* getVoieNom() = voie_nom || toponyme: voie_nom wins */
        if (!localized && (f == VF_VOIE_NOM || !ps->voie)) { ps->voie = pv; ps->voie_n = pn; }
        return;
    }
    case VF_LIEUDIT_COMPLEMENT_NOM:
        if (!localized) { ps->lieudit = v; ps->lieudit_n = n; }
        return;
    case VF_NUMERO: {
        if (!gf_vt_all_digits(v, n)) { add(iss, kf, prefix, "type_invalide"); return; }
        size_t i = 0;
        while (i + 1 < n && v[i] == '0') i++;
        if (n - i > 5) { add(iss, kf, prefix, "trop_grand"); return; }
        long num = gf_vt_digits_val(v + i, n - i);
        if (num > 99999) { add(iss, kf, prefix, "trop_grand"); return; }
        if (num == 0) add(iss, kf, prefix, "not_to_be_zero");
        if (v[0] == '0' && num != 0) add(iss, kf, prefix, "contient_prefixe");
        ps->has_numero = 1;
        ps->numero = num;
        return;
    }
    case VF_SUFFIXE: {
        unsigned char c = (unsigned char)v[0];
        if (!((c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'))) { add(iss, kf, prefix, "debut_invalide"); return; }
        if (gf_vt_js_len(v, n) > 9) { add(iss, kf, prefix, "trop_long"); return; }
        if (!gf_vt_alnum_accents(v, n)) add(iss, kf, prefix, "caractere_invalide");
        ps->suffixe = v;
        ps->suffixe_n = n;
        return;
    }
    case VF_COMMUNE_INSEE: {
        char code[8];
        int ok5;
        upper_code(v, n, code, &ok5);
        int act = ok5 && gf_cog_current(code) >= 0, anc = ok5 && gf_cog_former(code);
        if (!act && !anc) { add(iss, kf, prefix, "commune_invalide"); return; }
        if (anc) add(iss, kf, prefix, "commune_ancienne");
        ps->insee_ok = 1;
        memcpy(ps->insee, code, 6);
        return;
    }
    case VF_COMMUNE_NOM:
        if (!gf_vt_has_upper(v, n)) add(iss, kf, prefix, "casse_incorrecte");
        if (!gf_vt_has_lower(v, n)) add(iss, kf, prefix, "casse_incorrecte");
        if (!localized) { ps->commune_nom = v; ps->commune_nom_n = n; }
        return;
    case VF_COMMUNE_DELEGUEE_INSEE: {
        char code[8];
        int ok5;
        upper_code(v, n, code, &ok5);
        if (!(ok5 && (gf_cog_current(code) >= 0 || gf_cog_former(code)))) add(iss, kf, prefix, "commune_invalide");
        ps->del_ok = 1;
        if (ok5) memcpy(ps->del, code, 6);
        else {
            size_t l = n < 7 ? n : 7;
            for (size_t i = 0; i < l; i++) ps->del[i] = (char)((v[i] >= 'a' && v[i] <= 'z') ? v[i] - 32 : v[i]);
            ps->del[l] = 0;
        }
        return;
    }
    case VF_POSITION: {
        int k = position_match(v, n);
        if (k < 0) { add(iss, kf, prefix, "valeur_invalide"); return; }
        if (strlen(positions[k]) != n || memcmp(positions[k], v, n) != 0) add(iss, kf, prefix, "enum_fuzzy");
        return;
    }
    case VF_X:
    case VF_Y:
    case VF_LONG:
    case VF_LAT: {
        double d;
        if (gf_vt_js_float(v, n, '.')) d = gf_vt_parse_num(v, n);
        else if (gf_vt_js_float(v, n, ',')) { add(iss, kf, prefix, "separateur_decimal_invalide"); d = gf_vt_parse_num(v, n); }
        else { add(iss, kf, prefix, "valeur_invalide"); return; }
        if (f == VF_X) { ps->has_x = 1; ps->x = d; }
        else if (f == VF_Y) { ps->has_y = 1; ps->y = d; }
        else if (f == VF_LONG) { ps->has_long = 1; ps->lon = d; }
        else { ps->has_lat = 1; ps->lat = d; }
        return;
    }
    case VF_CAD_PARCELLES: {
        const char *p = v;
        size_t m = n;
        while (m && *p == '|') { p++; m--; }
        while (m && p[m - 1] == '|') m--;
        if (m != n) add(iss, kf, prefix, "pipe_debut_fin");
        if (!m) { add(iss, kf, prefix, "valeur_invalide"); return; }
        size_t st = 0;
        for (size_t i = 0; i <= m; i++)
            if (i == m || p[i] == '|') {
                size_t L = gf_vt_js_len(p + st, i - st);
                if (L != 14 && L != 15) { add(iss, kf, prefix, "valeur_invalide"); return; }
                st = i + 1;
            }
        return;
    }
    case VF_DATE_DER_MAJ: {
        long d = gf_vt_iso_days(v, n);
        if (d < 0) { add(iss, kf, prefix, "date_invalide"); return; }
        if (d < gf_vt_days_from_civil(2010, 1, 1)) add(iss, kf, prefix, "date_ancienne");
        if (d > today) add(iss, kf, prefix, "date_future");
        return;
    }
    case VF_CERTIFICATION_COMMUNE:
        if (!(n == 1 && (v[0] == '0' || v[0] == '1'))) add(iss, kf, prefix, "valeur_invalide");
        return;
    default:
        return;
    }
}

void gf_vrow_check(const gf_vrow *r, gf_vproj *pj, long today, gf_vissues *iss, gf_vparsed *out)
{
    vparse ps;
    memset(&ps, 0, sizeof ps);
    iss->n = 0;
    for (int f = 0; f < VF_COUNT; f++)
        if (r->present[f]) read_field(f, gf_vf_names[f], 0, f, r->v[f] ? r->v[f] : "", r->n[f], &ps, today, iss);
    for (int k = 0; k < r->nlang; k++)
        read_field(r->lang[k].field, r->lang[k].name, 1, -1, r->lang[k].v ? r->lang[k].v : "", r->lang[k].n, &ps, today, iss);

    /* getCodeCommune(): commune_insee || cle_interop's commune */
    const char *code = ps.insee_ok ? ps.insee : ps.cle_ok ? ps.cle_commune : NULL;
    int cidx = code && strlen(code) == 5 ? gf_cog_current(code) : -1;

    /* validateNumero */
    if (ps.cle_ok && ps.has_numero && ps.numero != 0) {
        long cn = -1;
        if (ps.cle_num_n && ps.cle_num_n < 12) cn = gf_vt_digits_val(ps.cle_num, ps.cle_num_n);
        if (cn != ps.numero) add(iss, -1, NULL, "incoherence_numero");
    }
    /* validateCommuneInsee */
    if (!ps.cle_ok && !ps.insee_ok) add(iss, -1, NULL, "commune_manquante");
    /* validateCommuneNom */
    if (cidx >= 0 && ps.commune_nom) {
        const char *nm = gf_cog_name(cidx);
        if (strlen(nm) != ps.commune_nom_n || memcmp(nm, ps.commune_nom, ps.commune_nom_n) != 0)
            add(iss, -1, NULL, "commune_nom_invalide");
    }
    /* validateVoieNomDiffComplementNom: normalize(undefined) is "" too */
    uint64_t vh = GF_VHASH0;
    if (ps.voie) {
        if (pj && ps.voie_n == pj->lastn && ps.voie_n < sizeof pj->last && memcmp(pj->last, ps.voie, ps.voie_n) == 0) {
            vh = pj->lasth;
        } else {
            vh = gf_vt_norm_hash(ps.voie, ps.voie_n);
            if (pj && ps.voie_n < sizeof pj->last) {
                memcpy(pj->last, ps.voie, ps.voie_n);
                pj->lastn = ps.voie_n;
                pj->lasth = vh;
            }
        }
    }
    uint64_t lh = ps.lieudit ? gf_vt_norm_hash(ps.lieudit, ps.lieudit_n) : GF_VHASH0;
    if (vh == lh) add(iss, -1, NULL, "voie_nom_have_same_lieudit_complement_nom");
    /* validatePositionType: rawValues.position is the untrimmed text */
    int raw_pos = r->present[VF_POSITION] && r->n[VF_POSITION] > 0;
    if (ps.has_numero && ps.numero != 99999 && !raw_pos) add(iss, -1, NULL, "position_manquante");
    /* validateCoords */
    int raw_long = r->present[VF_LONG] && r->n[VF_LONG] > 0, raw_lat = r->present[VF_LAT] && r->n[VF_LAT] > 0;
    if (ps.has_numero && ps.numero != 99999 && (!raw_long || !raw_lat)) {
        add(iss, -1, NULL, "longlat_vides");
    } else {
        double xy[2];
        if (ps.has_long && ps.has_lat && ps.has_x && ps.has_y && gf_vproj_near(pj, ps.lon, ps.lat, ps.x, ps.y)) {
            /* coherent: nothing to report */
        } else if (ps.has_long && ps.has_lat && gf_vproj_legal(pj, ps.lon, ps.lat, xy)) {
            if (ps.has_x && ps.has_y) {
                double dist = sqrt((ps.x - xy[0]) * (ps.x - xy[0]) + (ps.y - xy[1]) * (ps.y - xy[1]));
                if (dist > 10) add(iss, -1, NULL, "longlat_xy_incoherents");
            }
        } else if (!(ps.has_numero && ps.numero == 99999)) {
            add(iss, -1, NULL, "longlat_invalides");
        }
    }
    /* validateMinimalAdress */
    if (!ps.has_numero || !ps.voie) add(iss, -1, NULL, "adresse_incomplete");
    /* validateCommuneDelegueeInsee */
    if (ps.del_ok) {
        int skip = 0;
        for (int i = 0; i < iss->n; i++)
            skip |= iss->field[i] == VF_COMMUNE_DELEGUEE_INSEE || iss->field[i] == VF_COMMUNE_INSEE;
        if (!skip && code && cidx >= 0 && !gf_cog_has_former(cidx, ps.del) && strcmp(ps.del, code) != 0)
            add(iss, -1, NULL, "chef_lieu_invalide");
    }
    /* validateBanIds */
    const char *idc = ps.idc ? ps.idc : ps.uid_ok ? ps.uid[0] : NULL;
    const char *idt = ps.idt ? ps.idt : ps.uid_ok ? ps.uid[1] : NULL;
    const char *ida = ps.ida ? ps.ida : ps.uid_ok ? ps.uid[2] : NULL;
    size_t nidc = ps.idc ? ps.nidc : ps.uidn[0], nidt = ps.idt ? ps.nidt : ps.uidn[1], nida = ps.ida ? ps.nida : ps.uidn[2];
    if (idc || idt || ida) {
        if (!idc) add(iss, -1, NULL, "lack_of_id_ban");
        if (!idt) add(iss, -1, NULL, "lack_of_id_ban");
        if (!ida && !(ps.has_numero && ps.numero == 99999)) add(iss, -1, NULL, "lack_of_id_ban");
    }

    if (out) {
        memset(out, 0, sizeof *out);
        out->has_numero = ps.has_numero;
        out->numero = ps.numero;
        out->has_voie = ps.voie != NULL;
        out->voie_norm_hash = vh;
        out->voie_exact_hash = ps.voie ? gf_vhash(ps.voie, ps.voie_n, GF_VHASH0) : 0;
        /* getVoieIdentifier: normalize(voie) # codeVoie */
        uint64_t h = gf_vhash(&vh, sizeof vh, GF_VHASH0);
        h = ps.cle_voie_ok ? gf_vhash(ps.cle_voie, strlen(ps.cle_voie), h) : gf_vhash("\1undefined", 10, h);
        out->voie_ident_hash = h;
        /* getNumeroIdentifier: numero # suffixe # normalize(voie) # commune_deleguee_insee */
        uint64_t nh = ps.has_numero ? gf_vhash(&ps.numero, sizeof ps.numero, GF_VHASH0) : gf_vhash("\1u", 2, GF_VHASH0);
        nh = gf_vhash("#", 1, nh);
        nh = ps.suffixe ? gf_vhash(ps.suffixe, ps.suffixe_n, nh) : gf_vhash("\1u", 2, nh);
        nh = gf_vhash("#", 1, nh);
        nh = gf_vhash(&vh, sizeof vh, nh);
        nh = ps.del_ok ? gf_vhash(ps.del, strlen(ps.del), nh) : gf_vhash("\1u", 2, nh);
        out->numero_ident_hash = nh;
        out->id_commune = idc; out->n_commune = idc ? nidc : 0;
        out->id_toponyme = idt; out->n_toponyme = idt ? nidt : 0;
        out->id_adresse = ida; out->n_adresse = ida ? nida : 0;
        out->has_lieudit = ps.lieudit != NULL;
        out->lieudit_hash = ps.lieudit ? gf_vhash(ps.lieudit, ps.lieudit_n, GF_VHASH0) : 0;
    }
}

const char *gf_vposition_canon(const char *v, size_t n)
{
    int k = position_match(v, n);
    return k < 0 ? NULL : positions[k];
}

