/* Header mapping: every BAL version, both BAN layouts and the aliases seen in
 * the wild (upper case, DBF-truncated 10-character names, BAN names) map to
 * the canonical address fields of include/geoflux/address.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "geoflux/ingest.h"

static const gf_schema addr_schema = {.kind = "address", .nfields = GF_A_COUNT, .fields = {
    [GF_A_CLE_INTEROP] = {"cle_interop", GF_T_STRING},
    [GF_A_UID_ADRESSE] = {"uid_adresse", GF_T_STRING},
    [GF_A_ID_BAN_COMMUNE] = {"id_ban_commune", GF_T_STRING},
    [GF_A_ID_BAN_TOPONYME] = {"id_ban_toponyme", GF_T_STRING},
    [GF_A_ID_BAN_ADRESSE] = {"id_ban_adresse", GF_T_STRING},
    [GF_A_COMMUNE_INSEE] = {"commune_insee", GF_T_STRING},
    [GF_A_COMMUNE_NOM] = {"commune_nom", GF_T_STRING},
    [GF_A_COMMUNE_DELEGUEE_INSEE] = {"commune_deleguee_insee", GF_T_STRING},
    [GF_A_COMMUNE_DELEGUEE_NOM] = {"commune_deleguee_nom", GF_T_STRING},
    [GF_A_VOIE_NOM] = {"voie_nom", GF_T_STRING},
    [GF_A_LIEUDIT_COMPLEMENT_NOM] = {"lieudit_complement_nom", GF_T_STRING},
    [GF_A_NUMERO] = {"numero", GF_T_INT},
    [GF_A_SUFFIXE] = {"suffixe", GF_T_STRING},
    [GF_A_POSITION] = {"position", GF_T_STRING},
    [GF_A_X] = {"x", GF_T_REAL},
    [GF_A_Y] = {"y", GF_T_REAL},
    [GF_A_LONG] = {"long", GF_T_REAL},
    [GF_A_LAT] = {"lat", GF_T_REAL},
    [GF_A_CAD_PARCELLES] = {"cad_parcelles", GF_T_STRING},
    [GF_A_SOURCE] = {"source", GF_T_STRING},
    [GF_A_DATE_DER_MAJ] = {"date_der_maj", GF_T_DATE},
    [GF_A_CERTIFICATION_COMMUNE] = {"certification_commune", GF_T_BOOL},
    [GF_A_CODE_POSTAL] = {"code_postal", GF_T_STRING},
    [GF_A_LIBELLE_ACHEMINEMENT] = {"libelle_acheminement", GF_T_STRING},
    [GF_A_NOM_AFNOR] = {"nom_afnor", GF_T_STRING},
    [GF_A_ID_FANTOIR] = {"id_fantoir", GF_T_STRING},
    [GF_A_SOURCE_NOM_VOIE] = {"source_nom_voie", GF_T_STRING},
    [GF_A_BAN_ID] = {"ban_id", GF_T_STRING},
}};

const gf_schema *gf_address_schema(void) { return &addr_schema; }

const char *gf_layout_name(gf_layout l)
{
    switch (l) {
    case GF_LAYOUT_BAL_1_1: return "bal-1.1";
    case GF_LAYOUT_BAL_1_2: return "bal-1.2";
    case GF_LAYOUT_BAL_1_3: return "bal-1.3";
    case GF_LAYOUT_BAL_1_4: return "bal-1.4";
    case GF_LAYOUT_BAL_1_5: return "bal-1.5";
    case GF_LAYOUT_BAN: return "ban";
    case GF_LAYOUT_BAN_LEGACY: return "ban-legacy";
    default: return "unknown";
    }
}

/* Aliases, normalised (lower case, trimmed). BAN names are listed here too;
 * the BAN-specific meaning of `id` is settled in gf_header_map_address(). */
