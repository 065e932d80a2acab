/* Value parsers shared by the typing stage and the validators. All take a
 * (pointer, length) pair, need no NUL terminator, and return 1 on success. */
#ifndef GF_INGEST_PARSE_H
#define GF_INGEST_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Decimal integer, optional sign, no blanks, within int64 (else 0). */
int gf_parse_int(const char *p, size_t n, int64_t *out);
/* Decimal number; comma_ok: ',' accepted as the decimal separator. */
int gf_parse_double(const char *p, size_t n, int comma_ok, double *out);
/* 1/0, true/false, oui/non, vrai/faux, yes/no (any case). */
int gf_parse_bool(const char *p, size_t n, int *out);
/* Dates: YYYY-MM-DD, YYYY/MM/DD, DD/MM/YYYY, DD-MM-YYYY, DD/MM/YY,
 * "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DDTHH:MM..." -> "YYYY-MM-DD" in iso[11]. */
int gf_parse_date(const char *p, size_t n, char iso[11]);
/* Day first, 4-digit year, one separator ('/', '-' or '.') throughout: DD/MM/YYYY,
 * D/M/YYYY, DD-MM-YYYY, DD.MM.YYYY of a real calendar day -> "YYYY-MM-DD". */
int gf_parse_date_dmy(const char *p, size_t n, char iso[11]);

#endif
