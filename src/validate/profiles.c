/* The reference profiles (lib/schema/profiles/NAME.ts): which codes are
 * errors and which are warnings; everything else is information. Lists are
 * copied verbatim so a diff against the reference stays readable. */
#include <stdio.h>
#include <string.h>

#include "validate/rules.h"

#define N(a) (sizeof a / sizeof a[0])

static const char *const E11[] = {
    "cle_interop.valeur_manquante", "cle_interop.casse_invalide", "cle_interop.structure_invalide",
    "cle_interop.commune_invalide", "cle_interop.voie_invalide", "cle_interop.voie_non_renseignee",
    "cle_interop.numero_invalide", "cle_interop.numero_prefixe_manquant", "voie_nom.valeur_manquante",
    "voie_nom.caractere_invalide", "voie_nom_@@.caractere_invalide", "numero.valeur_manquante",
    "numero.contient_prefixe", "numero.type_invalide", "suffixe.debut_invalide", "position.valeur_invalide",
    "x.valeur_invalide", "x.separateur_decimal_invalide", "y.valeur_invalide", "y.separateur_decimal_invalide",
    "long.valeur_invalide", "long.separateur_decimal_invalide", "lat.valeur_invalide",
    "lat.separateur_decimal_invalide", "source.valeur_manquante", "date_der_maj.valeur_manquante",
    "date_der_maj.date_invalide", "row.incoherence_numero", "row.position_manquante", "row.adresse_incomplete",
    "field.cle_interop.missing", "field.commune_nom.missing", "field.uid_adresse.missing",
    "field.voie_nom.missing", "field.numero.missing", "field.suffixe.missing", "field.position.missing",
    "field.long.missing", "field.lat.missing", "field.x.missing", "field.y.missing", "field.source.missing",
    "field.date_der_maj.missing", "file.encoding.non_standard", "file.delimiter.non_standard",
    "file.linebreak.non_standard"};
static const char *const W11[] = {"position.enum_fuzzy"};
static const char *const E12X[] = {
    "commune_insee.commune_invalide", "commune_deleguee_insee.commune_invalide", "cad_parcelles.valeur_invalide",
    "cad_parcelles.pipe_debut_fin", "field.commune_insee.missing", "field.commune_deleguee_insee.missing",
    "field.commune_deleguee_nom.missing", "field.lieudit_complement_nom.missing", "field.cad_parcelles.missing"};
static const char *const E13SX[] = {"certification_commune.valeur_invalide", "field.certification_commune.missing"};

static const char *const E13R[] = {
    "cle_interop.structure_invalide", "cle_interop.commune_invalide", "cle_interop.numero_invalide",
    "voie_nom.valeur_manquante", "voie_nom.trop_court", "voie_nom.trop_long", "voie_nom.caractere_invalide",
    "numero.valeur_manquante", "numero.type_invalide", "numero.trop_grand", "suffixe.debut_invalide",
    "suffixe.trop_long", "commune_insee.commune_invalide", "x.valeur_invalide", "y.valeur_invalide",
    "long.valeur_invalide", "lat.valeur_invalide", "row.incoherence_numero", "row.commune_manquante",
    "row.longlat_vides", "row.longlat_invalides", "row.adresse_incomplete", "field.voie_nom.missing",
    "field.numero.missing", "rows.empty"};
static const char *const W13R[] = {
    "cle_interop.voie_invalide", "cle_interop.commune_ancienne", "voie_nom.casse_incorrecte",
    "voie_nom.contient_tiret_bas", "voie_nom_@@.casse_incorrecte", "voie_nom_@@.contient_tiret_bas",
    "voie_nom_@@.trop_court", "voie_nom_@@.trop_long", "voie_nom_@@.caractere_invalide",
    "commune_insee.commune_ancienne", "commune_deleguee_insee.commune_invalide",
    "commune_deleguee_insee.commune_non_deleguee", "position.enum_fuzzy", "position.valeur_invalide",
    "cad_parcelles.valeur_invalide", "cad_parcelles.pipe_debut_fin", "source.valeur_manquante",
    "date_der_maj.valeur_manquante", "date_der_maj.date_ancienne", "date_der_maj.date_future",
    "certification_commune.valeur_invalide", "row.position_manquante", "row.chef_lieu_invalide",
    "row.longlat_xy_incoherents", "field.suffixe.missing", "field.cle_interop.missing", "field.position.missing",
    "field.long.missing", "field.lat.missing", "field.x.missing", "field.y.missing", "field.source.missing",
    "field.date_der_maj.missing", "field.certification_commune.missing", "cle_interop.espaces_debut_fin",
    "commune_nom.espaces_debut_fin", "commune_deleguee_insee.espaces_debut_fin",
    "commune_deleguee_nom.espaces_debut_fin", "uid_adresse.espaces_debut_fin", "voie_nom.espaces_debut_fin",
    "voie_nom_@@.espaces_debut_fin", "lieudit_complement_nom.espaces_debut_fin",
    "lieudit_complement_nom_@@.espaces_debut_fin", "numero.espaces_debut_fin", "position.espaces_debut_fin",
    "long.espaces_debut_fin", "lat.espaces_debut_fin", "x.espaces_debut_fin", "y.espaces_debut_fin",
    "cad_parcelles.espaces_debut_fin", "source.espaces_debut_fin", "date_der_maj.espaces_debut_fin",
    "uid_adresse.type_invalide", "uid_adresse.incoherence_ids_ban", "suffixe.caractere_invalide",
    "cle_interop.valeur_manquante", "cle_interop.numero_prefixe_manquant", "cle_interop.casse_invalide",
    "suffixe.espaces_debut_fin", "numero.contient_prefixe", "commune_insee.espaces_debut_fin",
    "x.separateur_decimal_invalide", "y.separateur_decimal_invalide", "long.separateur_decimal_invalide",
    "lat.separateur_decimal_invalide", "date_der_maj.date_invalide", "field.commune_insee.missing",
    "field.long.missing", "field.lat.missing"};
