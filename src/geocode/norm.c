/* Text normalisation shared by the index and the queries: the same function
 * runs on both sides, so whatever it merges ("R." and "Rue", "St" and
 * "Saint", "l'Église" and "Eglise") matches exactly, and the fuzzy matcher
 * only has to absorb real typos. */
#include <string.h>

#include "geocode/gc.h"

/* Latin-1 supplement U+00C0..U+00FF folded to ASCII (lower case); "" = separator. */
static const char *const latin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y"};

size_t gc_fold(const char *p, size_t n, char *out, size_t outsz)
{
    size_t k = 0;
    int sep = 1; /* last byte written is a blank (or nothing yet) */
    if (outsz == 0) return 0;
    for (size_t i = 0; i < n && k + 3 < outsz; i++) {
        unsigned char c = (unsigned char)p[i];
        const char *rep = NULL;
        char one[2] = {0, 0};
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z') { one[0] = (char)(c + 32); rep = one; }
            else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) { one[0] = (char)c; rep = one; }
        } else if (c == 0xC3 && i + 1 < n && ((unsigned char)p[i + 1] & 0xC0) == 0x80) {
            unsigned char d = (unsigned char)p[++i];
            unsigned cp = 0xC0u + (d & 0x3Fu);
            if (cp >= 0xC0) rep = latin1[cp - 0xC0];
        } else if (c == 0xC5 && i + 1 < n && ((unsigned char)p[i + 1] == 0x92 || (unsigned char)p[i + 1] == 0x93)) {
            i++;
            rep = "oe";
        } else if (c >= 0xC0) {
            /* other multi-byte sequences: skip the continuation bytes, act as a blank */
            while (i + 1 < n && ((unsigned char)p[i + 1] & 0xC0) == 0x80) i++;
        }
        if (rep && rep[0]) {
            for (const char *r = rep; *r; r++) out[k++] = *r;
            sep = 0;
        } else if (!sep) {
            out[k++] = ' ';
            sep = 1;
        }
    }
    while (k && out[k - 1] == ' ') k--;
    out[k] = 0;
    return k;
}

/* Abbreviations (folded form) and their expansion. Street types first: the
 * matcher needs to know them (a number before a street type is a house
 * number). */
/* lengths precomputed: these tables are scanned for every word of every query */
#define W(a, f, t) {a, f, t, sizeof(a) - 1, sizeof(f) - 1}
static const struct { const char *abbr, *full; int type; unsigned char al, fl; } words[] = {
    /* sorted by abbr (byte order): binary search */
    W("adj", "adjudant", 0), W("al", "allee", 1), W("all", "allee", 1), W("allee", "allee", 1),
    W("allees", "allees", 1), W("av", "avenue", 1), W("ave", "avenue", 1), W("avenue", "avenue", 1),
    W("bd", "boulevard", 1), W("bld", "boulevard", 1), W("blvd", "boulevard", 1), W("boul", "boulevard", 1),
    W("boulevard", "boulevard", 1), W("carrefour", "carrefour", 1), W("cdt", "commandant", 0),
    W("ch", "chemin", 1), W("chau", "chaussee", 0), W("chaussee", "chaussee", 1), W("che", "chemin", 1),
    W("chem", "chemin", 1), W("chemin", "chemin", 1), W("cite", "cite", 1), W("clos", "clos", 1),
    W("cne", "capitaine", 0), W("col", "colonel", 0), W("contour", "contour", 1), W("cote", "cote", 1),
    W("cour", "cour", 1), W("cours", "cours", 1), W("crs", "cours", 1), W("digue", "digue", 1),
    W("doc", "docteur", 0), W("dom", "domaine", 1), W("domaine", "domaine", 1), W("dr", "docteur", 0),
    W("esp", "esplanade", 1), W("esplanade", "esplanade", 1), W("faubourg", "faubourg", 1),
    W("fbg", "faubourg", 1), W("ferme", "ferme", 1), W("fg", "faubourg", 1), W("gal", "general", 0),
    W("galerie", "galerie", 1), W("gen", "general", 0), W("ham", "hameau", 1), W("hameau", "hameau", 1),
    W("hlm", "hlm", 1), W("imp", "impasse", 1), W("impasse", "impasse", 1), W("ld", "lieu dit", 1),
    W("lieu dit", "lieu dit", 1), W("lot", "lotissement", 1), W("lotiss", "lotissement", 1),
    W("lotissement", "lotissement", 1), W("lt", "lieutenant", 0), W("mail", "mail", 1), W("mal", "marechal", 0),
    W("mar", "marechal", 0), W("mgr", "monseigneur", 0), W("montee", "montee", 1), W("mte", "montee", 1),
    W("nd", "notre dame", 0), W("ndame", "notre dame", 0), W("parc", "parc", 1), W("parvis", "parvis", 1),
    W("pass", "passage", 1), W("passage", "passage", 1), W("pdt", "president", 0), W("pl", "place", 1),
    W("place", "place", 1), W("pont", "pont", 1), W("port", "port", 1), W("prof", "professeur", 0),
    W("prom", "promenade", 1), W("promenade", "promenade", 1), W("qu", "quai", 1), W("quai", "quai", 1),
    W("quartier", "quartier", 1), W("r", "rue", 1), W("rd", "route departementale", 0),
    W("rdpt", "rond point", 1), W("res", "residence", 1), W("resid", "residence", 1),
    W("residence", "residence", 1), W("rle", "ruelle", 1), W("rn", "route nationale", 0),
    W("rocade", "rocade", 1), W("route", "route", 1), W("rpt", "rond point", 1), W("rt", "route", 1),
    W("rte", "route", 1), W("rue", "rue", 1), W("ruelle", "ruelle", 1), W("sent", "sentier", 1),
    W("sente", "sente", 1), W("sentier", "sentier", 1), W("sgt", "sergent", 0), W("sq", "square", 1),
    W("square", "square", 1), W("st", "saint", 0), W("ste", "sainte", 0), W("stes", "saintes", 0),
    W("sts", "saints", 0), W("tra", "traverse", 1), W("traverse", "traverse", 1), W("vc", "voie communale", 1),
    W("venelle", "venelle", 1), W("villa", "villa", 1), W("village", "village", 1), W("vla", "villa", 1),
    W("voie", "voie", 1), W("za", "za", 1), W("zac", "zac", 1), W("zi", "zi", 1),
};

