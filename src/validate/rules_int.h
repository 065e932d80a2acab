/* Private to src/validate/rules*.c: the pieces of the reference
 * validator's rules that live in their own file. rules.c holds the field
 * table, the header analysis, the COG lookups and the row checks;
 * rules_text.c the JavaScript string semantics and value parsers they are
 * written with; rules_legal.c the long/lat -> legal projection check. */
#ifndef GF_VALIDATE_RULES_INT_H
#define GF_VALIDATE_RULES_INT_H

#include <stddef.h>
#include <stdint.h>

#include <proj.h>

#include "validate/rules.h"

/* ---- rules_text.c: JavaScript string semantics, normalize(), parsers ---- */
/* 1 when code point c is one of those JavaScript's trim() removes */
int gf_vt_js_space(unsigned c);
/* trim(): narrows the text (*pp, *pn) to drop leading and trailing white space */
void gf_vt_js_trim(const char **pp, size_t *pn);
/* 1 when the text holds U+FFFD, what the reference's decoder left of invalid bytes */
int gf_vt_has_replacement_char(const char *s, size_t n);
/* length in UTF-16 code units */
size_t gf_vt_js_len(const char *s, size_t n);
/* v.toUpperCase() !== v: the text has a lower-case letter */
int gf_vt_has_lower(const char *s, size_t n);
/* v.toLowerCase() !== v: the text has an upper-case letter */
int gf_vt_has_upper(const char *s, size_t n);
/* lodash deburr() of s (lower-cased too when lower) into out: its length */
size_t gf_vt_deburr_lower(const char *s, size_t n, char *out, size_t outsz, int lower);
/* hash of @ban-team/adresses-util normalize(s) */
uint64_t gf_vt_norm_hash(const char *s, size_t n);
/* 1 when n > 0 and every byte is an ASCII digit */
int gf_vt_all_digits(const char *s, size_t n);
/* decimal value of n digits (no terminator needed) */
long gf_vt_digits_val(const char *s, size_t n);
/* /^-?(0|[1-9]\d*)(\.\d+)?\d?$/ with sep as the decimal mark */
int gf_vt_js_float(const char *s, size_t n, char sep);
/* the value of a number gf_vt_js_float() accepted ('.' or ',' as the mark) */
double gf_vt_parse_num(const char *s, size_t n);
/* isAlphaNumericWithAccents: ASCII letters and digits, white space, accented letters */
int gf_vt_alnum_accents(const char *s, size_t n);
/* days since 1970-01-01 of a proleptic Gregorian date */
long gf_vt_days_from_civil(long y, unsigned m, unsigned d);
/* days since 1970-01-01 of a YYYY-MM-DD date, -1 when not one */
long gf_vt_iso_days(const char *s, size_t n);

/* ---- rules_legal.c: the legal projections (@etalab/project-legal) ------- */
#define GF_VNLEGAL 12 /* territories of the table in rules_legal.c */
/* Local linear model of legal projection `box` around (lon0, lat0): x/y
 * there from PROJ, and the Jacobian from two more points 1e-5 degree away.
 * Within LIN_DEG of the anchor it is off by well under a metre, so a row
 * whose x/y lie within 5 m of the prediction passes the 10 m coherence
 * test of the reference for sure; other rows go through PROJ as before
 * (same verdicts, a fraction of the forward projections on BAN files). */
#define LIN_DEG 0.02
typedef struct vlin { int box; double lon0, lat0, x0, y0, x_lon, x_lat, y_lon, y_lat; } vlin;

struct gf_vproj {
    PJ_CONTEXT *pc;
    PJ *pj[GF_VNLEGAL];
    vlin lin;
    int lin_ok;
    /* normalize() of the previous street name: consecutive rows share it */
    char last[256];
    size_t lastn;
    uint64_t lasth;
};
/* 1 when gf_vproj_legal() of lon/lat succeeds and lands within 5 m of
 * (x, y) for sure, by the local model (see vlin); 0: ask gf_vproj_legal(). */
int gf_vproj_near(gf_vproj *p, double lon, double lat, double x, double y);

#endif