static const char *const E13X[] = {
    "cle_interop.valeur_manquante", "cle_interop.numero_prefixe_manquant", "cle_interop.casse_invalide",
    "suffixe.espaces_debut_fin", "numero.contient_prefixe", "commune_insee.valeur_manquante",
    "commune_insee.espaces_debut_fin", "x.separateur_decimal_invalide", "y.separateur_decimal_invalide",
    "long.separateur_decimal_invalide", "lat.separateur_decimal_invalide", "date_der_maj.date_invalide",
    "field.commune_insee.missing", "field.long.missing", "field.lat.missing", "file.encoding.non_standard",
    "file.delimiter.non_standard", "file.linebreak.non_standard"};
static const char *const W13[] = {
    "cle_interop.voie_invalide", "cle_interop.commune_ancienne", "voie_nom.casse_incorrecte",
    "voie_nom.contient_tiret_bas", "voie_nom_@@.casse_incorrecte", "voie_nom_@@.contient_tiret_bas",
    "voie_nom_@@.trop_court", "voie_nom_@@.trop_long", "voie_nom_@@.caractere_invalide",
    "commune_insee.commune_ancienne", "commune_deleguee_insee.commune_invalide",
    "commune_deleguee_insee.commune_non_deleguee", "position.enum_fuzzy", "position.valeur_invalide",
    "cad_parcelles.valeur_invalide", "cad_parcelles.pipe_debut_fin", "source.valeur_manquante",
    "date_der_maj.valeur_manquante", "date_der_maj.date_ancienne", "date_der_maj.date_future",
    "certification_commune.valeur_invalide", "field.suffixe.missing", "suffixe.caractere_invalide",
    "field.cle_interop.missing", "field.position.missing", "field.long.missing", "field.lat.missing",
    "field.x.missing", "field.y.missing", "field.source.missing", "field.date_der_maj.missing",
    "field.certification_commune.missing", "cle_interop.espaces_debut_fin", "commune_nom.espaces_debut_fin",
    "commune_deleguee_insee.espaces_debut_fin", "commune_deleguee_nom.espaces_debut_fin",
    "uid_adresse.espaces_debut_fin", "voie_nom.espaces_debut_fin", "voie_nom_@@.espaces_debut_fin",
    "lieudit_complement_nom.espaces_debut_fin", "lieudit_complement_nom_@@.espaces_debut_fin",
    "numero.espaces_debut_fin", "numero.not_to_be_zero", "position.espaces_debut_fin", "long.espaces_debut_fin",
    "lat.espaces_debut_fin", "x.espaces_debut_fin", "y.espaces_debut_fin", "cad_parcelles.espaces_debut_fin",
    "source.espaces_debut_fin", "date_der_maj.espaces_debut_fin", "uid_adresse.type_invalide",
    "uid_adresse.incoherence_ids_ban", "row.voie_nom_have_same_lieudit_complement_nom",
    "row.commune_nom_invalide", "row.position_manquante", "row.chef_lieu_invalide",
    "row.longlat_xy_incoherents", "row.lieudit_complement_nom_not_declared"};
static const char *const E14X[] = {
    "id_ban_commune.type_invalide", "id_ban_toponyme.type_invalide", "id_ban_adresse.type_invalide",
    "uid_adresse.type_invalide", "row.lack_of_id_ban", "row.cog_no_match_id_ban_commune",
    "rows.multi_id_ban_commune", "rows.every_line_required_id_ban"};
