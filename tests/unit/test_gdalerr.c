/* Unit tests of the GDAL error adapter (src/core/gdalerr.c): the first
 * error of a scope is the one quoted, whatever GDAL says after it (a
 * cleanup error, a warning); warnings reach the context's log; nothing
 * reaches stderr; scopes nest; and a real GDAL failure (opening a file that
 * is not a dataset, then closing NULL handles as cleanup code does) keeps
 * its cause. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cpl_error.h>
#include <gdal.h>

#include "gf_test.h"
#include "core/gdalerr.h"
#include "geoflux/ctx.h"

static char logged[4096];
static void log_fn(void *user, gf_log_level level, const char *msg)
{
    (void)user;
    if (level >= GF_LOG_WARN) snprintf(logged + strlen(logged), sizeof logged - strlen(logged), "%s\n", msg);
}

int main(void)
{
    gf_ctx *ctx = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    gf_ctx_set_log(ctx, log_fn, NULL, GF_LOG_DEBUG);
    GDALAllRegister();

    /* stderr to a file: GDAL's default handler would print there */
    char errpath[] = "/tmp/gf-gdalerr-XXXXXX";
    int efd = mkstemp(errpath);
    CHECK(efd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(efd, 2);

    gf_gdal_errs e;
    gf_gdal_enter(&e, ctx);
    CHECK(!strcmp(gf_gdal_msg(&e, "none"), "none"));
    CPLError(CE_Warning, CPLE_AppDefined, "a warning before");
    CHECK(e.nerr == 0 && !strcmp(gf_gdal_msg(&e, "none"), "none")); /* a warning is not an error */
    CPLError(CE_Failure, CPLE_OpenFailed, "the cause");
    CPLError(CE_Failure, CPLE_AppDefined, "noise from the cleanup");
    CPLError(CE_Warning, CPLE_AppDefined, "a warning after");
    CHECK(e.nerr == 2);
    CHECK_STR(gf_gdal_msg(&e, "none"), "the cause");
    /* CPL itself keeps the last message: what the adapter exists to avoid */
    CHECK_STR(CPLGetLastErrorMsg(), "a warning after");

    /* a nested scope captures apart; the outer one is untouched and
     * active again once the inner is left */
    gf_gdal_errs in;
    gf_gdal_enter(&in, NULL);
    CPLError(CE_Failure, CPLE_AppDefined, "inner");
    CPLError(CE_Warning, CPLE_AppDefined, "inner warning, dropped");
    gf_gdal_leave(&in);
    CHECK_STR(gf_gdal_msg(&in, NULL), "inner");
    CHECK_STR(gf_gdal_msg(&e, NULL), "the cause");
    CPLError(CE_Failure, CPLE_AppDefined, "outer again");
    CHECK(e.nerr == 3);

    /* clear: the next failure is quoted */
    gf_gdal_clear(&e);
    CHECK(e.nerr == 0 && gf_gdal_msg(&e, NULL) == NULL);

    /* a real failure: GDAL's own message for a file that is not a dataset,
     * then more GDAL calls that fail as cleanup does */
    char junk[] = "/tmp/gf-gdalerr-junk-XXXXXX";
    int jfd = mkstemp(junk);
    CHECK(jfd >= 0 && write(jfd, "not a dataset\n", 14) == 14);
    close(jfd);
    GDALDatasetH ds = GDALOpenEx(junk, GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
    CHECK(ds == NULL);
    CHECK(e.nerr >= 1);
    char cause[512];
    snprintf(cause, sizeof cause, "%s", gf_gdal_msg(&e, ""));
    CHECK(strstr(cause, junk) != NULL || strstr(cause, "not recognized") != NULL);
    GDALDatasetH ds2 = GDALOpenEx("/nonexistent/geoflux/other.gpkg", GDAL_OF_VECTOR | GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
    CHECK(ds2 == NULL);
    CHECK_STR(gf_gdal_msg(&e, ""), cause);
    gf_gdal_leave(&e);
    unlink(junk);

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t printed = lseek(efd, 0, SEEK_END);
    close(efd);
    unlink(errpath);
    CHECK(printed == 0); /* GDAL printed nothing */

    /* warnings went to the log, errors did not */
    CHECK(strstr(logged, "GDAL: a warning before") != NULL);
    CHECK(strstr(logged, "GDAL: a warning after") != NULL);
    CHECK(strstr(logged, "the cause") == NULL);
    CHECK(strstr(logged, "inner warning") == NULL);
    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
