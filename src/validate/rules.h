/* Private: the reference validator's fields, row rules and profiles. */
#ifndef GF_VALIDATE_RULES_H
#define GF_VALIDATE_RULES_H

#include <stddef.h>
#include <stdint.h>
#include "geoflux/validate.h"

/* The reference schema's fields, in its order (Object.keys(fields)). */
enum {
    VF_CLE_INTEROP, VF_UID_ADRESSE, VF_ID_BAN_COMMUNE, VF_ID_BAN_TOPONYME, VF_ID_BAN_ADRESSE,
    VF_VOIE_NOM, VF_TOPONYME, VF_LIEUDIT_COMPLEMENT_NOM, VF_NUMERO, VF_SUFFIXE, VF_COMMUNE_INSEE,
    VF_COMMUNE_NOM, VF_COMMUNE_DELEGUEE_INSEE, VF_COMMUNE_DELEGUEE_NOM, VF_POSITION, VF_X, VF_Y,
    VF_LONG, VF_LAT, VF_CAD_PARCELLES, VF_SOURCE, VF_DATE_DER_MAJ, VF_CERTIFICATION_COMMUNE,
    VF_COUNT
};
extern const char *const gf_vf_names[VF_COUNT];
/* 1 if field f belongs to BAL format fmt ("1.1".."1.5"). */
int gf_vf_in_format(int f, const char *fmt);
/* 1 if field f may have regional-language variants (voie_nom_bre ...). */
int gf_vf_allows_lang(int f);
/* Index of the reference field called name (exact, case-sensitive), -1. */
int gf_vf_find(const char *name, size_t n);
/* Regional-language codes the reference accepts (shared-data). */
extern const char *const gf_vlangs[];
extern const int gf_nvlangs;

/* Header analysis, the reference's computeFields(): exact names only. */
typedef struct gf_vheader {
    int ncols;
    int field_col[VF_COUNT];    /* -1: missing */
    int nlang;
    struct { int col, field; char name[48]; } lang[16]; /* name: "voie_nom_bre" */
    char unknown[512];
} gf_vheader;
void gf_vheader_analyse(const char *const *names, const size_t *lens, int n, gf_vheader *h);
/* Profile the reference picks from the header (calculateProfile). */
const char *gf_vheader_profile(const gf_vheader *h);

/* One row, as text. present: the column exists. */
typedef struct gf_vrow {
    const char *v[VF_COUNT];
    size_t n[VF_COUNT];
    unsigned char present[VF_COUNT];
    int nlang;
    struct { int field; const char *name; const char *v; size_t n; } lang[16];
} gf_vrow;

/* Parsed values and side values needed by file-wide checks. */
typedef struct gf_vparsed {
    int has_numero; long numero;
    int has_voie;            /* getVoieNom() defined */
    uint64_t voie_norm_hash; /* normalize(getVoieNom()) */
    uint64_t voie_ident_hash;/* getVoieIdentifier(row) */
    uint64_t numero_ident_hash;
    const char *id_commune, *id_toponyme, *id_adresse; size_t n_commune, n_toponyme, n_adresse;
    int has_lieudit; uint64_t lieudit_hash;  /* parsed lieudit_complement_nom (exact) */
    uint64_t voie_exact_hash;                /* getVoieNom() exact, for 99999 rows */
} gf_vparsed;

#define GF_VMAX_ISSUES 48
typedef struct gf_vissues {
    int n;
    char code[GF_VMAX_ISSUES][64];
    /* the field (reference column name) a code belongs to; "" for row.* */
    signed char field[GF_VMAX_ISSUES];
} gf_vissues;

/* Per-thread helper for the long/lat -> legal projection check (PROJ). */
typedef struct gf_vproj gf_vproj;
gf_status gf_vproj_create(gf_ctx *ctx, gf_vproj **out);
void gf_vproj_destroy(gf_vproj *p);

/* Runs every field and row rule of the reference on r. today: days since
 * 1970-01-01 (UTC) for date_future. Codes go to iss in the reference's
 * order; p receives what file-wide checks need. */
void gf_vrow_check(const gf_vrow *r, gf_vproj *pj, long today, gf_vissues *iss, gf_vparsed *p);

/* 1 if a code of field f (or a row code when f < 0) is kept by profile
 * (the reference drops codes of fields outside the profile's format). */
int gf_vcode_kept(const char *profile, int f);
/* Format of a profile ("1.4" for "1.4", "1.3" for "1.3-relax"). */
const char *gf_vprofile_format(const char *profile);

/* The canonical spelling of a position value ("Cage d'escalier" ->
 * "cage d’escalier"), or NULL when it is not one of the eight. */
const char *gf_vposition_canon(const char *v, size_t n);
/* long/lat -> x/y in the legal system of the territory (project-legal),
 * rounded to the centimetre; 0 outside every territory. */
int gf_vproj_legal(gf_vproj *p, double lon, double lat, double xy[2]);
/* 1 if s is a UUID v4 (the reference's check on id_ban_*). */
int gf_vuuid_v4(const char *s, size_t n);

/* COG */
int gf_cog_current(const char *code5);   /* index or -1 */
int gf_cog_former(const char *code5);    /* 1 if a former code */
const char *gf_cog_name(int idx);
/* The idx-th current commune code, in code order (0 <= idx < gf_cog_count()). */
const char *gf_cog_code(int idx);
int gf_cog_count(void);
int gf_cog_has_former(int idx, const char *code5);

/* FNV-1a, 64 bits. */
static inline uint64_t gf_vhash(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) { h ^= s[i]; h *= 1099511628211ULL; }
    return h;
}
#define GF_VHASH0 14695981039346656037ULL

#endif
