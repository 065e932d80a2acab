/* geoflux status codes: every fallible call returns one; GF_OK is zero. */
#ifndef GEOFLUX_STATUS_H
#define GEOFLUX_STATUS_H

typedef enum gf_status {
    GF_OK = 0,
    GF_DONE = 1,              /* a cursor has no more items (not an error) */
    GF_ERR_ARG = -1,          /* invalid argument or option */
    GF_ERR_IO = -2,           /* read, write, open or rename failed */
    GF_ERR_NOMEM = -3,        /* allocation failed */
    GF_ERR_PARSE = -4,        /* input could not be parsed */
    GF_ERR_SCHEMA = -5,       /* header not recognised / required column missing */
    GF_ERR_PROJ = -6,         /* PROJ failure (unknown CRS, transformation) */
    GF_ERR_GEOS = -7,         /* GEOS failure */
    GF_ERR_GDAL = -8,         /* GDAL/OGR failure */
    GF_ERR_SQL = -9,          /* SQLite failure */
    GF_ERR_UNSUPPORTED = -10, /* format or feature not supported */
    GF_ERR_INTERNAL = -11     /* broken invariant: a bug in geoflux */
} gf_status;

/* Static English name of a status ("ok", "I/O error", ...). Never NULL. */
const char *gf_status_str(gf_status st);

#endif
