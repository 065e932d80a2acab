/* Private layout of the geocoding index and the text helpers shared by the
 * builder, the matcher and the stages. Every array is flat and refers to the
 * others by index or by offset into one string pool, so that the same
 * structure is either malloc'd (built) or points into a mapped file. */
#ifndef GF_GEOCODE_GC_H
#define GF_GEOCODE_GC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "geoflux/geocode.h"

#define GC_NONE UINT32_MAX
#define GC_E7 1e7 /* positions are int32 degrees * 1e7 (1 cm) */

typedef struct gc_commune {
    char insee[8];
    uint32_t name;      /* display name (pool) */
    uint32_t nname;     /* normalised name (pool) */
    uint32_t postcode;  /* first postcode known (pool, "" none) */
    uint32_t next_name; /* next commune with the same normalised name, GC_NONE */
    int32_t lon, lat;   /* INT32_MIN: no position */
    uint32_t naddr;
} gc_commune;

typedef struct gc_street {
    uint32_t commune;
    uint32_t name;      /* display name */
    uint32_t nname;     /* normalised name */
    uint32_t postcode;  /* pool, "" unknown */
    uint32_t addr0, naddr;
    int32_t lon, lat;   /* INT32_MIN: none */
    uint16_t nlen;      /* strlen of nname */
    uint16_t tstart;    /* offset of the name after its leading street type ("rue "), 0 if none */
    uint8_t kind;       /* GC_K_STREET, GC_K_PLACE or GC_K_LIEUDIT */
    uint8_t pad[3];
    uint32_t oldcity, oldcitycode; /* commune déléguée name and INSEE code (pool, "" none) */
} gc_street;

/* Kinds of gc_street. A lieu-dit complement (lieudit_complement_nom of a
 * BAL, nom_ld of the BAN) that numbered addresses of other streets name is
 * GC_K_LIEUDIT: its addr0/naddr then index ix->ld_addrs, the indices of
 * those addresses sorted by number and suffix, so that "12 Le Paradis" finds
 * the 12 of the street that lies there. Read them through gc_street_addr(). */
enum { GC_K_STREET = 0, GC_K_PLACE = 1, GC_K_LIEUDIT = 2 };

typedef struct gc_addr {
    uint32_t street;
    int32_t num;
    uint32_t suffix; /* pool, normalised ("bis", "a"), "" none */
    uint32_t cle;    /* pool, "" none */
    int32_t lon, lat;
} gc_addr;

/* Another name of a commune: a former commune (commune déléguée of the
 * address files, La Poste's ligne_5 hamlet or former commune). */
typedef struct gc_alias {
    uint32_t nname;   /* normalised (pool) */
    uint32_t commune;
} gc_alias;

struct gf_gc_index {
    /* arrays (owned when built, into the mapping when loaded) */
    gc_commune *communes; uint32_t ncommunes;
    gc_street *streets; uint32_t nstreets;
    gc_addr *addrs; uint32_t naddrs;
    char *pool; uint64_t poollen;
    uint32_t *h_insee; uint32_t h_insee_cap;   /* commune idx + 1, 0 empty */
    uint32_t *h_street; uint32_t h_street_cap; /* street idx + 1 */
    uint32_t *h_cname; uint32_t h_cname_cap;   /* first commune idx + 1 with that name */
    uint64_t *postcodes; uint32_t npostcodes;  /* (postcode << 32) | commune, sorted */
    gc_alias *aliases; uint32_t naliases;      /* sorted by name, then commune */
    uint64_t *tri_keys; uint32_t *tri_vals; uint32_t ntri; /* ((commune << 24 | trigram) sorted, street */
    uint32_t *ld_addrs; uint32_t nld;          /* addresses of the GC_K_LIEUDIT places (addr idx) */
    uint64_t rows_read, rows_rejected;         /* of gf_gc_index_build(), not saved */
    uint32_t *grid_start; uint32_t *grid_items; /* reverse grid: items are addr idx, or naddrs + street idx */
    uint32_t ngrid_items;
    double g_lon0, g_lat0, g_cell; uint32_t g_nx, g_ny;
    _Atomic(struct gc_prefix *) prefix;        /* prefix.c's name-sorted tables, built on first use */
    /* storage */
    void *map; size_t maplen; /* loaded: the mapping */
    int owned;                /* built: arrays are malloc'd */
};

struct gf_gc_scratch {
    const gf_gc_index *ix;
    uint16_t *tri_count; /* per street */
    uint32_t *touched; size_t ntouched, touched_cap;
    int slot;                               /* the result being filled */
    char name[GF_GC_MAX_RESULTS][256];      /* "12 bis Rue X" of each result */
    char sid[GF_GC_MAX_RESULTS][48];        /* a street result's id ("35047_0380") */
};

/* ---- text (norm.c) ---- */
/* Folds UTF-8 (or ASCII) to lower-case ASCII words separated by one blank. */
size_t gc_fold(const char *p, size_t n, char *out, size_t outsz);
/* Normalised word for a folded word: abbreviation expanded, or NULL when it
 * is an article to drop. Returns w itself when unchanged. */
