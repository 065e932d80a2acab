/* Tables to geocode: SCDL "équipements collectifs publics" files (schema
 * 0.1.5, and the older OpenDataFrance template with EQUIP_ID,
 * EQUIP_LIBELLE, ADR_VILLE, EQUIP_X/EQUIP_Y in Lambert-93), or any CSV.
 *
 * The reader keeps every input column, in input order and under its own
 * name, as text (SCDL numbers become typed after gf_typing_stage_vt); the
 * validation stage checks SCDL rows against the schema's constraints with
 * the same rules as addresses: a row breaking one is rejected (reason
 * "code: message", kept in the rejects file) unless keep_invalid, in which
 * case it stays with its codes in `errors`; lesser problems are warnings. */
#ifndef GEOFLUX_EQUIPMENT_H
#define GEOFLUX_EQUIPMENT_H

#include "geoflux/ingest.h"
#include "geoflux/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gf_table_layout {
    GF_TABLE_GENERIC = 0,   /* any CSV: every column a string */
    GF_TABLE_EQUIP_0_1_5,   /* SCDL équipements 0.1.5 (EQUIP_UID, EQUIP_NOM, ADR_COMMUNE, ...) */
    GF_TABLE_EQUIP_OLD      /* older template (EQUIP_ID, EQUIP_LIBELLE, ADR_VILLE, EQUIP_X/Y) */
} gf_table_layout;

/* "csv", "scdl-equipements-0.1.5", "scdl-equipements-old" */
const char *gf_table_layout_name(gf_table_layout l);

typedef struct gf_table_reader gf_table_reader;

/* Opens path ("-": standard input; gzip detected) and reads its header.
 * path is borrowed for the reader's lifetime. GF_ERR_SCHEMA for an empty
 * file or a header with more than GF_MAX_FIELDS - 24 columns (room is kept
 * for the result columns). Caller frees with gf_table_destroy() unless the
 * reader was handed to a pipeline as its source. */
gf_status gf_table_open(gf_ctx *ctx, const char *path, const gf_csv_opts *csv, gf_table_reader **out);
void gf_table_destroy(gf_table_reader *r);
gf_table_layout gf_table_layout_of(const gf_table_reader *r);
/* Schema: the input columns (kind "equipment" for SCDL layouts, "table"
 * otherwise). Valid until gf_table_destroy(). */
const gf_schema *gf_table_schema(const gf_table_reader *r);
/* Source adapter (state = gf_table_reader *). */
extern const gf_source_vt gf_table_source_vt;

/* SCDL validation stage for a reader's rows (the reader is borrowed: it
 * must outlive the pipeline). For a generic CSV it does nothing. Put it
 * before gf_typing_stage_vt: it judges the text as written. */
gf_status gf_equip_validate_create(gf_ctx *ctx, const gf_table_reader *r, int keep_invalid, void **st);
extern const gf_stage_vt gf_equip_validate_stage_vt;

/* SIRET check (14 digits, Luhn; La Poste's establishments use the sum of
 * digits modulo 5). 1 when valid. Exposed for tests. */
int gf_siret_valid(const char *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
