/* The reference validator's rules (@ban-team/validateur-bal 3.5.2,
 * lib/schema/fields.ts, row.ts, profiles/NAME.ts) in C. Each function names the
 * reference function it mirrors; where JavaScript string semantics matter
 * (trim(), length in UTF-16 units, toUpperCase() === v) the helpers below
 * reproduce them for the characters found in French addresses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proj.h>

#include "validate/rules.h"
#include "validate/cog_data.h"

const char *const gf_vf_names[VF_COUNT] = {
    "cle_interop", "uid_adresse", "id_ban_commune", "id_ban_toponyme", "id_ban_adresse",
    "voie_nom", "toponyme", "lieudit_complement_nom", "numero", "suffixe", "commune_insee",
    "commune_nom", "commune_deleguee_insee", "commune_deleguee_nom", "position", "x", "y",
    "long", "lat", "cad_parcelles", "source", "date_der_maj", "certification_commune"};

/* formats per field, as bit masks of 1.1 .. 1.5 */
#define F11 1
#define F12 2
#define F13 4
#define F14 8
#define F15 16
static const unsigned char vf_formats[VF_COUNT] = {
    [VF_CLE_INTEROP] = F11 | F12 | F13 | F14, [VF_UID_ADRESSE] = F11 | F12 | F13,
    [VF_ID_BAN_COMMUNE] = F14 | F15, [VF_ID_BAN_TOPONYME] = F14 | F15, [VF_ID_BAN_ADRESSE] = F14 | F15,
    [VF_VOIE_NOM] = F11 | F12 | F13 | F14, [VF_TOPONYME] = F15,
    [VF_LIEUDIT_COMPLEMENT_NOM] = F12 | F13 | F14 | F15, [VF_NUMERO] = 31, [VF_SUFFIXE] = 31,
    [VF_COMMUNE_INSEE] = F12 | F13 | F14 | F15, [VF_COMMUNE_NOM] = 31,
    [VF_COMMUNE_DELEGUEE_INSEE] = F12 | F13 | F14 | F15, [VF_COMMUNE_DELEGUEE_NOM] = F12 | F13 | F14 | F15,
    [VF_POSITION] = 31, [VF_X] = 31, [VF_Y] = 31, [VF_LONG] = 31, [VF_LAT] = 31,
    [VF_CAD_PARCELLES] = F12 | F13 | F14 | F15, [VF_SOURCE] = 31, [VF_DATE_DER_MAJ] = 31,
    [VF_CERTIFICATION_COMMUNE] = F13 | F14 | F15};

static int fmt_bit(const char *fmt)
{
    if (!fmt || strlen(fmt) < 3 || fmt[0] != '1' || fmt[1] != '.' || fmt[2] < '1' || fmt[2] > '5') return 0;
    return 1 << (fmt[2] - '1');
}

int gf_vf_in_format(int f, const char *fmt) { return f < 0 || (vf_formats[f] & fmt_bit(fmt)) != 0; }

int gf_vf_allows_lang(int f)
{
    return f == VF_VOIE_NOM || f == VF_TOPONYME || f == VF_LIEUDIT_COMPLEMENT_NOM || f == VF_COMMUNE_NOM ||
           f == VF_COMMUNE_DELEGUEE_NOM;
}

int gf_vf_find(const char *name, size_t n)
{
    for (int f = 0; f < VF_COUNT; f++)
        if (strlen(gf_vf_names[f]) == n && memcmp(gf_vf_names[f], name, n) == 0) return f;
    return -1;
}

const char *const gf_vlangs[] = {"fra", "bre", "eus", "gsw", "cos", "gcr", "gcf", "rcf", "swb",
                                 "oci", "cat", "pcd", "oc-provenc", "oc-nicard", "vls", "fr-gallo",
                                 "aji", "dhv", "nen", "pri", "ty", "mrq", "pmt", "mrv", "frp"};
const int gf_nvlangs = (int)(sizeof gf_vlangs / sizeof gf_vlangs[0]);

/* ---- header: computeFields() -------------------------------------------- */