static const struct { const char *alias; int field; } aliases[] = {
    {"cle_interop", GF_A_CLE_INTEROP}, {"cle_intero", GF_A_CLE_INTEROP}, {"cle_interro", GF_A_CLE_INTEROP},
    {"uid_adresse", GF_A_UID_ADRESSE}, {"uid_adress", GF_A_UID_ADRESSE},
    {"id_ban_commune", GF_A_ID_BAN_COMMUNE}, {"id_ban_toponyme", GF_A_ID_BAN_TOPONYME},
    {"id_ban_adresse", GF_A_ID_BAN_ADRESSE},
    {"commune_insee", GF_A_COMMUNE_INSEE}, {"commune_in", GF_A_COMMUNE_INSEE}, {"code_insee", GF_A_COMMUNE_INSEE},
    {"commune_nom", GF_A_COMMUNE_NOM}, {"commune_no", GF_A_COMMUNE_NOM}, {"nom_commune", GF_A_COMMUNE_NOM},
    {"commune_deleguee_insee", GF_A_COMMUNE_DELEGUEE_INSEE},
    {"code_insee_ancienne_commune", GF_A_COMMUNE_DELEGUEE_INSEE},
    {"commune_deleguee_nom", GF_A_COMMUNE_DELEGUEE_NOM}, {"nom_ancienne_commune", GF_A_COMMUNE_DELEGUEE_NOM},
    {"voie_nom", GF_A_VOIE_NOM}, {"toponyme", GF_A_VOIE_NOM}, {"nom_voie", GF_A_VOIE_NOM},
    {"lieudit_complement_nom", GF_A_LIEUDIT_COMPLEMENT_NOM}, {"lieudit_co", GF_A_LIEUDIT_COMPLEMENT_NOM},
    {"nom_ld", GF_A_LIEUDIT_COMPLEMENT_NOM},
    {"numero", GF_A_NUMERO}, {"nulmero", GF_A_NUMERO},
    {"suffixe", GF_A_SUFFIXE}, {"rep", GF_A_SUFFIXE},
    {"position", GF_A_POSITION}, {"type_position", GF_A_POSITION},
    {"x", GF_A_X}, {"x_l93", GF_A_X}, {"y", GF_A_Y}, {"y_l93", GF_A_Y},
    {"long", GF_A_LONG}, {"lon", GF_A_LONG}, {"long_wgs84", GF_A_LONG}, {"longitude", GF_A_LONG},
    {"lat", GF_A_LAT}, {"lat_wgs84", GF_A_LAT}, {"latitude", GF_A_LAT},
    {"cad_parcelles", GF_A_CAD_PARCELLES}, {"cad_parcel", GF_A_CAD_PARCELLES},
    {"source", GF_A_SOURCE}, {"source_position", GF_A_SOURCE},
    {"date_der_maj", GF_A_DATE_DER_MAJ}, {"date_der_m", GF_A_DATE_DER_MAJ}, {"dmaj", GF_A_DATE_DER_MAJ},
    {"date_maj", GF_A_DATE_DER_MAJ},
    {"certification_commune", GF_A_CERTIFICATION_COMMUNE}, {"certification_adresse", GF_A_CERTIFICATION_COMMUNE},
    {"certificat", GF_A_CERTIFICATION_COMMUNE},
    {"code_postal", GF_A_CODE_POSTAL}, {"code_post", GF_A_CODE_POSTAL},
    {"libelle_acheminement", GF_A_LIBELLE_ACHEMINEMENT}, {"nom_afnor", GF_A_NOM_AFNOR},
    {"id_fantoir", GF_A_ID_FANTOIR}, {"source_nom_voie", GF_A_SOURCE_NOM_VOIE},
};

void gf_header_norm(const char *p, size_t n, char *out, size_t outsz)
{
    while (n && isspace((unsigned char)*p)) { p++; n--; }
    while (n && isspace((unsigned char)p[n - 1])) n--;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) { p += 3; n -= 3; }
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < outsz; i++) out[k++] = (char)tolower((unsigned char)p[i]);
    out[k] = 0;
}

/* Regional-language suffixes accepted by the BAN for the *_xxx columns
 * (BaseAdresseNationale/shared-data, langues-regionales.json). */
static const char *const langs[] = {"fra", "bre", "eus", "gsw", "cos", "gcr", "gcf", "rcf", "swb",
                                    "oci", "cat", "pcd", "oc-provenc", "oc-nicard", "vls", "fr-gallo",
                                    "aji", "dhv", "nen", "pri", "ty", "mrq", "pmt", "mrv", "frp"};
static const struct { const char *base, *canon; } lang_bases[] = {
    {"commune_nom", "commune_nom"}, {"commune_deleguee_nom", "commune_deleguee_nom"},
    {"voie_nom", "voie_nom"}, {"toponyme", "voie_nom"},
    {"lieudit_complement_nom", "lieudit_complement_nom"}, {"lieudit_complement", "lieudit_complement_nom"},
};

/* "voie_nom_bre" -> "voie_nom_bre", "toponyme_eus" -> "voie_nom_eus"; 0 if not multilingual. */
static int lang_name(const char *n, char *out, size_t outsz)
{
    for (size_t b = 0; b < sizeof lang_bases / sizeof lang_bases[0]; b++) {
        size_t bl = strlen(lang_bases[b].base);
        if (strncmp(n, lang_bases[b].base, bl) != 0 || n[bl] != '_') continue;
        for (size_t l = 0; l < sizeof langs / sizeof langs[0]; l++)
            if (strcmp(n + bl + 1, langs[l]) == 0) {
                snprintf(out, outsz, "%s_%s", lang_bases[b].canon, langs[l]);
                return 1;
            }
    }
    return 0;
}

static int lookup(const char *name)
{
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(aliases[i].alias, name) == 0) return aliases[i].field;
    return -1;
}

