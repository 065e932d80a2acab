/* The stages between a table and its writers, as `geoflux geocode`,
 * `geoflux reverse` and `geoflux serve`'s /search/csv and /reverse/csv chain
 * them: SCDL checks (geocoding: reported, never a reason to withhold a
 * row), typing, the geocode or reverse stage (result columns), reprojection
 * of the found positions. One assembly, so that the CLI and the HTTP batch
 * give the same columns for the same file. */
#include "geoflux/equipment.h"
#include "geoflux/geocode.h"
#include "geoflux/ingest.h"
#include "geoflux/reproject.h"

gf_status gf_geocode_table_stages(gf_ctx *ctx, gf_pipeline *p, const gf_table_reader *reader,
                                  const gf_geocode_opts *go, const gf_reverse_opts *ro, const char *t_srs,
                                  void **gstage)
{
    if (!p || !reader || (!go == !ro)) return gf_ctx_err(ctx, GF_ERR_ARG, "geocode: stages: bad arguments");
    gf_status st;
    void *stage;
    if (go) {
        if ((st = gf_equip_validate_create(ctx, reader, 1, &stage))) return st;
        if ((st = gf_pipeline_add_stage(p, &gf_equip_validate_stage_vt, stage))) {
            gf_equip_validate_stage_vt.destroy(stage);
            return st;
        }
    }
    if ((st = gf_pipeline_add_stage(p, &gf_typing_stage_vt, NULL))) return st;
    const gf_stage_vt *vt = go ? &gf_geocode_stage_vt : &gf_reverse_stage_vt;
    if ((st = go ? gf_geocode_stage_create(ctx, go, &stage) : gf_reverse_stage_create(ctx, ro, &stage))) return st;
    if ((st = gf_pipeline_add_stage(p, vt, stage))) { vt->destroy(stage); return st; }
    if (gstage) *gstage = stage;
    /* b->lon/lat -> b->gx/gy in the output CRS (the table is not an address
     * schema, so the stage only converts positions) */
    gf_reproject_opts rpo = {.t_srs = t_srs};
    if ((st = gf_reproject_create(ctx, &rpo, &stage))) return st;
    if ((st = gf_pipeline_add_stage(p, &gf_reproject_stage_vt, stage))) { gf_reproject_stage_vt.destroy(stage); return st; }
    return GF_OK;
}