void gf_vheader_analyse(const char *const *names, const size_t *lens, int n, gf_vheader *h)
{
    memset(h, 0, sizeof *h);
    h->ncols = n;
    unsigned char used[GF_CSV_MAX_FIELDS] = {0};
    for (int f = 0; f < VF_COUNT; f++) {
        h->field_col[f] = -1;
        for (int i = 0; i < n && i < GF_CSV_MAX_FIELDS; i++)
            if (!used[i] && gf_vf_find(names[i], lens[i]) == f) { h->field_col[f] = i; used[i] = 1; break; }
        if (h->field_col[f] < 0 || !gf_vf_allows_lang(f)) continue;
        for (int l = 0; l < gf_nvlangs; l++) {
            char want[48];
            int wl = snprintf(want, sizeof want, "%s_%s", gf_vf_names[f], gf_vlangs[l]);
            for (int i = 0; i < n && i < GF_CSV_MAX_FIELDS; i++)
                if (!used[i] && lens[i] == (size_t)wl && memcmp(names[i], want, (size_t)wl) == 0) {
                    if (h->nlang < 16) {
                        h->lang[h->nlang].col = i;
                        h->lang[h->nlang].field = f;
                        snprintf(h->lang[h->nlang].name, sizeof h->lang[0].name, "%s", want);
                        h->nlang++;
                    }
                    used[i] = 1;
                    break;
                }
        }
    }
    for (int i = 0; i < n && i < GF_CSV_MAX_FIELDS; i++) {
        if (used[i]) continue;
        size_t l = strlen(h->unknown);
        if (l + lens[i] + 4 < sizeof h->unknown)
            snprintf(h->unknown + l, sizeof h->unknown - l, "%s%.*s", l ? ", " : "", (int)lens[i], names[i]);
    }
}

const char *gf_vheader_profile(const gf_vheader *h)
{
    if (h->field_col[VF_ID_BAN_COMMUNE] >= 0 && h->field_col[VF_ID_BAN_TOPONYME] >= 0 &&
        h->field_col[VF_ID_BAN_ADRESSE] >= 0)
        return h->field_col[VF_TOPONYME] >= 0 ? "1.5" : "1.4";
    return "1.3";
}

/* ---- COG ------------------------------------------------------------------ */

static uint64_t cog_key(const char *c)
{
    const unsigned char *u = (const unsigned char *)c;
    return ((uint64_t)u[0] << 32) | ((uint64_t)u[1] << 24) | ((uint64_t)u[2] << 16) | ((uint64_t)u[3] << 8) | u[4];
}

/* index of the first key >= k */
static size_t lower(const uint64_t *keys, size_t n, uint64_t k)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (keys[mid] < k) lo = mid + 1; else hi = mid;
    }
    return lo;
}

int gf_cog_current(const char *code5)
{
    uint64_t k = cog_key(code5);
    size_t i = lower(gf_cog_keys, GF_COG_N, k);
    return i < GF_COG_N && gf_cog_keys[i] == k ? (int)i : -1;
}

static int old_lookup(const char *code5)
{
    uint64_t k = cog_key(code5);
    size_t i = lower(gf_cog_old_keys, GF_COG_NOLD, k);
    return i < GF_COG_NOLD && gf_cog_old_keys[i] == k ? (int)i : -1;
}

int gf_cog_former(const char *code5) { return old_lookup(code5) >= 0; }
const char *gf_cog_name(int idx) { return gf_cog_names[idx]; }

int gf_cog_has_former(int idx, const char *code5)
{
    int k = old_lookup(code5);
    if (k < 0) return 0;
    /* a former code may belong to several communes: scan its run */
    while (k > 0 && strcmp(gf_cog_old[k - 1].code, code5) == 0) k--;
    for (; k < GF_COG_NOLD && strcmp(gf_cog_old[k].code, code5) == 0; k++)
        if (gf_cog_old[k].cur == idx) return 1;
    return 0;
}

/* Looks up a code given as text: it must be exactly 5 bytes to exist. */
static void upper_code(const char *p, size_t n, char out[6], int *ok)
{
    *ok = n == 5;
    if (!*ok) { out[0] = 0; return; }
    for (int i = 0; i < 5; i++) out[i] = (char)((p[i] >= 'a' && p[i] <= 'z') ? p[i] - 32 : p[i]);
    out[5] = 0;
}

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