static const char *const W14X[] = {
    "field.id_ban_commune.missing", "field.id_ban_toponyme.missing", "field.id_ban_adresse.missing",
    "row.different_voie_nom_with_same_id_ban_toponyme", "row.different_id_ban_toponyme_with_same_voie_nom",
    "row.different_adresse_with_same_id_ban_adresse", "row.different_id_ban_adresses_with_same_adresse"};
static const char *const E15X[] = {
    "field.id_ban_commune.missing", "field.id_ban_toponyme.missing", "field.id_ban_adresse.missing",
    "field.toponyme.missing", "toponyme.valeur_manquante", "toponyme.trop_court", "toponyme.trop_long",
    "toponyme.caractere_invalide"};
static const char *const W15X[] = {
    "toponyme.casse_incorrecte", "toponyme.contient_tiret_bas", "toponyme_@@.casse_incorrecte",
    "toponyme_@@.contient_tiret_bas", "toponyme_@@.trop_court", "toponyme_@@.trop_long",
    "toponyme_@@.caractere_invalide"};

typedef struct list { const char *const *v; size_t n; } list;
typedef struct profile {
    const char *name, *format;
    list e[4], w[4];
    const char *not_error; /* 1.5 removes one code from the inherited errors */
} profile;

#define L(a) {a, N(a)}
static const profile profiles[] = {
    {"1.5", "1.5", {L(E13R), L(E13X), L(E14X), L(E15X)}, {L(W13), L(W14X), L(W15X), {0, 0}}, "field.voie_nom.missing"},
    {"1.4", "1.4", {L(E13R), L(E13X), L(E14X), {0, 0}}, {L(W13), L(W14X), {0, 0}, {0, 0}}, NULL},
    {"1.3", "1.3", {L(E13R), L(E13X), {0, 0}, {0, 0}}, {L(W13), {0, 0}, {0, 0}, {0, 0}}, NULL},
    {"1.3-relax", "1.3", {L(E13R), {0, 0}, {0, 0}, {0, 0}}, {L(W13R), {0, 0}, {0, 0}, {0, 0}}, NULL},
    {"1.3-strict", "1.3", {L(E11), L(E12X), L(E13SX), {0, 0}}, {L(W11), {0, 0}, {0, 0}, {0, 0}}, NULL},
    {"1.2-strict", "1.2", {L(E11), L(E12X), {0, 0}, {0, 0}}, {L(W11), {0, 0}, {0, 0}, {0, 0}}, NULL},
    {"1.1-strict", "1.1", {L(E11), {0, 0}, {0, 0}, {0, 0}}, {L(W11), {0, 0}, {0, 0}, {0, 0}}, NULL},
};

static const profile *find(const char *name)
{
    for (size_t i = 0; i < N(profiles); i++)
        if (name && strcmp(profiles[i].name, name) == 0) return &profiles[i];
    return NULL;
}

int gf_validate_profile_known(const char *name) { return find(name) != NULL; }

const char *gf_vprofile_format(const char *name)
{
    const profile *p = find(name);
    return p ? p->format : "1.4";
}

static int in(const list *ls, const char *code, const char *except)
{
    if (except && strcmp(code, except) == 0) return 0;
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < ls[k].n; i++)
            if (strcmp(ls[k].v[i], code) == 0) return 1;
    return 0;
}

/* parseErrorCode(): a field code whose field name ends in _<lang> of a field
 * that allows regional languages is looked up as <field>_@@.<error>. */
gf_vlevel gf_validate_level(const char *name, const char *code)
{
    const profile *p = find(name);
    if (!p) return GF_VL_INFO;
    char cmp[96];
    snprintf(cmp, sizeof cmp, "%s", code);
    const char *dot = strchr(code, '.');
    if (dot && strncmp(code, "row.", 4) && strncmp(code, "rows.", 5) && strncmp(code, "field.", 6) &&
        strncmp(code, "file.", 5)) {
        size_t fl = (size_t)(dot - code);
        for (int l = 0; l < gf_nvlangs; l++) {
            size_t ll = strlen(gf_vlangs[l]);
            if (fl > ll + 1 && code[fl - ll - 1] == '_' && memcmp(code + fl - ll, gf_vlangs[l], ll) == 0) {
                int f = gf_vf_find(code, fl - ll - 1);
                if (f >= 0 && gf_vf_allows_lang(f)) {
                    snprintf(cmp, sizeof cmp, "%.*s_@@%s", (int)(fl - ll - 1), code, dot);
                    break;
                }
            }
        }
    }
    if (in(p->e, cmp, p->not_error)) return GF_VL_ERROR;
    if (in(p->w, cmp, NULL)) return GF_VL_WARN;
    return GF_VL_INFO;
}

int gf_vcode_kept(const char *pname, int f) { return gf_vf_in_format(f, gf_vprofile_format(pname)); }
