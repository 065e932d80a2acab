/* Fuzz target: the harmonise stage's value parsers (include/geoflux/
 * harmonise.h) on every line of the input, each into an output buffer of
 * exactly the size it asks for, so an overrun is caught by ASan. Must
 * never crash, and what a repair writes must be what it promises: an ISO
 * day for the dates, 1 or 0 for the certification, digits for numero. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geoflux/harmonise.h"
#include "ingest/parse.h"

typedef int (*repair_fn)(const char *, size_t, char *, size_t);

static void check_iso(const char *s)
{
    char iso[11];
    if (strlen(s) != 10 || !gf_parse_date(s, 10, iso) || memcmp(iso, s, 10) != 0) abort();
}

static void one(const char *p, size_t n)
{
    static const struct { repair_fn fn; int kind; } fns[] = {
        {gf_harmonise_date_fr, 1}, {gf_harmonise_date_excel, 1}, {gf_harmonise_date_time, 1},
        {gf_harmonise_date_ymd, 1}, {gf_harmonise_certification, 2}, {gf_harmonise_decimal_comma, 0},
        {gf_harmonise_numero, 3}, {gf_harmonise_numero_decimal, 3}, {gf_harmonise_cle_interop_case, 0},
        {gf_harmonise_cle_interop_padding, 0}};
    /* the input as its own allocation: reading past it is caught too */
    char *in = malloc(n ? n : 1);
    if (!in) return;
    memcpy(in, p, n);
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
        size_t outsz = n + 8 > 11 ? n + 8 : 11;
        char *out = malloc(outsz);
        if (!out) break;
        if (fns[k].fn(in, n, out, outsz)) {
            if (strlen(out) >= outsz) abort();
            if (fns[k].kind == 1) check_iso(out);
            if (fns[k].kind == 2 && strcmp(out, "1") && strcmp(out, "0")) abort();
            if (fns[k].kind == 3 && (!out[0] || strspn(out, "0123456789") != strlen(out))) abort();
        }
        free(out);
    }
    free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        one(p, n);
        p += n + 1;
    }
    long s = (long)(size ? data[0] : 0) * 1000 + (long)size;
    char day[11];
    if (gf_harmonise_excel_day(s, day, sizeof day)) check_iso(day);
    return 0;
}
