/* /search/csv and /reverse/csv: an uploaded table (already on disc, spooled
 * by the server as it arrived) through the stages `geoflux geocode` and
 * `geoflux reverse` use (gf_geocode_table_stages: the same columns, the
 * Géoplateforme's order) into a stream the server sends as it comes (a
 * pipe). The pipeline streams batch by batch, so memory does not grow with
 * the file. */
#include <string.h>

#include "geoflux/equipment.h"
#include "geoflux/reproject.h"
#include "geoflux/serve.h"
#include "geoflux/write.h"

gf_status gf_serve_csv_run(gf_ctx *ctx, const gf_gc_index *ix, int reverse, const gf_serve_csv_params *f,
                           const char *in, FILE *out, const char *out_name, gf_serve_csv_stats *stats)
{
    if (!ix || !f || !in || !out || !out_name) return gf_ctx_err(ctx, GF_ERR_ARG, "serve: csv: bad arguments");
    memset(stats, 0, sizeof *stats);
    const char *nz[6];
    const char *const *v[6] = {&f->columns, &f->citycode, &f->postcode, &f->lat, &f->lon, &f->result_columns};
    for (int i = 0; i < 6; i++) nz[i] = *v[i] && (*v[i])[0] ? *v[i] : NULL;
    const char *columns = nz[0], *citycode = nz[1], *postcode = nz[2], *lat = nz[3], *lon = nz[4], *rcols = nz[5];
    if (reverse && (columns || citycode || postcode))
        return gf_ctx_err(ctx, GF_ERR_ARG, "columns, citycode and postcode are parameters of /search/csv");
    if (!reverse && !lat != !lon) return gf_ctx_err(ctx, GF_ERR_ARG, "lat and lon name columns together");
    gf_crs_info crs = {0};
    gf_table_reader *tr = NULL;
    gf_pipeline *p = NULL;
    gf_status st;
    if ((st = gf_crs_resolve(ctx, "EPSG:4326", &crs))) return st;
    gf_csv_opts co = {0};
    if ((st = gf_table_open(ctx, in, &co, &tr))) goto out;
    gf_table_reader *reader = tr;
    gf_pipeline_opts po = {.threads = 1}; /* the request's own thread: the pool's others keep answering */
    if ((st = gf_pipeline_create(ctx, &po, &p))) goto out;
    gf_pipeline_set_source(p, &gf_table_source_vt, tr, gf_table_schema(tr), (void (*)(void *))gf_table_destroy);
    tr = NULL;
    gf_geocode_opts go = {.index = ix, .columns = columns, .postcode = postcode, .citycode = citycode, .lat_col = lat,
                          .lon_col = lon, .bias = lat && lon, .result_columns = rcols};
    gf_reverse_opts ro = {.index = ix, .lat_col = lat, .lon_col = lon, .max_m = GF_GC_REVERSE_MAX_M,
                          .result_columns = rcols};
    void *gstage = NULL;
    if ((st = gf_geocode_table_stages(ctx, p, reader, reverse ? NULL : &go, reverse ? &ro : NULL, NULL, &gstage)))
        goto out;
    gf_output_opts oo = {.path = out_name, .stream = out, .format = "csv", .precision = -1, .epsg = crs.epsg, .srs_wkt = crs.wkt,
                         .srs_geographic = crs.geographic};
    const gf_sink_vt *svt;
    void *sst;
    if ((st = gf_output_open(ctx, &oo, &svt, &sst))) goto out;
    if ((st = gf_pipeline_add_sink(p, svt, sst))) { svt->destroy(sst); goto out; }
    gf_run_stats rs;
    if ((st = gf_pipeline_run(p, &rs))) goto out;
    stats->read = rs.read;
    stats->written = rs.written;
    stats->rejected = rs.rejected;
    gf_geocode_stage_counts(gstage, &stats->counts);
out:
    gf_pipeline_destroy(p);
    gf_table_destroy(tr);
    gf_crs_info_free(&crs);
    return st;
}