#define A(a) {a, sizeof(a) - 1}
static const struct { const char *w; size_t l; } articles[] = {A("le"), A("la"), A("les"), A("l"), A("de"), A("du"), A("des"),
                                                               A("d"), A("au"), A("aux"), A("a"), A("en"), A("et")};

static int find_word(const char *w, size_t n)
{
    int lo = 0, hi = (int)(sizeof words / sizeof words[0]) - 1;
    while (lo <= hi) {
        int m = (lo + hi) / 2;
        size_t l = words[m].al < n ? words[m].al : n;
        int c = memcmp(words[m].abbr, w, l);
        if (c == 0) c = words[m].al < n ? -1 : words[m].al > n ? 1 : 0;
        if (c == 0) return m;
        if (c < 0) lo = m + 1;
        else hi = m - 1;
    }
    return -1;
}

const char *gc_word(const char *w, size_t n, size_t *outn)
{
    if (n <= 3)
        for (size_t i = 0; i < sizeof articles / sizeof articles[0]; i++)
            if (articles[i].l == n && memcmp(articles[i].w, w, n) == 0) return NULL;
    int k = find_word(w, n);
    if (k >= 0) {
        *outn = words[k].fl;
        return words[k].full;
    }
    *outn = n;
    return w;
}

int gc_is_street_type(const char *w, size_t n)
{
    int k = find_word(w, n);
    return k >= 0 && words[k].type;
}

size_t gc_skeleton(const char *f, size_t n, char *out, size_t outsz, size_t *type_end, int expand)
{
    size_t k = 0;
    *type_end = 0;
    if (outsz == 0) return 0;
    for (size_t i = 0, w = 0; i < n; w++) {
        size_t j = i;
        while (j < n && f[j] != ' ') j++;
        const char *p = f + i;
        size_t l = j - i;
        int t = find_word(p, l);
        if (t >= 0 && words[t].type) {
            if (expand) { p = words[t].full; l = words[t].fl; }
        } else {
            t = -1;
        }
        for (size_t c = 0; c < l && k + 1 < outsz; c++)
            if (p[c] != ' ') out[k++] = p[c];
        if (w == 0 && t >= 0) *type_end = k;
        i = j + 1;
    }
    out[k] = 0;
    return k;
}

