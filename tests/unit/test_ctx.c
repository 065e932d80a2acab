/* gf_ctx: errors carry a status whose class decides the exit code, a
 * message may quote the previous one, and PROJ/GEOS log lines never replace
 * the error that caused a failure. */
#include <geos_c.h>
#include <proj.h>

#include "geoflux/ctx.h"
#include "gf_test.h"

int main(void)
{
    /* every status has a class; the CLI's exit codes depend on it */
    CHECK(gf_status_class_of(GF_OK) == GF_CLASS_NONE);
    CHECK(gf_status_class_of(GF_DONE) == GF_CLASS_NONE);
    CHECK(gf_status_class_of(GF_ERR_ARG) == GF_CLASS_USAGE);
    CHECK(gf_status_class_of(GF_ERR_UNSUPPORTED) == GF_CLASS_USAGE);
    CHECK(gf_status_class_of(GF_ERR_INPUT) == GF_CLASS_INPUT);
    CHECK(gf_status_class_of(GF_ERR_PARSE) == GF_CLASS_INPUT);
    CHECK(gf_status_class_of(GF_ERR_SCHEMA) == GF_CLASS_INPUT);
    CHECK(gf_status_class_of(GF_ERR_OUTPUT) == GF_CLASS_OUTPUT);
    CHECK(gf_status_class_of(GF_ERR_IO) == GF_CLASS_OUTPUT);
    CHECK(gf_status_class_of(GF_ERR_PROJ) == GF_CLASS_DEPENDENCY);
    CHECK(gf_status_class_of(GF_ERR_GEOS) == GF_CLASS_DEPENDENCY);
    CHECK(gf_status_class_of(GF_ERR_GDAL) == GF_CLASS_DEPENDENCY);
    CHECK(gf_status_class_of(GF_ERR_SQL) == GF_CLASS_DEPENDENCY);
    CHECK(gf_status_class_of(GF_ERR_NOMEM) == GF_CLASS_INTERNAL);
    CHECK(gf_status_class_of(GF_ERR_INTERNAL) == GF_CLASS_INTERNAL);
    CHECK(gf_status_class_of((gf_status)-999) == GF_CLASS_INTERNAL);
    CHECK_STR(gf_status_class_str(GF_CLASS_INPUT), "input");
    CHECK_STR(gf_status_str(GF_ERR_OUTPUT), "output error");

    gf_ctx *ctx = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    CHECK_STR(gf_ctx_errmsg(ctx), "");
    CHECK(gf_ctx_errstatus(ctx) == GF_OK);

    /* a message that quotes the previous one is not formatted into itself */
    CHECK(gf_ctx_err(ctx, GF_ERR_GEOS, "IllegalArgumentException: Invalid number of points") == GF_ERR_GEOS);
    gf_ctx_err(ctx, GF_ERR_INPUT, "b.geojson: feature 3 (35047): %s", gf_ctx_errmsg(ctx));
    CHECK_STR(gf_ctx_errmsg(ctx), "b.geojson: feature 3 (35047): IllegalArgumentException: Invalid number of points");
    CHECK(gf_ctx_errstatus(ctx) == GF_ERR_INPUT);

    /* PROJ logs on failure: the line goes aside, the error stays */
    gf_ctx_err(ctx, GF_ERR_OUTPUT, "out.gpkg: cannot create: Permission denied");
    PJ *p = proj_create(gf_ctx_proj(ctx), "EPSG:99999");
    CHECK(p == NULL);
    CHECK_STR(gf_ctx_errmsg(ctx), "out.gpkg: cannot create: Permission denied");
    CHECK(gf_ctx_dep_msg(ctx)[0] != 0);
    gf_ctx_dep_clear(ctx);
    CHECK_STR(gf_ctx_dep_msg(ctx), "");

    /* GEOS too: parse garbage WKT, the error stays, GEOS's text is kept aside
     * whole (no "GEOS: GEOS: ..." nesting) */
    GEOSContextHandle_t h = gf_ctx_geos(ctx);
    CHECK(h != NULL);
    GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
    GEOSGeometry *g = GEOSWKTReader_read_r(h, rd, "POLYGON((0 0, 1 1))");
    CHECK(g == NULL);
    GEOSWKTReader_destroy_r(h, rd);
    CHECK_STR(gf_ctx_errmsg(ctx), "out.gpkg: cannot create: Permission denied");
    CHECK(strstr(gf_ctx_dep_msg(ctx), "GEOS") == NULL && gf_ctx_dep_msg(ctx)[0] != 0);

    /* a worker's error (message and status) reaches its parent */
    gf_ctx *w = NULL;
    CHECK(gf_ctx_fork(ctx, &w) == GF_OK);
    gf_ctx_err(w, GF_ERR_PARSE, "a.csv:12:3: numero: \"x\" is not an integer");
    gf_ctx_take_error(ctx, w);
    CHECK_STR(gf_ctx_errmsg(ctx), "a.csv:12:3: numero: \"x\" is not an integer");
    CHECK(gf_ctx_errstatus(ctx) == GF_ERR_PARSE);
    gf_ctx_destroy(w);
    gf_ctx_destroy(ctx);
    gf_ctx_destroy(NULL);
    GF_TEST_END();
}