const char *gc_word(const char *w, size_t n, size_t *outn);
/* 1 when the folded word is a street type (rue, avenue, ..., or its abbreviation). */
int gc_is_street_type(const char *w, size_t n);
/* The skeleton of a folded name: its words without blanks, articles kept,
 * street types spelt out when expand ("r des charmilles" ->
 * "ruedescharmilles"), so that a blank moved, lost or added inside the name
 * costs nothing. *type_end: length of the leading street type (0: none). */
size_t gc_skeleton(const char *folded, size_t n, char *out, size_t outsz, size_t *type_end, int expand);
/* Length of the longest spelling of street type `full` (an abbreviation or
 * the word) that s starts with, 0 if none: "impgwilen" starts with "imp". */
size_t gc_type_prefix(const char *s, size_t n, const char *full, size_t fl);
/* Normalised suffix ("BIS" -> "bis", "quater" -> "qua", "B" -> "b"); 0 if not a suffix. */
int gc_suffix_norm(const char *w, size_t n, char out[16]);
/* Optimal string alignment distance (Damerau-Levenshtein with adjacent
 * transpositions), or k + 1 as soon as it must exceed k. */
int gc_osa(const char *a, int la, const char *b, int lb, int k);
/* FNV-1a */
static inline uint64_t gc_hash(const char *p, size_t n, uint64_t h)
{
    if (!h) h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 1099511628211ULL; }
    return h;
}

/* Trigrams of " name " (blank-padded), as 24-bit integers; returns how many (<= max). */
static inline size_t gc_trigrams(const char *s, size_t l, uint32_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < l && n < max; i++) {
        uint32_t c0 = i == 0 ? ' ' : (unsigned char)s[i - 1], c1 = (unsigned char)s[i];
        uint32_t c2 = i + 1 < l ? (unsigned char)s[i + 1] : ' ';
        out[n++] = (c0 << 16) | (c1 << 8) | c2;
    }
    return n;
}

/* ---- around a commune (context.c) ---- */
/* "35, Ille-et-Vilaine, Bretagne" for an INSEE code ("" unknown); static. */
const char *gc_context(const char *insee);
/* "Paris", "Lyon" or "Marseille" for one of their arrondissements, else NULL. */
const char *gc_arrondissement_city(const char *insee);
/* The whole city's INSEE code (75056, 69123, 13055) for an arrondissement, else NULL. */
const char *gc_arrondissement_citycode(const char *insee);
/* "Paris 15e Arrondissement" for 75115 (result_district), else NULL. */
const char *gc_arrondissement_district(const char *insee);
/* The INSEE codes of the arrondissements of the city that name (normalised:
 * "paris", "lyon", "marseille") or code (75056, 69123, 13055) designates:
 * writes up to max of them, returns how many (0: not one of those cities). */
int gc_arrondissements(const char *name, size_t n, char codes[][6], int max);
/* EPSG code of the legal projected CRS where the commune lies (2154 in
 * metropolitan France), 0 when none is known. */
int gc_legal_epsg(const char *insee);

/* ---- index lookups (index.c) ---- */
uint32_t gc_find_insee(const gf_gc_index *ix, const char *insee, size_t n);
uint32_t gc_find_street(const gf_gc_index *ix, uint32_t commune, const char *nname, size_t n);
/* Every street, place or lieu-dit of commune c named nname (homonyms: one
 * per commune déléguée, a lieu-dit named like a street), lowest index
 * first: writes up to max of them, returns how many. */
int gc_find_streets(const gf_gc_index *ix, uint32_t c, const char *nname, size_t n, uint32_t *out, int max);
uint32_t gc_find_cname(const gf_gc_index *ix, const char *nname, size_t n);
/* Communes having nname as another name: writes up to max of them, returns how many. */
int gc_find_alias(const gf_gc_index *ix, const char *nname, size_t n, uint32_t *out, int max);
static inline const char *gc_str(const gf_gc_index *ix, uint32_t off) { return ix->pool + off; }
/* The i-th address (i < sp->naddr, by number and suffix) of a street or a lieu-dit. */
static inline const gc_addr *gc_street_addr(const gf_gc_index *ix, const gc_street *sp, uint32_t i)
{
    return sp->kind == GC_K_LIEUDIT ? &ix->addrs[ix->ld_addrs[sp->addr0 + i]] : &ix->addrs[sp->addr0 + i];
}

/* ---- prefix search (prefix.c) ---- */
/* Most streets of a sorted range a prefix lookup looks at (its cost bound,
 * per keystroke of an autocompletion). */
#define GC_PREFIX_SCAN 256
/* The same bound for a whole name looked for in the whole index (a query
 * naming no commune): every homonym of a common name ("rue de la gare"),
 * so that the most important commune's is among them. */
#define GC_WHOLE_SCAN 8192
typedef struct gc_prefix gc_prefix;
/* Streets (with a position) whose normalised name starts with p[0..pl) and
 * whose leading street type is type[0..typel) (typel 0: after any type, or
 * none), in commune (GC_NONE: any), into out[0..max), in alphabetical
 * order; at most max names are looked at. Returns how many, -1
 * when the tables could not be allocated. Thread-safe. */
int gc_prefix_streets(const gf_gc_index *ix, uint32_t commune, const char *type, size_t typel, const char *p,
                      size_t pl, uint32_t *out, int max);
void gc_prefix_free(gc_prefix *p);

#endif
