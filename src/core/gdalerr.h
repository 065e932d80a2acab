/* GDAL error capture, the one adapter: every call into GDAL/OGR/OSR from
 * the library runs inside a gf_gdal_errs scope, so that
 *   - GDAL never prints (its default handler writes to stderr, and the
 *     library never prints);
 *   - its warnings go to the context's log (code "gdal.warning", counted
 *     and capped like every repeated message);
 *   - its errors are kept, the FIRST one since the scope began (or since
 *     gf_gdal_clear()), for the gf_ctx_err() that reports the failure: an
 *     error or warning GDAL emits afterwards (closing a dataset after a
 *     failed write, a PROJ message relayed through OSR) never replaces the
 *     error that caused the failure. CPLGetLastErrorMsg() keeps the last
 *     message of any level and is not used for this.
 * GDAL's handler stack is per thread: a scope covers the calls made on the
 * thread that entered it, and scopes nest (the inner one is active until
 * it is left). Internal header. */
#ifndef GF_CORE_GDALERR_H
#define GF_CORE_GDALERR_H

#include "geoflux/ctx.h"

typedef struct gf_gdal_errs {
    gf_ctx *ctx;      /* log of the warnings; NULL: dropped */
    int nerr;         /* errors (CE_Failure, CE_Fatal) since enter/clear */
    char first[512];  /* the first of them, "" when none */
} gf_gdal_errs;

/* Registers GDAL's drivers, once per process. GDALAllRegister() itself is
 * not safe to call while another thread is in it (it rewrites a
 * process-wide string: ThreadSanitizer saw two jobs' joins do it at once),
 * so the library calls this, never GDALAllRegister(). */
void gf_gdal_register(void);

/* Starts capturing on this thread. e is borrowed until gf_gdal_leave(). */
void gf_gdal_enter(gf_gdal_errs *e, gf_ctx *ctx);
/* Stops capturing: the enclosing scope (or GDAL's default) is active again. */
void gf_gdal_leave(gf_gdal_errs *e);
/* Forgets the errors seen so far (before a call whose own failure is to be
 * reported after GDAL code that may fail harmlessly). */
void gf_gdal_clear(gf_gdal_errs *e);
/* The error to quote: the first one captured, else fallback (never NULL
 * when fallback is not). Borrowed from e. */
const char *gf_gdal_msg(const gf_gdal_errs *e, const char *fallback);

#endif
