/* gf_schema: the ordered, typed list of properties a record carries.
 * Readers map every input layout (BAL 1.1–1.5, BAN, equipment) to one
 * canonical schema; stages may append fields (the join adds commune_geo…);
 * writers derive their columns from it. */
#ifndef GEOFLUX_SCHEMA_H
#define GEOFLUX_SCHEMA_H

#include "geoflux/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 128: a geocoded table (its columns + 24 result columns) can be reverse-geocoded (+ 21) */
#define GF_MAX_FIELDS 128

typedef enum gf_type {
    GF_T_STRING = 0,
    GF_T_INT = 1,   /* int64 */
    GF_T_REAL = 2,  /* double */
    GF_T_BOOL = 3,  /* stored as int64 0/1 */
    GF_T_DATE = 4   /* ISO "YYYY-MM-DD" string */
} gf_type;

typedef struct gf_field {
    const char *name; /* static storage: never freed */
    gf_type type;
} gf_field;

typedef struct gf_schema {
    const char *kind; /* "address", "equipment", ... (static) */
    int nfields;
    gf_field fields[GF_MAX_FIELDS];
} gf_schema;

/* Index of the field called name, or -1. */
int gf_schema_find(const gf_schema *s, const char *name);

/* Appends a field (name must have static storage duration). Writes its index
 * to *idx when idx is not NULL. Returns GF_ERR_ARG if the name exists or the
 * schema is full. */
gf_status gf_schema_add(gf_schema *s, const char *name, gf_type type, int *idx);

/* 1 when the first n fields of a and b have the same names and types, in
 * the same order (n <= both field counts; 0 otherwise). */
int gf_schema_same_fields(const gf_schema *a, const gf_schema *b, int n);

/* "string", "integer", "real", "boolean", "date". */
const char *gf_type_name(gf_type t);

#ifdef __cplusplus
}
#endif
#endif