size_t gc_type_prefix(const char *s, size_t n, const char *full, size_t fl)
{
    size_t best = 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (!words[i].type || words[i].fl != fl || memcmp(words[i].full, full, fl) != 0) continue;
        size_t al = words[i].al;
        if (al > best && al <= n && memcmp(words[i].abbr, s, al) == 0 && !memchr(words[i].abbr, ' ', al)) best = al;
    }
    if (fl > best && fl <= n && memcmp(full, s, fl) == 0) best = fl;
    return best;
}

int gc_suffix_norm(const char *w, size_t n, char out[16])
{
#define S(a, b) {a, b, sizeof(a) - 1}
    static const struct { const char *in, *out; size_t l; } sfx[] = {
        S("quinquies", "qui"), S("quater", "qua"), S("sexies", "sex"), S("quinq", "qui"), S("quat", "qua"),
        S("bis", "bis"), S("ter", "ter"), S("qua", "qua"), S("qui", "qui"), S("sex", "sex"),
    };
#undef S
    if (n == 0) return 0;
    /* a repetition word, optionally followed by an entrance letter or
     * digit ("bis a" written "bisa") */
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        size_t l = sfx[i].l;
        if (n < l || n > l + 2 || memcmp(sfx[i].in, w, l) != 0) continue;
        size_t rest = n - l;
        int ok = 1;
        for (size_t k = l; k < n; k++) ok &= (w[k] >= 'a' && w[k] <= 'z') || (w[k] >= '0' && w[k] <= '9');
        if (!ok || (rest == 2 && !(w[l + 1] >= '0' && w[l + 1] <= '9'))) continue;
        memcpy(out, sfx[i].out, 3); /* every canonical form has 3 letters */
        memcpy(out + 3, w + l, rest);
        out[3 + rest] = 0;
        return 1;
    }
    /* a letter, or a letter and a digit ("a1"), as BAL entrance suffixes */
    if (n >= 1 && n <= 2 && w[0] >= 'a' && w[0] <= 'z' && (n == 1 || (w[1] >= '0' && w[1] <= '9'))) {
        memcpy(out, w, n);
        out[n] = 0;
        return 1;
    }
    return 0;
}

size_t gf_gc_normalize(const char *p, size_t n, char *out, size_t outsz)
{
    char tmp[1024];
    size_t fl = gc_fold(p, n, tmp, sizeof tmp);
    size_t k = 0;
    if (outsz == 0) return 0;
    for (size_t i = 0; i < fl;) {
        size_t j = i;
        while (j < fl && tmp[j] != ' ') j++;
        size_t wl;
        const char *w = gc_word(tmp + i, j - i, &wl);
        if (w && k + wl + 2 < outsz) {
            if (k) out[k++] = ' ';
            memcpy(out + k, w, wl);
            k += wl;
        }
        i = j + 1;
    }
    out[k] = 0;
    return k;
}

int gc_osa(const char *a, int la, const char *b, int lb, int k)
{
    /* Bounded by k: rows only need the diagonal band |i - j| <= k, and the
     * computation stops once a whole row exceeds k. Names are short (< 64
     * chars) so three rows on the stack suffice. */
    enum { M = 96 };
    if (la > M - 1) la = M - 1;
    if (lb > M - 1) lb = M - 1;
    if (la - lb > k || lb - la > k) return k + 1;
    int r0[M], r1[M], r2[M];
    int *pp = r0, *p = r1, *c = r2;
    const int big = k + 1;
    for (int j = 0; j <= lb; j++) p[j] = j <= k ? j : big;
    for (int i = 1; i <= la; i++) {
        int lo = i - k > 1 ? i - k : 1, hi = i + k < lb ? i + k : lb;
        c[0] = i <= k ? i : big;
        if (lo > 1) c[lo - 1] = big;
        int rowmin = c[0];
        for (int j = lo; j <= hi; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = p[j - 1] + cost;
            if (p[j] + 1 < v) v = p[j] + 1;
            if (c[j - 1] + 1 < v) v = c[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v) v = pp[j - 2] + 1;
            if (v > big) v = big;
            c[j] = v;
            if (v < rowmin) rowmin = v;
        }
        if (hi < lb) c[hi + 1] = big;
        if (rowmin > k) return big;
        int *t = pp; pp = p; p = c; c = t;
    }
    return p[lb] <= k ? p[lb] : big;
}
