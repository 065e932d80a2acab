/* The value repairs of the harmonise stage, each on one text value, with
 * no state: what the stage (stage.c), the unit tests and the fuzzer call.
 * A repair only fires on a form whose meaning is certain; anything else
 * is left to the validation. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "geoflux/harmonise.h"
#include "ingest/parse.h"

static const char *const names[GF_REPAIR_COUNT] = {
    [GF_REPAIR_HEADER_ALIAS] = "repair.header_alias",
    [GF_REPAIR_ENCODING] = "repair.encoding",
    [GF_REPAIR_TRIM] = "repair.trim",
    [GF_REPAIR_DATE_FR] = "repair.date_fr",
    [GF_REPAIR_DATE_EXCEL] = "repair.date_excel",
    [GF_REPAIR_DATE_TIME] = "repair.date_time",
    [GF_REPAIR_DATE_YMD] = "repair.date_ymd",
    [GF_REPAIR_CLE_INTEROP_CASE] = "repair.cle_interop_case",
    [GF_REPAIR_CLE_INTEROP_PADDING] = "repair.cle_interop_padding",
    [GF_REPAIR_NUMERO_PREFIX] = "repair.numero_prefix",
    [GF_REPAIR_NUMERO_DECIMAL] = "repair.numero_decimal",
    [GF_REPAIR_CERTIFICATION] = "repair.certification",
    [GF_REPAIR_DECIMAL_COMMA] = "repair.decimal_comma",
    [GF_REPAIR_LONLAT_SWAPPED] = "repair.lonlat_swapped",
    [GF_REPAIR_LONLAT_FROM_XY] = "repair.lonlat_from_xy",
};

const char *gf_repair_name(gf_repair_code c)
{
    return (int)c >= 0 && c < GF_REPAIR_COUNT ? names[c] : NULL;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int all_digits(const char *p, size_t n)
{
    if (!n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(p[i])) return 0;
    return 1;
}

int gf_harmonise_date_fr(const char *p, size_t n, char *out, size_t outsz)
{
    char iso[11];
    if (outsz < 11 || !gf_parse_date_dmy(p, n, iso)) return 0;
    memcpy(out, iso, 11);
    return 1;
}

int gf_harmonise_excel_day(long s, char *out, size_t outsz)
{
    /* Excel's day 1 is 1900-01-01 and it counts a 29 February 1900: from
     * serial 61 on, day s is 1899-12-30 + s; before 60, 1899-12-31 + s.
     * 1970-01-01 is serial 25569. */
    if (outsz < 11 || s < 1 || s == 60 || s > 2958465) return 0; /* 2958465: 9999-12-31 */
    long days = s > 60 ? s - 25569 : s - 25568;
    time_t t = (time_t)days * 86400;
    struct tm tmv;
    if (!gmtime_r(&t, &tmv)) return 0;
    snprintf(out, outsz, "%04d-%02d-%02d", tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday);
    return 1;
}

int gf_harmonise_date_excel(const char *p, size_t n, char *out, size_t outsz)
{
    /* digits, and an optional fraction of a day (a time) */
    size_t k = 0;
    while (k < n && is_digit(p[k])) k++;
    if (k == 0 || k > 5) return 0;
    if (k < n && !(p[k] == '.' || p[k] == ',')) return 0;
    if (k < n && !all_digits(p + k + 1, n - k - 1)) return 0;
    long s = 0;
    for (size_t i = 0; i < k; i++) s = s * 10 + (p[i] - '0');
    /* a day of 2000-2099, the only years a BAL date can plausibly be
     * (36526: 2000-01-01, 73050: 2099-12-31); a smaller number is more
     * likely something else than a date */
    if (s < 36526 || s > 73050) return 0;
    return gf_harmonise_excel_day(s, out, outsz);
}

static int two(const char *p) { return is_digit(p[0]) && is_digit(p[1]); }

