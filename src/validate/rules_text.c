/* The JavaScript string semantics the reference validator's rules are
 * written with (trim(), length in UTF-16 units, toUpperCase() === v,
 * lodash deburr), @ban-team/adresses-util normalize(), and the value
 * parsers of lib/schema/fields.ts, for the characters found in French
 * addresses. Used by rules.c (see rules_int.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/swar.h"
#include "validate/rules_int.h"

/* ---- JavaScript string semantics ------------------------------------------ */

static unsigned utf8_dec(const unsigned char *s, size_t n, size_t *adv)
{
    unsigned c = s[0];
    if (c < 0x80 || n < 2) { *adv = 1; return c; }
    if ((c & 0xE0) == 0xC0) { *adv = 2; return ((c & 0x1F) << 6) | (s[1] & 0x3F); }
    if ((c & 0xF0) == 0xE0 && n >= 3) { *adv = 3; return ((c & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F); }
    if ((c & 0xF8) == 0xF0 && n >= 4) {
        *adv = 4;
        return ((c & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    }
    *adv = 1;
    return 0xFFFD;
}

int gf_vt_js_space(unsigned c)
{
    return c == ' ' || (c >= 9 && c <= 13) || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

/* String.prototype.trim() */
void gf_vt_js_trim(const char **pp, size_t *pn)
{
    const unsigned char *p = (const unsigned char *)*pp;
    size_t n = *pn, adv;
    /* common case: printable ASCII at both ends */
    if (n && p[0] > ' ' && p[0] < 0x80 && p[n - 1] > ' ' && p[n - 1] < 0x80) return;
    while (n) {
        unsigned c = utf8_dec(p, n, &adv);
        if (!gf_vt_js_space(c)) break;
        p += adv; n -= adv;
    }
    while (n) {
        size_t k = n - 1;
        while (k > 0 && (p[k] & 0xC0) == 0x80) k--;
        unsigned c = utf8_dec(p + k, n - k, &adv);
        if (!gf_vt_js_space(c)) break;
        n = k;
    }
    *pp = (const char *)p;
    *pn = n;
}

/* .length (UTF-16 code units) */
/* U+FFFD (EF BF BD) in s: what the reference's decoder left of invalid
 * bytes. memchr on the lead byte: glibc's memmem set-up cost more than the
 * search on these short values (2 % of a BAN run). */
int gf_vt_has_replacement_char(const char *s, size_t n)
{
    for (const char *p = s, *e = s + n; (p = memchr(p, 0xEF, (size_t)(e - p))) && e - p >= 3; p++)
        if ((unsigned char)p[1] == 0xBF && (unsigned char)p[2] == 0xBD) return 1;
    return 0;
}

size_t gf_vt_js_len(const char *s, size_t n)
{
    size_t adv;
    size_t a = 0;
    /* the ASCII prefix, one unit a byte: 8 bytes at a time (core/swar.h),
     * and not decoded again below (a string with one accented letter was
     * decoded from its first byte) */
    while (n - a >= 8 && !(gf_swar_load(s + a) & GF_SWAR_HIGH)) a += 8;
    while (a < n && (unsigned char)s[a] < 0x80) a++;
    if (a == n) return n;
    size_t k = a;
    for (size_t i = a; i < n; i += adv) {
        unsigned c = utf8_dec((const unsigned char *)s + i, n - i, &adv);
        k += c >= 0x10000 ? 2 : 1;
    }
    return k;
}

/* Case classes of the Latin scripts (enough for French and regional names). */
static int is_lower_cp(unsigned c)
{
    if (c >= 'a' && c <= 'z') return 1;
    if (c == 0xB5 || c == 0xDF || (c >= 0xE0 && c <= 0xFF && c != 0xF7)) return 1;
    if (c >= 0x100 && c <= 0x137) return c & 1;
    if (c >= 0x139 && c <= 0x148) return !(c & 1);
    if (c >= 0x14A && c <= 0x177) return c & 1;
    if (c >= 0x179 && c <= 0x17E) return !(c & 1);
    if (c == 0x17F) return 1;
    if (c >= 0x3B1 && c <= 0x3C9) return 1;
    if (c >= 0x430 && c <= 0x45F) return 1;
    return 0;
}
static int is_upper_cp(unsigned c)
{
    if (c >= 'A' && c <= 'Z') return 1;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return 1;
    if (c >= 0x100 && c <= 0x137) return !(c & 1);
    if (c >= 0x139 && c <= 0x148) return c & 1;
    if (c >= 0x14A && c <= 0x177) return !(c & 1);
    if (c == 0x178) return 1;
    if (c >= 0x179 && c <= 0x17E) return c & 1;
    if (c >= 0x391 && c <= 0x3A9) return 1;
    if (c >= 0x400 && c <= 0x42F) return 1;
    return 0;
}
/* v.toUpperCase() !== v */
int gf_vt_has_lower(const char *s, size_t n)
{
    size_t adv;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'a' && c <= 'z') return 1;
        if (c >= 0x80) break; /* leave the rest to the Unicode loop */
        if (i + 1 == n) return 0;
    }
    for (size_t i = 0; i < n; i += adv)
        if (is_lower_cp(utf8_dec((const unsigned char *)s + i, n - i, &adv))) return 1;
    return 0;
}
/* v.toLowerCase() !== v */
int gf_vt_has_upper(const char *s, size_t n)
{
    size_t adv, i0 = 0;
    for (; i0 < n; i0++) {
        unsigned char c = (unsigned char)s[i0];
        if (c >= 'A' && c <= 'Z') return 1;
        if (c >= 0x80) break;
    }
    if (i0 == n) return 0;
    for (size_t i = i0; i < n; i += adv)
        if (is_upper_cp(utf8_dec((const unsigned char *)s + i, n - i, &adv))) return 1;
    return 0;
}

/* lodash deburr() for Latin-1 Supplement and Latin Extended-A; combining
 * marks are dropped; anything else is copied. Output at most 2n bytes. */
static const char *const deburr_l1[64] = {
    "A", "A", "A", "A", "A", "A", "Ae", "C", "E", "E", "E", "E", "I", "I", "I", "I",
    "D", "N", "O", "O", "O", "O", "O", NULL, "O", "U", "U", "U", "U", "Y", "Th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y"};
static const char *const deburr_ea[128] = {
    "A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d", "D", "d",
    "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g", "G", "g", "G", "g",
    "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i", "I", "i", "IJ", "ij", "J", "j",
    "K", "k", "k", "L", "l", "L", "l", "L", "l", "L", "l", "L", "l", "N", "n", "N", "n", "N", "n",
    "'n", "N", "n", "O", "o", "O", "o", "O", "o", "Oe", "oe", "R", "r", "R", "r", "R", "r",
    "S", "s", "S", "s", "S", "s", "S", "s", "T", "t", "T", "t", "T", "t", "U", "u", "U", "u",
    "U", "u", "U", "u", "U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s"};

size_t gf_vt_deburr_lower(const char *s, size_t n, char *out, size_t outsz, int lower)
{
    size_t k = 0, adv;
    for (size_t i = 0; i < n && k + 4 < outsz; i += adv) {
        unsigned c = utf8_dec((const unsigned char *)s + i, n - i, &adv);
        const char *rep = NULL;
        if (c >= 0xC0 && c <= 0xFF) rep = deburr_l1[c - 0xC0];
        else if (c >= 0x100 && c <= 0x17F) rep = deburr_ea[c - 0x100];
        else if (c >= 0x300 && c <= 0x36F) continue;
        if (rep) {
            for (; *rep && k + 1 < outsz; rep++) out[k++] = lower && *rep >= 'A' && *rep <= 'Z' ? (char)(*rep + 32) : *rep;
        } else {
            for (size_t j = 0; j < adv; j++) {
                char ch = s[i + j];
                out[k++] = lower && ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
            }
        }
    }
    out[k] = 0;
    return k;
}

/* ---- @ban-team/adresses-util normalize() ------------------------------------ */

static const char *const stop_words[] = {"la", "le", "les", "l", "d", "du", "de", "des", "dos",
                                         "las", "los", "sur", "sous", "a", "par", "et", "au", "aux"};
static const char *const expand_first[][2] = {
    {"pl", "place"}, {"av", "avenue"}, {"bd", "boulevard"}, {"sq", "square"}, {"che", "chemin"},
    {"chem", "chemin"}, {"rte", "route"}, {"all", "allee"}, {"pas", "passage"}, {"vla", "villa"},
    {"imp", "impasse"}, {"qu", "quai"}, {"ham", "hammeau"}, {"prt", "porte"}, {"parv", "parvis"},
    {"lot", "lotissement"}, {"sen", "sente"}, {"r", "rue"}, {"rle", "ruelle"}, {"car", "carrefour"},
    {"mte", "montee"}, {"ptte", "placette"}, {"str", "sentier"}, {"tsse", "terrasse"}, {"snt", "sente"}};
static const char *const expand_word[][2] = {{"st", "saint"}, {"ste", "sainte"}, {"gal", "general"}, {"mal", "marechal"}};

/* Hash of normalize(s): deburr, lower case, words, abbreviations expanded,
 * leading "rue"/"lieu dit" dropped as the reference does, stop words
 * removed. Numbers stay digits (the reference spells them in French: the
 * same equalities). Used only for equality, so a hash is enough. */
uint64_t gf_vt_norm_hash(const char *s, size_t n)
{
    char buf[1024];
    size_t bl = gf_vt_deburr_lower(s, n < 500 ? n : 500, buf, sizeof buf, 1);
    const char *w[64];
    size_t wl[64];
    int nw = 0;
    for (size_t i = 0; i < bl && nw < 64;) {
        unsigned char c = (unsigned char)buf[i];
        int word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80 || (c >= 'A' && c <= 'Z');
        if (!word) { i++; continue; }
        size_t j = i;
        while (j < bl) {
            unsigned char d = (unsigned char)buf[j];
            if (!((d >= 'a' && d <= 'z') || (d >= '0' && d <= '9') || d >= 0x80 || (d >= 'A' && d <= 'Z'))) break;
            j++;
        }
        w[nw] = buf + i;
        wl[nw] = j - i;
        nw++;
        i = j;
    }
    const char *mapped[64];
    size_t ml[64];
    for (int i = 0; i < nw; i++) {
        mapped[i] = w[i];
        ml[i] = wl[i];
        const char *const(*tab)[2] = i == 0 ? expand_first : expand_word;
        size_t nt = i == 0 ? sizeof expand_first / sizeof expand_first[0] : sizeof expand_word / sizeof expand_word[0];
        for (size_t t = 0; t < nt; t++)
            if (strlen(tab[t][0]) == wl[i] && memcmp(tab[t][0], w[i], wl[i]) == 0) {
                mapped[i] = tab[t][1];
                ml[i] = strlen(tab[t][1]);
                break;
            }
    }
    int from = 0;
    /* removeRue: "rue X ...rue" -> drop the first word */
    if (nw > 1 && ml[0] == 3 && memcmp(mapped[0], "rue", 3) == 0)
        for (int i = 1; i < nw; i++)
            if (ml[i] >= 3 && memcmp(mapped[i] + ml[i] - 3, "rue", 3) == 0) { from = 1; break; }
    if (nw - from > 2 && ml[from] == 4 && memcmp(mapped[from], "lieu", 4) == 0 && ml[from + 1] == 3 &&
        memcmp(mapped[from + 1], "dit", 3) == 0)
        from += 2;
    uint64_t h = GF_VHASH0;
    for (int i = from; i < nw; i++) {
        int stop = 0;
        for (size_t t = 0; t < sizeof stop_words / sizeof stop_words[0] && !stop; t++)
            stop = strlen(stop_words[t]) == ml[i] && memcmp(stop_words[t], mapped[i], ml[i]) == 0;
        if (stop) continue;
        h = gf_vhash(mapped[i], ml[i], h);
        h = gf_vhash(" ", 1, h);
    }
    return h;
}

/* ---- value parsers ------------------------------------------------------- */

int gf_vt_all_digits(const char *s, size_t n)
{
    if (!n) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* Decimal value of n digits (no terminator needed: text lives in arenas). */
long gf_vt_digits_val(const char *s, size_t n)
{
    long v = 0;
    for (size_t i = 0; i < n && v < 100000000L; i++) v = v * 10 + (s[i] - '0');
    return v;
}

static int hexc(char c)
{
    unsigned char u = (unsigned char)c;
    return (unsigned)(u - '0') < 10 || (unsigned)((u | 32) - 'a') < 6;
}

/* uuid validate() && version() === 4 */
int gf_vuuid_v4(const char *s, size_t n)
{
    if (n != 36) return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) { if (s[i] != '-') return 0; }
        else if (!hexc(s[i])) return 0;
    }
    if (s[14] != '4') return 0;
    char v = s[19];
    return v == '8' || v == '9' || v == 'a' || v == 'b' || v == 'A' || v == 'B';
}

/* /^-?(0|[1-9]\d*)(\.\d+)?\d?$/ with sep as the decimal mark */
int gf_vt_js_float(const char *s, size_t n, char sep)
{
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return 0;
    if (s[i] == '0') {
        i++;
        /* "0" then optional fraction then one optional digit: "05" is valid */
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    } else {
        return 0;
    }
    if (i < n && s[i] == sep) {
        i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return 0;
        return i == n;
    }
    if (i < n && s[i] >= '0' && s[i] <= '9') i++; /* the trailing \d? after "0" */
    return i == n;
}

double gf_vt_parse_num(const char *s, size_t n)
{
    /* Fast path: sign, up to 18 significant digits, one decimal mark. The
     * value only feeds a 10 m tolerance, so one rounding is harmless. */
    if (n < 19) {
        static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
                                     1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
        size_t i = 0;
        int neg = 0, frac = -1;
        uint64_t m = 0;
        if (s[0] == '-') { neg = 1; i = 1; }
        for (; i < n; i++) {
            if (s[i] == '.' || s[i] == ',') { frac = 0; continue; }
            m = m * 10 + (uint64_t)(s[i] - '0');
            if (frac >= 0) frac++;
        }
        double d = (double)m / p10[frac > 0 ? frac : 0];
        return neg ? -d : d;
    }
    char b[64];
    if (n >= sizeof b) n = sizeof b - 1;
    memcpy(b, s, n);
    b[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (b[i] == ',') { b[i] = '.'; break; }
    return strtod(b, NULL);
}

/* isAlphaNumericWithAccents */
int gf_vt_alnum_accents(const char *s, size_t n)
{
    static const char accents[] = "àáâãäåæçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸ";
    size_t adv;
    if (!n) return 0;
    for (size_t i = 0; i < n; i += adv) {
        unsigned c = utf8_dec((const unsigned char *)s + i, n - i, &adv);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || gf_vt_js_space(c)) continue;
        int ok = 0;
        for (size_t k = 0; k < sizeof accents - 1 && !ok;) {
            size_t a2;
            unsigned ac = utf8_dec((const unsigned char *)accents + k, sizeof accents - 1 - k, &a2);
            ok = ac == c;
            k += a2;
        }
        if (!ok) return 0;
    }
    return 1;
}

/* date_der_maj: days since 1970-01-01 of "YYYY-MM-DD", -1 if invalid */
long gf_vt_days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

long gf_vt_iso_days(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-') return -2; /* regex fails */
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return -2;
    long y = atol(s);
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0')), d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap) return -1;
    return gf_vt_days_from_civil(y, m, d);
}

void gf_validate_trim(const char **p, size_t *n) { gf_vt_js_trim(p, n); }
