/* gf_schema helpers. */
#include <string.h>

#include "geoflux/schema.h"

int gf_schema_find(const gf_schema *s, const char *name)
{
    for (int i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].name, name) == 0) return i;
    return -1;
}

gf_status gf_schema_add(gf_schema *s, const char *name, gf_type type, int *idx)
{
    if (s->nfields >= GF_MAX_FIELDS || gf_schema_find(s, name) >= 0) return GF_ERR_ARG;
    s->fields[s->nfields].name = name;
    s->fields[s->nfields].type = type;
    if (idx) *idx = s->nfields;
    s->nfields++;
    return GF_OK;
}

int gf_schema_same_fields(const gf_schema *a, const gf_schema *b, int n)
{
    if (n < 0 || n > a->nfields || n > b->nfields) return 0;
    for (int i = 0; i < n; i++)
        if (a->fields[i].type != b->fields[i].type || strcmp(a->fields[i].name, b->fields[i].name) != 0) return 0;
    return 1;
}

const char *gf_type_name(gf_type t)
{
    switch (t) {
    case GF_T_STRING: return "string";
    case GF_T_INT: return "integer";
    case GF_T_REAL: return "real";
    case GF_T_BOOL: return "boolean";
    case GF_T_DATE: return "date";
    }
    return "string";
}
