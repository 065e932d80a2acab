/* The canonical address record: every BAL version (1.1–1.5) and both BAN
 * layouts (current departmental extract and the legacy 2015–2019 one) map to
 * these fields, named as in BAL 1.4 (`toponyme` of 1.5 becomes `voie_nom`,
 * BAN `rep` becomes `suffixe`, ...). The enum value is the column index in
 * the batch. */
#ifndef GEOFLUX_ADDRESS_H
#define GEOFLUX_ADDRESS_H

#include "geoflux/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gf_addr_field {
    GF_A_CLE_INTEROP = 0,
    GF_A_UID_ADRESSE,
    GF_A_ID_BAN_COMMUNE,
    GF_A_ID_BAN_TOPONYME,
    GF_A_ID_BAN_ADRESSE,
    GF_A_COMMUNE_INSEE,
    GF_A_COMMUNE_NOM,
    GF_A_COMMUNE_DELEGUEE_INSEE,
    GF_A_COMMUNE_DELEGUEE_NOM,
    GF_A_VOIE_NOM,
    GF_A_LIEUDIT_COMPLEMENT_NOM,
    GF_A_NUMERO,
    GF_A_SUFFIXE,
    GF_A_POSITION,
    GF_A_X,
    GF_A_Y,
    GF_A_LONG,
    GF_A_LAT,
    GF_A_CAD_PARCELLES,
    GF_A_SOURCE,
    GF_A_DATE_DER_MAJ,
    GF_A_CERTIFICATION_COMMUNE,
    /* BAN extract only */
    GF_A_CODE_POSTAL,
    GF_A_LIBELLE_ACHEMINEMENT,
    GF_A_NOM_AFNOR,
    GF_A_ID_FANTOIR,
    GF_A_SOURCE_NOM_VOIE,
    GF_A_BAN_ID, /* legacy BAN "id" (IGN ADRNIVX_...) */
    GF_A_COUNT
} gf_addr_field;

/* Input layouts recognised from the header. */
typedef enum gf_layout {
    GF_LAYOUT_UNKNOWN = 0,
    GF_LAYOUT_BAL_1_1,
    GF_LAYOUT_BAL_1_2,
    GF_LAYOUT_BAL_1_3,
    GF_LAYOUT_BAL_1_4,
    GF_LAYOUT_BAL_1_5,
    GF_LAYOUT_BAN,        /* current departmental extract (2019+) */
    GF_LAYOUT_BAN_LEGACY  /* "Adresses ODbL" 2015–2019 */
} gf_layout;

/* "bal-1.3", "ban", "ban-legacy", ... */
const char *gf_layout_name(gf_layout l);
static inline int gf_layout_is_bal(gf_layout l) { return l >= GF_LAYOUT_BAL_1_1 && l <= GF_LAYOUT_BAL_1_5; }

/* The canonical address schema, with typed fields (numero integer,
 * certification_commune boolean, coordinates real, date_der_maj date).
 * Static storage: never freed. */
const gf_schema *gf_address_schema(void);

#ifdef __cplusplus
}
#endif
#endif
