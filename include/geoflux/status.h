/* geoflux status codes: every fallible call returns one; GF_OK is zero.
 *
 * Every error status belongs to one class, which says whose fault a failure
 * is and so which exit code the CLI returns (gf_status_class()):
 *
 *   usage       the request itself is wrong: an option value, an unknown
 *               CRS or format, a combination geoflux does not do
 *               (GF_ERR_ARG, GF_ERR_UNSUPPORTED)
 *   input       an input cannot be opened, read or recognised: missing, a
 *               directory, unreadable, not the format expected
 *               (GF_ERR_INPUT, GF_ERR_PARSE, GF_ERR_SCHEMA)
 *   output      an output cannot be created, written or committed
 *               (GF_ERR_OUTPUT, GF_ERR_IO)
 *   dependency  PROJ, GEOS, GDAL or SQLite failed on data geoflux gave it
 *               (GF_ERR_PROJ, GF_ERR_GEOS, GF_ERR_GDAL, GF_ERR_SQL)
 *   internal    out of memory or a broken invariant
 *               (GF_ERR_NOMEM, GF_ERR_INTERNAL)
 *   cancelled   the caller stopped the run (gf_job_cancel()): nobody's
 *               fault, no output left (GF_ERR_CANCELLED)
 *
 * The class is decided where the failure is detected, by choosing the
 * status: code that opens a file the user gave as input returns
 * GF_ERR_INPUT, never GF_ERR_IO, even when the cause is an errno; a CRS or
 * driver name that does not resolve is GF_ERR_ARG even though PROJ or GDAL
 * said so. Nobody reads the message to find the class. GF_ERR_IO is the
 * older, unspecific spelling of GF_ERR_OUTPUT (scratch files, writes). */
#ifndef GEOFLUX_STATUS_H
#define GEOFLUX_STATUS_H

typedef enum gf_status {
    GF_OK = 0,
    GF_DONE = 1,              /* a cursor has no more items (not an error) */
    GF_ERR_ARG = -1,          /* invalid argument or option (usage) */
    GF_ERR_IO = -2,           /* write, scratch file or rename failed (output) */
    GF_ERR_NOMEM = -3,        /* allocation failed (internal) */
    GF_ERR_PARSE = -4,        /* input could not be parsed (input) */
    GF_ERR_SCHEMA = -5,       /* header not recognised / required column missing (input) */
    GF_ERR_PROJ = -6,         /* PROJ failure on a valid request (dependency) */
    GF_ERR_GEOS = -7,         /* GEOS failure (dependency) */
    GF_ERR_GDAL = -8,         /* GDAL/OGR failure (dependency) */
    GF_ERR_SQL = -9,          /* SQLite failure (dependency) */
    GF_ERR_UNSUPPORTED = -10, /* format or feature not supported (usage) */
    GF_ERR_INTERNAL = -11,    /* broken invariant: a bug in geoflux (internal) */
    GF_ERR_INPUT = -12,       /* an input cannot be opened or read (input) */
    GF_ERR_OUTPUT = -13,      /* an output cannot be created, written or committed (output) */
    GF_ERR_CANCELLED = -14    /* the run was cancelled (cancelled) */
} gf_status;

typedef enum gf_status_class {
    GF_CLASS_NONE = 0,   /* GF_OK, GF_DONE */
    GF_CLASS_USAGE,
    GF_CLASS_INPUT,
    GF_CLASS_OUTPUT,
    GF_CLASS_DEPENDENCY,
    GF_CLASS_INTERNAL,
    GF_CLASS_CANCELLED
} gf_status_class;

/* Static English name of a status ("ok", "I/O error", ...). Never NULL. */
const char *gf_status_str(gf_status st);

/* The class of a status (see above); GF_CLASS_INTERNAL for a value that is
 * not a gf_status. */
gf_status_class gf_status_class_of(gf_status st);

/* Static name of a class ("usage", "input", ...). Never NULL. */
const char *gf_status_class_str(gf_status_class c);

#endif