static int js_space(unsigned c)
{
    return c == ' ' || (c >= 9 && c <= 13) || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

/* String.prototype.trim() */
static void js_trim(const char **pp, size_t *pn)
{
    const unsigned char *p = (const unsigned char *)*pp;
    size_t n = *pn, adv;
    /* common case: printable ASCII at both ends */
    if (n && p[0] > ' ' && p[0] < 0x80 && p[n - 1] > ' ' && p[n - 1] < 0x80) return;
    while (n) {
        unsigned c = utf8_dec(p, n, &adv);
        if (!js_space(c)) break;
        p += adv; n -= adv;
    }
    while (n) {
        size_t k = n - 1;
        while (k > 0 && (p[k] & 0xC0) == 0x80) k--;
        unsigned c = utf8_dec(p + k, n - k, &adv);
        if (!js_space(c)) break;
        n = k;
    }
    *pp = (const char *)p;
    *pn = n;
}

/* .length (UTF-16 code units) */
/* U+FFFD (EF BF BD) in s: what the reference's decoder left of invalid
 * bytes. memchr on the lead byte: glibc's memmem set-up cost more than the
 * search on these short values (2 % of a BAN run). */
static int has_replacement_char(const char *s, size_t n)
{
    for (const char *p = s, *e = s + n; (p = memchr(p, 0xEF, (size_t)(e - p))) && e - p >= 3; p++)
        if ((unsigned char)p[1] == 0xBF && (unsigned char)p[2] == 0xBD) return 1;
    return 0;
}

static size_t js_len(const char *s, size_t n)
{
    size_t k = 0, adv;
    size_t a = 0;
    while (a < n && (unsigned char)s[a] < 0x80) a++;
    if (a == n) return n;
    for (size_t i = 0; i < n; i += adv) {
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
static int has_lower(const char *s, size_t n)
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
static int has_upper(const char *s, size_t n)
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

static size_t deburr_lower(const char *s, size_t n, char *out, size_t outsz, int lower)
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
static uint64_t norm_hash(const char *s, size_t n)
{
    char buf[1024];
    size_t bl = deburr_lower(s, n < 500 ? n : 500, buf, sizeof buf, 1);
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

static int all_digits(const char *s, size_t n)
{
    if (!n) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* Decimal value of n digits (no terminator needed: text lives in arenas). */
static long digits_val(const char *s, size_t n)
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
static int is_uuid_v4(const char *s, size_t n)
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
static int js_float(const char *s, size_t n, char sep)
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

static double parse_num(const char *s, size_t n)
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
static int alnum_accents(const char *s, size_t n)
{
    static const char accents[] = "àáâãäåæçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸ";
    size_t adv;
    if (!n) return 0;
    for (size_t i = 0; i < n; i += adv) {
        unsigned c = utf8_dec((const unsigned char *)s + i, n - i, &adv);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || js_space(c)) continue;
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
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static long iso_days(const char *s, size_t n)
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
    return days_from_civil(y, m, d);
}

/* ---- issues ---------------------------------------------------------------- */

static void add(gf_vissues *iss, int field, const char *prefix, const char *code)
{
    if (iss->n >= GF_VMAX_ISSUES) return;
    if (prefix) snprintf(iss->code[iss->n], sizeof iss->code[0], "%s.%s", prefix, code);
    else snprintf(iss->code[iss->n], sizeof iss->code[0], "row.%s", code);
    iss->field[iss->n] = (signed char)field;
    iss->n++;
}

/* ---- projection (long/lat -> legal system), @etalab/project-legal ---------- */

static const struct { double b[4]; const char *def; } legal[] = {
    {{-9.86, 41.15, 10.38, 51.56}, "+proj=lcc +lat_1=49 +lat_2=44 +lat_0=46.5 +lon_0=3 +x_0=700000 +y_0=6600000 +ellps=GRS80"},
    {{-63.66, 14.08, -57.52, 18.54}, "+proj=utm +zone=20 +ellps=GRS80"},
    {{-54.6, 2.11, -49.46, 8.88}, "+proj=utm +zone=22 +ellps=GRS80"},
    {{51.83, -24.72, 58.24, -18.28}, "+proj=utm +zone=40 +south +ellps=GRS80"},
    {{43.68, -14.49, 46.7, -11.33}, "+proj=utm +zone=38 +south +ellps=GRS80"},
    {{-57.1, 43.41, -55.9, 47.37}, "+proj=utm +zone=21 +ellps=GRS80"},
    {{163.55, -22.75, 168.2, -19.54}, "+proj=lcc +lat_1=-20.66666666666667 +lat_2=-22.33333333333333 +lat_0=-21.5 +lon_0=166 +x_0=400000 +y_0=300000 +ellps=GRS80"},
    {{-155.0, -24.0, -150.0, -9.0}, "+proj=utm +zone=5 +south +ellps=GRS80"},
    {{-150.0, -29.0, -144.0, -13.0}, "+proj=utm +zone=6 +south +ellps=GRS80"},
    {{-144.0, -29.0, -138.0, -7.0}, "+proj=utm +zone=7 +south +ellps=GRS80"},
    {{-138.0, -25.0, -132.0, -18.0}, "+proj=utm +zone=8 +south +ellps=GRS80"},
    {{-177.0, -14.0, -176.0, -13.0}, "+proj=utm +zone=1 +south +ellps=intl"},
};
#define NLEGAL (sizeof legal / sizeof legal[0])

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
    PJ *pj[NLEGAL];
    vlin lin;
    int lin_ok;
    /* normalize() of the previous street name: consecutive rows share it */
    char last[256];
    size_t lastn;
    uint64_t lasth;
};

gf_status gf_vproj_create(gf_ctx *ctx, gf_vproj **out)
{
    gf_vproj *p = calloc(1, sizeof *p);
    if (!p) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    p->pc = gf_ctx_proj(ctx);
    *out = p;
    return GF_OK;
}

void gf_vproj_destroy(gf_vproj *p)
{
    if (!p) return;
    for (size_t i = 0; i < NLEGAL; i++)
        if (p->pj[i]) proj_destroy(p->pj[i]);
    free(p);
}

/* The territory whose box holds lon/lat (the first one, as project-legal
 * looks them up), or -1. */
static int legal_box(double lon, double lat)
{
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) return -1;
    for (size_t i = 0; i < NLEGAL; i++) {
        const double *b = legal[i].b;
        if (lon <= b[2] && lon >= b[0] && lat <= b[3] && lat >= b[1]) return (int)i;
    }
    return -1;
}

/* Projection of lon/lat in territory i, unrounded; 0 when PROJ fails. */
static int legal_fwd(gf_vproj *p, int i, double lon, double lat, double xy[2])
{
    if (!p || !p->pc) return 0;
    if (!p->pj[i]) p->pj[i] = proj_create(p->pc, legal[i].def);
    if (!p->pj[i]) return 0;
    PJ_COORD c = proj_coord(proj_torad(lon), proj_torad(lat), 0, 0);
    c = proj_trans(p->pj[i], PJ_FWD, c);
    if (!isfinite(c.xy.x) || !isfinite(c.xy.y)) return 0;
    xy[0] = c.xy.x;
    xy[1] = c.xy.y;
    return 1;
}

/* project-legal's proj(): 1 and xy when lon/lat fall in a territory's box. */
static int legal_proj(gf_vproj *p, double lon, double lat, double xy[2])
{
    int i = legal_box(lon, lat);
    if (i < 0 || !legal_fwd(p, i, lon, lat, xy)) return 0;
    xy[0] = round(xy[0] * 100) / 100;
    xy[1] = round(xy[1] * 100) / 100;
    return 1;
}

/* 1 when legal_proj() of lon/lat succeeds and lands within 5 m of (x, y)
 * for sure, by the local model (see vlin); 0: ask legal_proj(). */
static int legal_near(gf_vproj *p, double lon, double lat, double x, double y)
{
    int i = legal_box(lon, lat);
    if (i < 0 || !p) return 0;
    vlin *L = &p->lin;
    if (!p->lin_ok || L->box != i || fabs(lon - L->lon0) > LIN_DEG || fabs(lat - L->lat0) > LIN_DEG) {
        double a[2], b[2], c[2];
        p->lin_ok = legal_fwd(p, i, lon, lat, a) && legal_fwd(p, i, lon + 1e-5, lat, b) && legal_fwd(p, i, lon, lat + 1e-5, c);
        if (!p->lin_ok) return 0;
        *L = (vlin){i, lon, lat, a[0], a[1], (b[0] - a[0]) / 1e-5, (c[0] - a[0]) / 1e-5, (b[1] - a[1]) / 1e-5, (c[1] - a[1]) / 1e-5};
    }
    double dl = lon - L->lon0, dp = lat - L->lat0;
    double ex = L->x0 + L->x_lon * dl + L->x_lat * dp - x, ey = L->y0 + L->y_lon * dl + L->y_lat * dp - y;
    return ex * ex + ey * ey <= 25.0;
}

/* ---- the position enumeration ---------------------------------------------- */

static const char *const positions[] = {"entrée", "bâtiment", "cage d’escalier", "logement",
                                        "service technique", "délivrance postale", "parcelle", "segment"};
static const char *const positions_norm[] = {"entree", "batiment", "cage d escalier", "logement",
                                             "service technique", "delivrance postale", "parcelle", "segment"};

/* getNormalizedEnumValue(): deburr, \W+ -> ' ', trim, lower case */
static int position_match(const char *v, size_t n)
{
    char d[512], o[512];
    size_t dl = deburr_lower(v, n < 200 ? n : 200, d, sizeof d, 0), k = 0;
    int sp = 0;
    for (size_t i = 0; i < dl; i++) {
        unsigned char c = (unsigned char)d[i];
        int w = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!w) { sp = 1; continue; }
        if (sp && k) o[k++] = ' ';
        sp = 0;
        o[k++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    o[k] = 0;
    for (int i = 0; i < 8; i++)
        if (strcmp(o, positions_norm[i]) == 0) return i;
    return -1;
}

/* ---- the row --------------------------------------------------------------- */

typedef struct vparse {
    /* cle_interop additional values */
    int cle_ok; char cle_commune[8]; int cle_commune_ok; int cle_voie_ok; char cle_voie[8];
    const char *cle_num; size_t cle_num_n;
    int uid_ok; const char *uid[3]; size_t uidn[3];
    const char *idc, *idt, *ida; size_t nidc, nidt, nida;
    const char *voie; size_t voie_n; char voie_buf[256]; /* parsed voie_nom (toponyme) */
    int has_numero; long numero;
    const char *suffixe; size_t suffixe_n;
    int insee_ok; char insee[8];
    const char *commune_nom; size_t commune_nom_n;
    int del_ok; char del[8];
    const char *lieudit; size_t lieudit_n;
    int has_long, has_lat, has_x, has_y; double lon, lat, x, y;
} vparse;

/* readValue() for one field; code prefix is the column's normalised name. */
static void read_field(int f, const char *prefix, int localized, int kf, const char *raw, size_t rn,
                       vparse *ps, long today, gf_vissues *iss)
{
    const char *v = raw;
    size_t n = rn;
    js_trim(&v, &n);
    if (n != rn) add(iss, kf, prefix, "espaces_debut_fin");
    int required = f == VF_CLE_INTEROP || f == VF_NUMERO || f == VF_COMMUNE_INSEE || f == VF_COMMUNE_NOM ||
                   f == VF_SOURCE || f == VF_DATE_DER_MAJ;
    if (required && n == 0 && !localized) { add(iss, kf, prefix, "valeur_manquante"); return; }
    if (n == 0) return;
    switch (f) {
    case VF_CLE_INTEROP: {
        if (has_upper(v, n)) add(iss, kf, prefix, "casse_invalide");
        /* split('_') */
        const char *part[64];
        size_t pl[64];
        int np = 0;
        size_t st = 0;
        for (size_t i = 0; i <= n; i++)
            if (i == n || v[i] == '_') {
                if (np < 64) { part[np] = v + st; pl[np] = i - st; }
                np++;
                st = i + 1;
            }
        int empty = 0;
        for (int i = 0; i < np && i < 64; i++) empty |= pl[i] == 0;
        if (np < 3 || empty) { add(iss, kf, prefix, "structure_invalide"); return; }
        char code[8];
        int ok5;
        upper_code(part[0], pl[0], code, &ok5);
        int act = ok5 && gf_cog_current(code) >= 0, anc = ok5 && gf_cog_former(code);
        if (!act && !anc) add(iss, kf, prefix, "commune_invalide");
        else if (anc) add(iss, kf, prefix, "commune_ancienne");
        int voie_err = 0;
        if (js_len(part[1], pl[1]) != 4) { add(iss, kf, prefix, "voie_invalide"); voie_err = 1; }
        else if ((pl[1] == 4 && strncasecmp(part[1], "xxxx", 4) == 0) || (pl[1] == 4 && memcmp(part[1], "0000", 4) == 0)) {
            add(iss, kf, prefix, "voie_non_renseignee");
            voie_err = 1;
        }
        if (!all_digits(part[2], pl[2])) { add(iss, kf, prefix, "numero_invalide"); return; }
        if (pl[2] != 5) add(iss, kf, prefix, "numero_prefixe_manquant");
        ps->cle_ok = 1;
        ps->cle_commune_ok = ok5;
        memcpy(ps->cle_commune, ok5 ? code : "", ok5 ? 6 : 1);
        if (!ok5) { /* codes of other lengths still key getCodeCommune() */
            size_t l = pl[0] < 7 ? pl[0] : 7;
            for (size_t i = 0; i < l; i++) ps->cle_commune[i] = (char)((part[0][i] >= 'a' && part[0][i] <= 'z') ? part[0][i] - 32 : part[0][i]);
            ps->cle_commune[l] = 0;
        }
        ps->cle_voie_ok = !voie_err;
        if (!voie_err) {
            size_t l = pl[1] < 7 ? pl[1] : 7;
            for (size_t i = 0; i < l; i++) ps->cle_voie[i] = (char)((part[1][i] >= 'a' && part[1][i] <= 'z') ? part[1][i] - 32 : part[1][i]);
            ps->cle_voie[l] = 0;
        }
        ps->cle_num = part[2];
        ps->cle_num_n = pl[2];
        while (ps->cle_num_n && *ps->cle_num == '0') { ps->cle_num++; ps->cle_num_n--; }
        return;
    }
    case VF_UID_ADRESSE: {
        /* v.match(/@x:(\S+)/gi)[0].substr(3) */
        static const char tags[3] = {'c', 'v', 'a'};
        const char *id[3] = {0};
        size_t idn[3] = {0};
        for (int t = 0; t < 3; t++)
            for (size_t i = 0; i + 3 < n + 1 && i + 2 < n; i++) {
                if (v[i] == '@' && (v[i + 1] | 32) == tags[t] && v[i + 2] == ':') {
                    size_t j = i + 3;
                    while (j < n && !js_space((unsigned char)v[j])) j++;
                    if (j == i + 3) continue; /* \S+ needs one character */
                    id[t] = v + i + 3;
                    idn[t] = j - i - 3;
                    break;
                }
            }
        for (int t = 0; t < 3; t++)
            if (id[t] && !is_uuid_v4(id[t], idn[t])) { add(iss, kf, prefix, "type_invalide"); return; }
        ps->uid_ok = 1;
        for (int t = 0; t < 3; t++) { ps->uid[t] = id[t]; ps->uidn[t] = idn[t]; }
        return;
    }
    case VF_ID_BAN_COMMUNE:
    case VF_ID_BAN_TOPONYME:
    case VF_ID_BAN_ADRESSE:
        if (!is_uuid_v4(v, n)) { add(iss, kf, prefix, "type_invalide"); return; }
        if (f == VF_ID_BAN_COMMUNE) { ps->idc = v; ps->nidc = n; }
        else if (f == VF_ID_BAN_TOPONYME) { ps->idt = v; ps->nidt = n; }
        else { ps->ida = v; ps->nida = n; }
        return;
    case VF_VOIE_NOM:
    case VF_TOPONYME: {
        size_t L = js_len(v, n);
        if (L < 3) { add(iss, kf, prefix, "trop_court"); return; }
        if (L > 200) { add(iss, kf, prefix, "trop_long"); return; }
        if (has_replacement_char(v, n)) { add(iss, kf, prefix, "caractere_invalide"); return; }
        const char *pv = v;
        size_t pn = n;
        if (memchr(v, '_', n)) {
            add(iss, kf, prefix, "contient_tiret_bas");
            if (!localized && n < sizeof ps->voie_buf) {
                for (size_t i = 0; i < n; i++) ps->voie_buf[i] = v[i] == '_' ? ' ' : v[i];
                pv = ps->voie_buf;
            }
        }
        if (!has_lower(v, n)) add(iss, kf, prefix, "casse_incorrecte");
        /* getVoieNom() = voie_nom || toponyme: voie_nom wins */
        if (!localized && (f == VF_VOIE_NOM || !ps->voie)) { ps->voie = pv; ps->voie_n = pn; }
        return;
    }
    case VF_LIEUDIT_COMPLEMENT_NOM:
        if (!localized) { ps->lieudit = v; ps->lieudit_n = n; }
        return;
    case VF_NUMERO: {
        if (!all_digits(v, n)) { add(iss, kf, prefix, "type_invalide"); return; }
        size_t i = 0;
        while (i + 1 < n && v[i] == '0') i++;
        if (n - i > 5) { add(iss, kf, prefix, "trop_grand"); return; }
        long num = digits_val(v + i, n - i);
        if (num > 99999) { add(iss, kf, prefix, "trop_grand"); return; }
        if (num == 0) add(iss, kf, prefix, "not_to_be_zero");
        if (v[0] == '0' && num != 0) add(iss, kf, prefix, "contient_prefixe");
        ps->has_numero = 1;
        ps->numero = num;
        return;
    }
    case VF_SUFFIXE: {
        unsigned char c = (unsigned char)v[0];
        if (!((c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'))) { add(iss, kf, prefix, "debut_invalide"); return; }
        if (js_len(v, n) > 9) { add(iss, kf, prefix, "trop_long"); return; }
        if (!alnum_accents(v, n)) add(iss, kf, prefix, "caractere_invalide");
        ps->suffixe = v;
        ps->suffixe_n = n;
        return;
    }
    case VF_COMMUNE_INSEE: {
        char code[8];
        int ok5;
        upper_code(v, n, code, &ok5);
        int act = ok5 && gf_cog_current(code) >= 0, anc = ok5 && gf_cog_former(code);
        if (!act && !anc) { add(iss, kf, prefix, "commune_invalide"); return; }
        if (anc) add(iss, kf, prefix, "commune_ancienne");
        ps->insee_ok = 1;
        memcpy(ps->insee, code, 6);
        return;
    }
    case VF_COMMUNE_NOM:
        if (!has_upper(v, n)) add(iss, kf, prefix, "casse_incorrecte");
        if (!has_lower(v, n)) add(iss, kf, prefix, "casse_incorrecte");
        if (!localized) { ps->commune_nom = v; ps->commune_nom_n = n; }
        return;
    case VF_COMMUNE_DELEGUEE_INSEE: {
        char code[8];
        int ok5;
        upper_code(v, n, code, &ok5);
        if (!(ok5 && (gf_cog_current(code) >= 0 || gf_cog_former(code)))) add(iss, kf, prefix, "commune_invalide");
        ps->del_ok = 1;
        if (ok5) memcpy(ps->del, code, 6);
        else {
            size_t l = n < 7 ? n : 7;
            for (size_t i = 0; i < l; i++) ps->del[i] = (char)((v[i] >= 'a' && v[i] <= 'z') ? v[i] - 32 : v[i]);
            ps->del[l] = 0;
        }
        return;
    }
    case VF_POSITION: {
        int k = position_match(v, n);
        if (k < 0) { add(iss, kf, prefix, "valeur_invalide"); return; }
        if (strlen(positions[k]) != n || memcmp(positions[k], v, n) != 0) add(iss, kf, prefix, "enum_fuzzy");
        return;
    }
    case VF_X:
    case VF_Y:
    case VF_LONG:
    case VF_LAT: {
        double d;
        if (js_float(v, n, '.')) d = parse_num(v, n);
        else if (js_float(v, n, ',')) { add(iss, kf, prefix, "separateur_decimal_invalide"); d = parse_num(v, n); }
        else { add(iss, kf, prefix, "valeur_invalide"); return; }
        if (f == VF_X) { ps->has_x = 1; ps->x = d; }
        else if (f == VF_Y) { ps->has_y = 1; ps->y = d; }
        else if (f == VF_LONG) { ps->has_long = 1; ps->lon = d; }
        else { ps->has_lat = 1; ps->lat = d; }
        return;
    }
    case VF_CAD_PARCELLES: {
        const char *p = v;
        size_t m = n;
        while (m && *p == '|') { p++; m--; }
        while (m && p[m - 1] == '|') m--;
        if (m != n) add(iss, kf, prefix, "pipe_debut_fin");
        if (!m) { add(iss, kf, prefix, "valeur_invalide"); return; }
        size_t st = 0;
        for (size_t i = 0; i <= m; i++)
            if (i == m || p[i] == '|') {
                size_t L = js_len(p + st, i - st);
                if (L != 14 && L != 15) { add(iss, kf, prefix, "valeur_invalide"); return; }
                st = i + 1;
            }
        return;
    }
    case VF_DATE_DER_MAJ: {
        long d = iso_days(v, n);
        if (d < 0) { add(iss, kf, prefix, "date_invalide"); return; }
        if (d < days_from_civil(2010, 1, 1)) add(iss, kf, prefix, "date_ancienne");
        if (d > today) add(iss, kf, prefix, "date_future");
        return;
    }
    case VF_CERTIFICATION_COMMUNE:
        if (!(n == 1 && (v[0] == '0' || v[0] == '1'))) add(iss, kf, prefix, "valeur_invalide");
        return;
    default:
        return;
    }
}

void gf_vrow_check(const gf_vrow *r, gf_vproj *pj, long today, gf_vissues *iss, gf_vparsed *out)
{
    vparse ps;
    memset(&ps, 0, sizeof ps);
    iss->n = 0;
    for (int f = 0; f < VF_COUNT; f++)
        if (r->present[f]) read_field(f, gf_vf_names[f], 0, f, r->v[f] ? r->v[f] : "", r->n[f], &ps, today, iss);
    for (int k = 0; k < r->nlang; k++)
        read_field(r->lang[k].field, r->lang[k].name, 1, -1, r->lang[k].v ? r->lang[k].v : "", r->lang[k].n, &ps, today, iss);

    /* getCodeCommune(): commune_insee || cle_interop's commune */
    const char *code = ps.insee_ok ? ps.insee : ps.cle_ok ? ps.cle_commune : NULL;
    int cidx = code && strlen(code) == 5 ? gf_cog_current(code) : -1;

    /* validateNumero */
    if (ps.cle_ok && ps.has_numero && ps.numero != 0) {
        long cn = -1;
        if (ps.cle_num_n && ps.cle_num_n < 12) cn = digits_val(ps.cle_num, ps.cle_num_n);
        if (cn != ps.numero) add(iss, -1, NULL, "incoherence_numero");
    }
    /* validateCommuneInsee */
    if (!ps.cle_ok && !ps.insee_ok) add(iss, -1, NULL, "commune_manquante");
    /* validateCommuneNom */
    if (cidx >= 0 && ps.commune_nom) {
        const char *nm = gf_cog_name(cidx);
        if (strlen(nm) != ps.commune_nom_n || memcmp(nm, ps.commune_nom, ps.commune_nom_n) != 0)
            add(iss, -1, NULL, "commune_nom_invalide");
    }
    /* validateVoieNomDiffComplementNom: normalize(undefined) is "" too */
    uint64_t vh = GF_VHASH0;
    if (ps.voie) {
        if (pj && ps.voie_n == pj->lastn && ps.voie_n < sizeof pj->last && memcmp(pj->last, ps.voie, ps.voie_n) == 0) {
            vh = pj->lasth;
        } else {
            vh = norm_hash(ps.voie, ps.voie_n);
            if (pj && ps.voie_n < sizeof pj->last) {
                memcpy(pj->last, ps.voie, ps.voie_n);
                pj->lastn = ps.voie_n;
                pj->lasth = vh;
            }
        }
    }
    uint64_t lh = ps.lieudit ? norm_hash(ps.lieudit, ps.lieudit_n) : GF_VHASH0;
    if (vh == lh) add(iss, -1, NULL, "voie_nom_have_same_lieudit_complement_nom");
    /* validatePositionType: rawValues.position is the untrimmed text */
    int raw_pos = r->present[VF_POSITION] && r->n[VF_POSITION] > 0;
    if (ps.has_numero && ps.numero != 99999 && !raw_pos) add(iss, -1, NULL, "position_manquante");
    /* validateCoords */
    int raw_long = r->present[VF_LONG] && r->n[VF_LONG] > 0, raw_lat = r->present[VF_LAT] && r->n[VF_LAT] > 0;
    if (ps.has_numero && ps.numero != 99999 && (!raw_long || !raw_lat)) {
        add(iss, -1, NULL, "longlat_vides");
    } else {
        double xy[2];
        if (ps.has_long && ps.has_lat && ps.has_x && ps.has_y && legal_near(pj, ps.lon, ps.lat, ps.x, ps.y)) {
            /* coherent: nothing to report */
        } else if (ps.has_long && ps.has_lat && legal_proj(pj, ps.lon, ps.lat, xy)) {
            if (ps.has_x && ps.has_y) {
                double dist = sqrt((ps.x - xy[0]) * (ps.x - xy[0]) + (ps.y - xy[1]) * (ps.y - xy[1]));
                if (dist > 10) add(iss, -1, NULL, "longlat_xy_incoherents");
            }
        } else if (!(ps.has_numero && ps.numero == 99999)) {
            add(iss, -1, NULL, "longlat_invalides");
        }
    }
    /* validateMinimalAdress */
    if (!ps.has_numero || !ps.voie) add(iss, -1, NULL, "adresse_incomplete");
    /* validateCommuneDelegueeInsee */
    if (ps.del_ok) {
        int skip = 0;
        for (int i = 0; i < iss->n; i++)
            skip |= iss->field[i] == VF_COMMUNE_DELEGUEE_INSEE || iss->field[i] == VF_COMMUNE_INSEE;
        if (!skip && code && cidx >= 0 && !gf_cog_has_former(cidx, ps.del) && strcmp(ps.del, code) != 0)
            add(iss, -1, NULL, "chef_lieu_invalide");
    }
    /* validateBanIds */
    const char *idc = ps.idc ? ps.idc : ps.uid_ok ? ps.uid[0] : NULL;
    const char *idt = ps.idt ? ps.idt : ps.uid_ok ? ps.uid[1] : NULL;
    const char *ida = ps.ida ? ps.ida : ps.uid_ok ? ps.uid[2] : NULL;
    size_t nidc = ps.idc ? ps.nidc : ps.uidn[0], nidt = ps.idt ? ps.nidt : ps.uidn[1], nida = ps.ida ? ps.nida : ps.uidn[2];
    if (idc || idt || ida) {
        if (!idc) add(iss, -1, NULL, "lack_of_id_ban");
        if (!idt) add(iss, -1, NULL, "lack_of_id_ban");
        if (!ida && !(ps.has_numero && ps.numero == 99999)) add(iss, -1, NULL, "lack_of_id_ban");
    }

    if (out) {
        memset(out, 0, sizeof *out);
        out->has_numero = ps.has_numero;
        out->numero = ps.numero;
        out->has_voie = ps.voie != NULL;
        out->voie_norm_hash = vh;
        out->voie_exact_hash = ps.voie ? gf_vhash(ps.voie, ps.voie_n, GF_VHASH0) : 0;
        /* getVoieIdentifier: normalize(voie) # codeVoie */
        uint64_t h = gf_vhash(&vh, sizeof vh, GF_VHASH0);
        h = ps.cle_voie_ok ? gf_vhash(ps.cle_voie, strlen(ps.cle_voie), h) : gf_vhash("\1undefined", 10, h);
        out->voie_ident_hash = h;
        /* getNumeroIdentifier: numero # suffixe # normalize(voie) # commune_deleguee_insee */
        uint64_t nh = ps.has_numero ? gf_vhash(&ps.numero, sizeof ps.numero, GF_VHASH0) : gf_vhash("\1u", 2, GF_VHASH0);
        nh = gf_vhash("#", 1, nh);
        nh = ps.suffixe ? gf_vhash(ps.suffixe, ps.suffixe_n, nh) : gf_vhash("\1u", 2, nh);
        nh = gf_vhash("#", 1, nh);
        nh = gf_vhash(&vh, sizeof vh, nh);
        nh = ps.del_ok ? gf_vhash(ps.del, strlen(ps.del), nh) : gf_vhash("\1u", 2, nh);
        out->numero_ident_hash = nh;
        out->id_commune = idc; out->n_commune = idc ? nidc : 0;
        out->id_toponyme = idt; out->n_toponyme = idt ? nidt : 0;
        out->id_adresse = ida; out->n_adresse = ida ? nida : 0;
        out->has_lieudit = ps.lieudit != NULL;
        out->lieudit_hash = ps.lieudit ? gf_vhash(ps.lieudit, ps.lieudit_n, GF_VHASH0) : 0;
    }
}

const char *gf_vposition_canon(const char *v, size_t n)
{
    int k = position_match(v, n);
    return k < 0 ? NULL : positions[k];
}

int gf_vproj_legal(gf_vproj *p, double lon, double lat, double xy[2]) { return legal_proj(p, lon, lat, xy); }
int gf_vuuid_v4(const char *s, size_t n) { return is_uuid_v4(s, n); }