int gf_harmonise_date_time(const char *p, size_t n, char *out, size_t outsz)
{
    char iso[11];
    /* YYYY-MM-DD, then T or a space, then HH:MM */
    if (n < 16 || outsz < 11 || (p[10] != 'T' && p[10] != ' ') || p[4] != '-' || p[7] != '-') return 0;
    if (!gf_parse_date(p, 10, iso) || memcmp(iso, p, 10) != 0) return 0;
    const char *q = p + 11;
    size_t m = n - 11;
    if (m < 5 || !two(q) || q[2] != ':' || !two(q + 3)) return 0;
    if ((q[0] - '0') * 10 + (q[1] - '0') > 24 || (q[3] - '0') * 10 + (q[4] - '0') > 59) return 0;
    q += 5; m -= 5;
    if (m >= 3 && q[0] == ':' && two(q + 1)) {
        q += 3; m -= 3;
        if (m >= 2 && q[0] == '.' && is_digit(q[1])) {
            q++; m--;
            while (m && is_digit(*q)) { q++; m--; }
        }
    }
    /* time zone */
    if (m == 1 && q[0] == 'Z') m = 0;
    else if (m == 6 && (q[0] == '+' || q[0] == '-') && two(q + 1) && q[3] == ':' && two(q + 4)) m = 0;
    else if (m == 5 && (q[0] == '+' || q[0] == '-') && two(q + 1) && two(q + 3)) m = 0;
    if (m) return 0;
    memcpy(out, iso, 11);
    return 1;
}

int gf_harmonise_date_ymd(const char *p, size_t n, char *out, size_t outsz)
{
    char iso[11];
    if (n != 10 || outsz < 11 || (p[4] != '/' && p[4] != '.') || p[7] != p[4]) return 0;
    if (!gf_parse_date(p, n, iso)) return 0;
    memcpy(out, iso, 11);
    return 1;
}

int gf_harmonise_certification(const char *p, size_t n, char *out, size_t outsz)
{
    int v;
    if (outsz < 2 || (n == 1 && (p[0] == '0' || p[0] == '1'))) return 0;
    if (!gf_parse_bool(p, n, &v)) return 0;
    out[0] = v ? '1' : '0';
    out[1] = 0;
    return 1;
}

int gf_harmonise_decimal_comma(const char *p, size_t n, char *out, size_t outsz)
{
    /* -?digits,digits: one comma, nothing else */
    size_t i = n && p[0] == '-' ? 1 : 0, c = 0;
    if (n + 1 > outsz || n < i + 3) return 0;
    const char *comma = memchr(p, ',', n);
    if (!comma) return 0;
    c = (size_t)(comma - p);
    if (!all_digits(p + i, c - i) || !all_digits(p + c + 1, n - c - 1)) return 0;
    memcpy(out, p, n);
    out[c] = '.';
    out[n] = 0;
    return 1;
}

int gf_harmonise_numero(const char *p, size_t n, char *out, size_t outsz)
{
    if (!all_digits(p, n) || p[0] != '0') return 0;
    size_t i = 0;
    while (i < n && p[i] == '0') i++;
    if (i == n) return 0; /* zero itself: not a prefix problem */
    if (n - i + 1 > outsz) return 0;
    memcpy(out, p + i, n - i);
    out[n - i] = 0;
    return 1;
}

int gf_harmonise_numero_decimal(const char *p, size_t n, char *out, size_t outsz)
{
    size_t k = 0;
    while (k < n && is_digit(p[k])) k++;
    if (k == 0 || k + 1 >= n || (p[k] != ',' && p[k] != '.') || k + 1 > outsz) return 0;
    for (size_t i = k + 1; i < n; i++)
        if (p[i] != '0') return 0;
    size_t z = 0;
    while (z + 1 < k && p[z] == '0') z++;
    if (k - z == 1 && p[z] == '0') return 0; /* zero: not a number to repair */
    memcpy(out, p + z, k - z);
    out[k - z] = 0;
    return 1;
}

int gf_harmonise_cle_interop_case(const char *p, size_t n, char *out, size_t outsz)
{
    int any = 0;
    if (n + 1 > outsz) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') { c = (char)(c - 'A' + 'a'); any = 1; }
        out[i] = c;
    }
    out[n] = 0;
    return any;
}

int gf_harmonise_cle_interop_padding(const char *p, size_t n, char *out, size_t outsz)
{
    /* INSEE_VOIE_NUMERO[_SUFFIXE...]: the third part */
    const char *u1 = memchr(p, '_', n);
    if (!u1 || u1 == p) return 0;
    const char *u2 = memchr(u1 + 1, '_', n - (size_t)(u1 + 1 - p));
    if (!u2 || u2 == u1 + 1) return 0;
    const char *num = u2 + 1, *end = p + n;
    const char *u3 = memchr(num, '_', (size_t)(end - num));
    size_t nl = (size_t)((u3 ? u3 : end) - num);
    if (nl == 0 || nl >= 5 || !all_digits(num, nl)) return 0;
    size_t pad = 5 - nl, head = (size_t)(num - p);
    if (n + pad + 1 > outsz) return 0;
    memcpy(out, p, head);
    memset(out + head, '0', pad);
    memcpy(out + head + pad, num, n - head);
    out[n + pad] = 0;
    return 1;
}
