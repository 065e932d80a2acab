/* GDAL error capture (see gdalerr.h). */
#include <pthread.h>
#include <stdio.h>

#include <cpl_error.h>
#include <gdal.h>

#include "core/gdalerr.h"

static pthread_once_t register_once = PTHREAD_ONCE_INIT;
void gf_gdal_register(void) { pthread_once(&register_once, GDALAllRegister); }

static void handler(CPLErr level, CPLErrorNum num, const char *msg)
{
    (void)num;
    gf_gdal_errs *e = CPLGetErrorHandlerUserData();
    if (!e) return;
    if (!msg) msg = "";
    if (level >= CE_Failure) {
        if (!e->nerr++) snprintf(e->first, sizeof e->first, "%s", msg);
    } else if (level == CE_Warning && e->ctx) {
        gf_ctx_logc(e->ctx, GF_LOG_WARN, "gdal.warning", "GDAL: %s", msg);
    } /* CE_Debug, CE_None: dropped */
}

void gf_gdal_enter(gf_gdal_errs *e, gf_ctx *ctx)
{
    e->ctx = ctx;
    gf_gdal_clear(e);
    CPLPushErrorHandlerEx(handler, e);
}

void gf_gdal_leave(gf_gdal_errs *e)
{
    (void)e;
    CPLPopErrorHandler();
}

void gf_gdal_clear(gf_gdal_errs *e)
{
    e->nerr = 0;
    e->first[0] = 0;
}

const char *gf_gdal_msg(const gf_gdal_errs *e, const char *fallback)
{
    return e->nerr && e->first[0] ? e->first : fallback;
}