static void note_unknown(gf_header_map *m, const char *name)
{
    size_t l = strlen(m->unknown);
    if (l + strlen(name) + 3 >= sizeof m->unknown) return;
    snprintf(m->unknown + l, sizeof m->unknown - l, "%s%s", l ? ", " : "", name);
}

gf_status gf_header_map_address(gf_ctx *ctx, const gf_csv_record *hdr, gf_header_map *m)
{
    char names[GF_CSV_MAX_FIELDS][64];
    memset(m, 0, sizeof *m);
    m->ncols = hdr->nfields;
    for (int f = 0; f < GF_A_COUNT; f++) m->field_col[f] = -1;
    int has[8] = {0};
    enum { H_NOM_VOIE, H_CODE_POST, H_ID, H_TOPONYME, H_VOIE_NOM, H_ID_BAN, H_CERTIF, H_INSEE };
    for (int i = 0; i < hdr->nfields; i++) {
        gf_header_norm(hdr->field[i], hdr->len[i], names[i], sizeof names[i]);
        const char *n = names[i];
        has[H_NOM_VOIE] |= !strcmp(n, "nom_voie");
        has[H_CODE_POST] |= !strcmp(n, "code_post");
        has[H_ID] |= !strcmp(n, "id");
        has[H_TOPONYME] |= !strcmp(n, "toponyme");
        has[H_VOIE_NOM] |= !strcmp(n, "voie_nom");
        has[H_ID_BAN] |= !strncmp(n, "id_ban_", 7);
        has[H_CERTIF] |= !strcmp(n, "certification_commune");
        has[H_INSEE] |= !strcmp(n, "commune_insee");
    }
    int ban = has[H_NOM_VOIE];
    for (int i = 0; i < hdr->nfields; i++) {
        const char *n = names[i];
        int f = lookup(n);
        if (ban && !strcmp(n, "id")) f = has[H_CODE_POST] ? GF_A_BAN_ID : GF_A_CLE_INTEROP;
        m->col_field[i] = -1;
        if (f < 0) {
            if (m->nlang < 16 && lang_name(n, m->lang_name[m->nlang], sizeof m->lang_name[0])) {
                m->lang_col[m->nlang++] = i;
                continue;
            }
            if (n[0]) note_unknown(m, n);
            continue;
        }
        if (m->field_col[f] >= 0) {
            note_unknown(m, n); /* duplicate: the first column wins */
            continue;
        }
        m->col_field[i] = f;
        m->field_col[f] = i;
    }
    if (m->field_col[GF_A_NUMERO] < 0 || m->field_col[GF_A_VOIE_NOM] < 0)
        return gf_ctx_err(ctx, GF_ERR_SCHEMA,
                          "not an address file: the header has no %s column (BAL 1.1-1.5 or BAN expected)",
                          m->field_col[GF_A_NUMERO] < 0 ? "numero" : "voie_nom/toponyme");
    if (ban) m->layout = has[H_CODE_POST] ? GF_LAYOUT_BAN_LEGACY : GF_LAYOUT_BAN;
    else if (has[H_TOPONYME] && !has[H_VOIE_NOM]) m->layout = GF_LAYOUT_BAL_1_5;
    else if (has[H_ID_BAN]) m->layout = GF_LAYOUT_BAL_1_4;
    else if (has[H_CERTIF]) m->layout = GF_LAYOUT_BAL_1_3;
    else if (has[H_INSEE]) m->layout = GF_LAYOUT_BAL_1_2;
    else m->layout = GF_LAYOUT_BAL_1_1;
    return GF_OK;
}

int gf_header_harmonise(const char *const *names, const size_t *lens, int n, const char **out, size_t *outlens)
{
    char norm[64];
    int taken[GF_A_COUNT] = {0}, renamed = 0;
    for (int i = 0; i < n; i++) {
        out[i] = names[i];
        outlens[i] = lens[i];
        gf_header_norm(names[i], lens[i], norm, sizeof norm);
        if (!strcmp(norm, "nom_voie")) return 0; /* a BAN extract: its names are its own */
    }
    for (int i = 0; i < n; i++) {
        gf_header_norm(names[i], lens[i], norm, sizeof norm);
        int f = lookup(norm);
        if (f < 0 || f >= GF_A_CODE_POSTAL || taken[f]) continue; /* unknown, BAN-only, or a duplicate */
        taken[f] = 1;
        /* BAL 1.5 calls voie_nom toponyme: both are the reference's names */
        const char *canon = !strcmp(norm, "toponyme") ? "toponyme" : addr_schema.fields[f].name;
        size_t cl = strlen(canon);
        if (cl == lens[i] && !memcmp(canon, names[i], cl)) continue;
        out[i] = canon;
        outlens[i] = cl;
        renamed++;
    }
    return renamed;
}
