/* Value parsers. gf_parse_double has a fast exact path (Clinger: at most 15
 * significant digits and a power of ten up to 22 give a correctly rounded
 * result with one multiplication or division) because coordinates are the
 * bulk of the numbers read; anything else goes to strtod. The library never
 * calls setlocale(), so strtod uses '.'. */
#include <stdlib.h>
#include <string.h>

#include "ingest/parse.h"

int gf_parse_int(const char *p, size_t n, int64_t *out)
{
    if (n == 0 || n > 20) return 0; /* sign + 19 digits at most */
    size_t i = 0;
    int neg = 0;
    if (p[0] == '-' || p[0] == '+') { neg = p[0] == '-'; i = 1; if (n == 1) return 0; }
    /* accumulate the magnitude unsigned, so INT64_MIN (2^63) fits */
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (lim - d) / 10) return 0; /* v * 10 + d > lim */
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

static const double pow10tab[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int gf_parse_double(const char *p, size_t n, int comma_ok, double *out)
{
    if (n == 0 || n > 64) return 0;
    size_t i = 0;
    int neg = 0;
    if (p[0] == '-' || p[0] == '+') { neg = p[0] == '-'; i = 1; }
    uint64_t mant = 0;
    int digits = 0, frac = 0, seen_dot = 0, any = 0;
    for (; i < n; i++) {
        char ch = p[i];
        if (ch >= '0' && ch <= '9') {
            any = 1;
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(ch - '0');
                if (mant) digits++;
                if (seen_dot) frac++;
            } else if (!seen_dot) {
                goto slow; /* too many digits before the point */
            }
        } else if ((ch == '.' || (comma_ok && ch == ',')) && !seen_dot) {
            seen_dot = 1;
        } else if (ch == 'e' || ch == 'E') {
            goto slow;
        } else {
            return 0;
        }
    }
    if (!any) return 0;
    if (digits <= 15 && frac <= 22) {
        double v = (double)mant / pow10tab[frac];
        *out = neg ? -v : v;
        return 1;
    }
slow:;
    char tmp[72];
    memcpy(tmp, p, n);
    tmp[n] = 0;
    for (size_t k = 0; k < n; k++)
        if (comma_ok && tmp[k] == ',') tmp[k] = '.';
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + n) return 0;
    *out = v;
    return 1;
}

static int ieq(const char *p, size_t n, const char *w)
{
    size_t l = strlen(w);
    if (l != n) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != w[i]) return 0;
    }
    return 1;
}

int gf_parse_bool(const char *p, size_t n, int *out)
{
    static const char *yes[] = {"1", "true", "oui", "vrai", "yes", "o", "y", "t"};
    static const char *no[] = {"0", "false", "non", "faux", "no", "n", "f"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (ieq(p, n, yes[i])) { *out = 1; return 1; }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (ieq(p, n, no[i])) { *out = 0; return 1; }
    return 0;
}

static int num(const char *p, int k, int *v)
{
    int x = 0;
    for (int i = 0; i < k; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        x = x * 10 + (p[i] - '0');
    }
    *v = x;
    return 1;
}

static int valid_ymd(int y, int m, int d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 0;
    return 1;
}

static void put_iso(int y, int m, int d, char iso[11])
{
    iso[0] = (char)('0' + y / 1000); iso[1] = (char)('0' + y / 100 % 10);
    iso[2] = (char)('0' + y / 10 % 10); iso[3] = (char)('0' + y % 10);
    iso[4] = '-'; iso[5] = (char)('0' + m / 10); iso[6] = (char)('0' + m % 10);
    iso[7] = '-'; iso[8] = (char)('0' + d / 10); iso[9] = (char)('0' + d % 10);
    iso[10] = 0;
}

int gf_parse_date_dmy(const char *p, size_t n, char iso[11])
{
    if (n < 8 || n > 10) return 0;
    /* day: 1 or 2 digits, then the separator */
    size_t dl = p[1] >= '0' && p[1] <= '9' ? 2 : 1;
    char sep = p[dl];
    if (sep != '/' && sep != '-' && sep != '.') return 0;
    const char *q = p + dl + 1;
    size_t rest = n - dl - 1;
    if (rest < 6) return 0;
    size_t ml = q[1] >= '0' && q[1] <= '9' ? 2 : 1;
    if (rest != ml + 1 + 4 || q[ml] != sep) return 0;
    int y, m, d;
    if (!num(p, (int)dl, &d) || !num(q, (int)ml, &m) || !num(q + ml + 1, 4, &y)) return 0;
    if (!valid_ymd(y, m, d)) return 0;
    put_iso(y, m, d, iso);
    return 1;
}

int gf_parse_date(const char *p, size_t n, char iso[11])
{
    int y, m, d;
    if (n >= 8 && n <= 10 && gf_parse_date_dmy(p, n, iso)) return 1; /* DD/MM/YYYY, D/M/YYYY */
    if (n >= 10 && (p[4] == '-' || p[4] == '/') && p[7] == p[4] && num(p, 4, &y) && num(p + 5, 2, &m) &&
        num(p + 8, 2, &d) && (n == 10 || p[10] == ' ' || p[10] == 'T')) {
        /* YYYY-MM-DD[ time] */
    } else if (n == 8 && p[2] == '/' && p[5] == '/' && num(p, 2, &d) && num(p + 3, 2, &m) && num(p + 6, 2, &y)) {
        y += y < 70 ? 2000 : 1900; /* DD/MM/YY */
    } else if (n == 10 && p[4] == '.' && p[7] == '.' && num(p, 4, &y) && num(p + 5, 2, &m) && num(p + 8, 2, &d)) {
        /* YYYY.MM.DD */
    } else {
        return 0;
    }
    if (!valid_ymd(y, m, d)) return 0;
    if (y > 9999) return 0;
    put_iso(y, m, d, iso);
    return 1;
}
